import { ResolvedAddons, ResolvedApp, resolveAddons, resolveApp } from './addons';
import { PORTS } from './constants';
import { DEFAULTS } from './defaults';
import {
  ClusterDefinition, FlannelBackend, HOST_ROLES, HostRole, KeyAlgorithm, KubeProxyMode,
} from './definition';
import { Ipv4Cidr, nthAddress, parseCidr } from './ipv4';
import { KubernetesMinor, kubernetesMinor } from '../versions/kubernetes';
import { KubernetesComponent } from '../versions/references';
import { DEFINED_RELEASES, RELEASES, ResolvedRelease, resolveRelease } from './releases';
import { ClusterDefinitionError, parsePortRange, validateDefinition } from './validation';

export interface Host {
  readonly name: string;
  readonly ip: string;
  readonly interface: string;
  /** Roles in the order of HOST_ROLES. */
  readonly roles: readonly HostRole[];
  has(role: HostRole): boolean;
}

export interface LoadBalancer {
  /** VIP address without prefix. */
  readonly vip: string;
  readonly prefix: number;
  readonly port: number;
  readonly virtualRouterId: number;
  readonly loadStreamModule: boolean;
  readonly streamModulePath: string;
}

export interface ClusterNetwork {
  readonly serviceCidr: Ipv4Cidr;
  /** First address of serviceCidr: the `kubernetes` Service. */
  readonly firstServiceIp: string;
  readonly clusterDns: string;
  readonly dnsDomain: string;
  readonly podCidr: Ipv4Cidr;
  readonly flannelBackend: FlannelBackend;
  readonly kubeProxyMode: KubeProxyMode;
  readonly nodePortRange: { readonly low: number; readonly high: number };
}

export interface UpgradeSettings {
  readonly drain: 'minor' | 'always';
  readonly drainTimeoutSeconds: number;
}

export interface EtcdSettings {
  readonly snapshots: {
    readonly enabled: boolean;
    readonly schedule: string;
    readonly keep: number;
    readonly afterSnapshot?: string;
  };
}

/** What the Kubernetes components get beyond kubesmith's settings, checked against the target minor's reference. */
export interface ComponentSettings {
  /** Sorted by name. */
  readonly featureGates: readonly (readonly [string, boolean])[];
  /** Flags by component, in the definition's order, values as strings. */
  readonly extraArgs: Readonly<Record<KubernetesComponent, readonly (readonly [string, string])[]>>;
  /** Fields merged over the component's config file. */
  readonly config: Readonly<Partial<Record<KubernetesComponent, Readonly<Record<string, unknown>>>>>;
}

export interface CertificateSettings {
  readonly subject: { readonly country?: string; readonly state?: string; readonly locality?: string };
  readonly caValidityDays: number;
  readonly validityDays: number;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly expiryCheck: { readonly enabled: boolean; readonly schedule: string; readonly textfileDirectory: string };
}

/**
 * The validated cluster with every default applied, addons and apps included. Built only through
 * `ClusterModel.fromDefinition`, which throws a ClusterDefinitionError listing every problem before anything is
 * written. Nothing reads the definition after this.
 */
export class ClusterModel {
  static fromDefinition(def: ClusterDefinition): ClusterModel {
    const issues = validateDefinition(def);
    if (issues.length > 0) throw new ClusterDefinitionError(issues);
    return new ClusterModel(def);
  }

  readonly name: string;
  readonly kubernetesVersion: string;
  /** The version facts of kubernetesVersion's minor: companions, images, cgroup v1 support. */
  readonly kubernetes: KubernetesMinor;
  readonly components: ComponentSettings;
  readonly hosts: readonly Host[];
  readonly apiServerPort: number;
  readonly auditLog: boolean;
  readonly exposeMetrics: boolean;
  readonly loadBalancer?: LoadBalancer;
  readonly network: ClusterNetwork;
  readonly certificates: CertificateSettings;
  readonly imageRegistry?: string;
  /** Every release archive the hosts' programs come from, in the release table's order, at the definition's versions. */
  readonly releases: readonly ResolvedRelease[];
  readonly addons: ResolvedAddons;
  readonly apps: readonly ResolvedApp[];
  readonly etcd: EtcdSettings;
  readonly upgrades: UpgradeSettings;
  private readonly byRole = new Map<HostRole, Host[]>();

  private constructor(def: ClusterDefinition) {
    this.name = def.name;
    this.kubernetesVersion = def.kubernetesVersion;
    this.kubernetes = kubernetesMinor(def.kubernetesVersion);
    const c = def.components ?? {};
    const args = (id: KubernetesComponent) => Object.entries(c[id]?.extraArgs ?? {}).map(([k, v]) => [k, String(v)] as const);
    this.components = {
      featureGates: Object.entries(c.featureGates ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      extraArgs: {
        'kube-apiserver': args('kube-apiserver'),
        'kube-controller-manager': args('kube-controller-manager'),
        'kube-scheduler': args('kube-scheduler'),
        kubelet: args('kubelet'),
        'kube-proxy': args('kube-proxy'),
      },
      config: Object.fromEntries((['kube-scheduler', 'kubelet', 'kube-proxy'] as const)
        .filter((id) => c[id]?.config !== undefined).map((id) => [id, c[id]!.config!])),
    };
    this.hosts = def.hosts.map((h) => {
      const roles = new Set(h.roles);
      return {
        name: h.name,
        ip: h.ip,
        interface: h.interface ?? DEFAULTS.host.interface,
        roles: HOST_ROLES.filter((r) => roles.has(r)),
        has: (role: HostRole) => roles.has(role),
      };
    });
    this.apiServerPort = def.apiServerPort ?? DEFAULTS.apiServerPort;
    this.auditLog = def.auditLog ?? DEFAULTS.auditLog;
    this.exposeMetrics = def.exposeMetrics ?? DEFAULTS.exposeMetrics;
    if (def.loadBalancer) {
      const lb = def.loadBalancer;
      const [vip, prefix] = lb.vip.split('/');
      this.loadBalancer = {
        vip,
        prefix: Number(prefix),
        port: lb.port ?? DEFAULTS.loadBalancer.port,
        virtualRouterId: lb.virtualRouterId ?? DEFAULTS.loadBalancer.virtualRouterId,
        loadStreamModule: lb.loadStreamModule ?? DEFAULTS.loadBalancer.loadStreamModule,
        streamModulePath: lb.streamModulePath ?? DEFAULTS.loadBalancer.streamModulePath,
      };
    }
    const n = def.network;
    const serviceCidr = parseCidr(n.serviceCidr)!;
    this.network = {
      serviceCidr,
      firstServiceIp: nthAddress(serviceCidr, 1),
      clusterDns: n.clusterDns ?? nthAddress(serviceCidr, DEFAULTS.network.clusterDnsOffset),
      dnsDomain: n.dnsDomain ?? DEFAULTS.network.dnsDomain,
      podCidr: parseCidr(n.podCidr)!,
      flannelBackend: n.flannelBackend ?? DEFAULTS.network.flannelBackend,
      kubeProxyMode: n.kubeProxyMode ?? DEFAULTS.network.kubeProxyMode,
      nodePortRange: parsePortRange(n.nodePortRange ?? DEFAULTS.network.nodePortRange)!,
    };
    const cert = def.certificates ?? {};
    this.certificates = {
      subject: { ...cert.subject },
      caValidityDays: cert.caValidityDays ?? DEFAULTS.certificates.caValidityDays,
      validityDays: cert.validityDays ?? DEFAULTS.certificates.validityDays,
      keyAlgorithm: cert.keyAlgorithm ?? DEFAULTS.certificates.keyAlgorithm,
      expiryCheck: {
        enabled: cert.expiryCheck?.enabled ?? DEFAULTS.certificates.expiryCheck.enabled,
        schedule: cert.expiryCheck?.schedule ?? DEFAULTS.certificates.expiryCheck.schedule,
        textfileDirectory: cert.expiryCheck?.textfileDirectory ?? DEFAULTS.certificates.expiryCheck.textfileDirectory,
      },
    };
    this.imageRegistry = def.imageRegistry;
    const snapshots = def.etcd?.snapshots ?? {};
    this.etcd = {
      snapshots: {
        enabled: snapshots.enabled ?? DEFAULTS.etcd.snapshots.enabled,
        schedule: snapshots.schedule ?? DEFAULTS.etcd.snapshots.schedule,
        keep: snapshots.keep ?? DEFAULTS.etcd.snapshots.keep,
        ...(snapshots.afterSnapshot !== undefined ? { afterSnapshot: snapshots.afterSnapshot } : {}),
      },
    };
    this.upgrades = {
      drain: def.upgrades?.drain ?? DEFAULTS.upgrades.drain,
      drainTimeoutSeconds: def.upgrades?.drainTimeoutSeconds ?? DEFAULTS.upgrades.drainTimeoutSeconds,
    };
    const b = def.binaries ?? {};
    const defined = (id: string) => (DEFINED_RELEASES as readonly string[]).includes(id) ? b[id as typeof DEFINED_RELEASES[number]] : undefined;
    const companions = this.kubernetes.companions;
    this.releases = RELEASES.map((r) => (r.id === 'kubernetes'
      ? resolveRelease(r, def.kubernetesVersion, b.mirror, b.kubernetes?.checksum)
      : resolveRelease(r, defined(r.id)?.version ?? companions[r.id as typeof DEFINED_RELEASES[number]], b.mirror, defined(r.id)?.checksum)));
    this.apps = (def.apps ?? []).map((app) => resolveApp(app, def.imageRegistry));
    this.addons = resolveAddons(def.addons ?? {}, this.apps, def.imageRegistry, this.kubernetes.images.coreDns);
  }

  /** The resolved release by id. */
  releaseOf(id: ResolvedRelease['release']['id']): ResolvedRelease {
    return this.releases.find((r) => r.release.id === id)!;
  }

  withRole(role: HostRole): Host[] {
    // Components ask per host (etcd endpoints, masters): computed once, so that stays O(hosts), not O(hosts²).
    let hosts = this.byRole.get(role);
    if (!hosts) {
      hosts = this.hosts.filter((h) => h.has(role));
      this.byRole.set(role, hosts);
    }
    return [...hosts];
  }

  /** The first host with the role, in definition order. */
  first(role: HostRole): Host | undefined {
    if (!this.byRole.has(role)) this.withRole(role);
    return this.byRole.get(role)![0];
  }

  get masters(): Host[] { return this.withRole('master'); }
  get etcdMembers(): Host[] { return this.withRole('etcd'); }
  /** Hosts that run kubelet, kube-proxy, containerd and flannel. */
  get nodes(): Host[] { return this.withRole('node'); }
  /** lb hosts in definition order; the first holds the VIP (keepalived MASTER). */
  get lbHosts(): Host[] { return this.withRole('lb'); }

  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host named "${name}" in cluster "${this.name}"`);
    return h;
  }

  /** etcd client URLs of every member, e.g. https://192.168.100.10:2379. */
  get etcdEndpoints(): string[] {
    return this.etcdMembers.map((h) => `https://${h.ip}:${PORTS.etcdClient}`);
  }

  /** Address nodes and operators use: the VIP's L4 port, or the first master without a load balancer. */
  get apiServerEndpoint(): string {
    return this.loadBalancer
      ? `https://${this.loadBalancer.vip}:${this.loadBalancer.port}`
      : `https://${this.masters[0].ip}:${this.apiServerPort}`;
  }

  /** The apiserver on the same master, for its controller-manager, scheduler and admin.kubeconfig. */
  get localApiServerUrl(): string {
    return `https://127.0.0.1:${this.apiServerPort}`;
  }
}
