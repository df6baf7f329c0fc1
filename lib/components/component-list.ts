import * as path from 'path';
import {
  ClusterModel, HOST_ROLES, Host, HostRole, PATHS, PORTS, ReleaseProgram, ResolvedRelease, releaseProviding,
} from '../model';
import { CertId } from '../pki';

/**
 * The one table of every service kubesmith runs on the hosts, built like the certificate table: which roles run
 * it, in which order, from which binaries, in which directories, as which identity. Host constructs, install.sh,
 * the topology, the roll-out and the restart plan read it; adding a component is a row here plus a construct in
 * hosts/.
 */

export type ComponentId =
  | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler'
  | 'etcd' | 'etcd-snapshot'
  | 'nginx' | 'keepalived'
  | 'kubelet' | 'kubelet-bootstrap-cleanup' | 'kube-proxy' | 'flanneld' | 'containerd'
  | 'cert-check';

/** Directories install.sh makes, in the order it makes them. */
export const DIRECTORIES = {
  etcdBin: { path: PATHS.etcdBin, mode: 0o755, enforceMode: false },
  etcdCfg: { path: PATHS.etcdCfg, mode: 0o755, enforceMode: false },
  etcdSsl: { path: PATHS.etcdSsl, mode: 0o755, enforceMode: false },
  // etcd refuses a data directory others can read; keep its parent closed too.
  etcdData: { path: path.posix.dirname(PATHS.etcdData), mode: 0o700, enforceMode: true },
  // Snapshots hold every Secret of the cluster.
  etcdSnapshots: { path: PATHS.etcdSnapshots, mode: 0o700, enforceMode: true },
  k8sBin: { path: PATHS.k8sBin, mode: 0o755, enforceMode: false },
  k8sCfg: { path: PATHS.k8sCfg, mode: 0o755, enforceMode: false },
  k8sSsl: { path: PATHS.k8sSsl, mode: 0o755, enforceMode: false },
  k8sLogs: { path: PATHS.k8sLogs, mode: 0o755, enforceMode: false },
  cniBin: { path: PATHS.cniBin, mode: 0o755, enforceMode: false },
  cniConf: { path: PATHS.cniConf, mode: 0o755, enforceMode: false },
  nginxLogs: { path: PATHS.nginxLogs, mode: 0o755, enforceMode: false },
  kubesmithBin: { path: PATHS.kubesmithBin, mode: 0o755, enforceMode: false },
  kubesmithCfg: { path: PATHS.kubesmithCfg, mode: 0o755, enforceMode: false },
} as const;
export type DirectoryId = keyof typeof DIRECTORIES;

export interface HostDirectory {
  readonly path: string;
  readonly mode: number;
  /** Also fix the mode of an existing directory; otherwise an existing one is left as it is (e.g. a package's). */
  readonly enforceMode: boolean;
}

/** A component that dials the apiserver with a client certificate of the certificate table. */
export interface KubeconfigSpec {
  readonly path: string;
  /** The certificate row it authenticates with; its common name is the kubeconfig's user. */
  readonly identity: CertId;
  /** Its own master's apiserver ('local', so it keeps working while the VIP moves) or the cluster endpoint. */
  readonly server: 'local' | 'endpoint';
}

export interface ComponentSpec {
  readonly id: ComponentId;
  /** What it is, as its unit's Description says. */
  readonly description: string;
  /** systemd unit, e.g. 'etcd.service'. */
  readonly unit: string;
  /** Hosts with any of these roles run it ... */
  readonly roles: readonly HostRole[];
  /** ... or only the first of them. @default 'every' */
  readonly placement?: 'every' | 'first';
  /** Start order: lower first; install.sh enables and starts in this order, equal ones by unit name. */
  readonly order: number;
  /** Absolute paths of the binaries the unit runs; install.sh reports the missing ones. */
  readonly binaries: readonly string[];
  /** Where to get the binaries, shown when they are missing. @default the release archives that hold them */
  readonly source: (model: ClusterModel) => string;
  readonly directories: readonly DirectoryId[];
  /** The tutorial's option file: one variable holding every flag, expanded in ExecStart. */
  readonly options?: { readonly file: string; readonly variable: string };
  readonly kubeconfig?: KubeconfigSpec;
  /**
   * Files the service reads that its unit file does not name (e.g. the config of a packaged nginx).
   * Files named by the unit, and files named by those, are found by following their paths.
   * @default none
   */
  readonly config?: readonly string[];
  /**
   * The program re-reads `config` (and the files those name) on `systemctl reload` (its unit's ExecReload, e.g.
   * SIGHUP) without dropping connections: a change to them alone reloads it. A changed unit or program restarts it.
   * @default false: every change restarts it
   */
  readonly reload?: boolean;
  /**
   * State the program keeps, moved aside (never deleted) once the host no longer runs it: a member removed from etcd
   * must not come back later with its old data.
   * @default none
   */
  readonly data?: string;
  /**
   * It keeps a cache of the API filled by watches, which a restore of etcd makes stale: the restore restarts it.
   * @default false
   */
  readonly watchesApi?: boolean;
  /** The unit file comes from an OS package (nginx, keepalived), so the bundle holds none. @default false */
  readonly packaged?: boolean;
  /** How the topology names it on a host; none: not drawn. */
  readonly label?: (model: ClusterModel, host: Host) => string;
}

const KUBERNETES_DIRS: readonly DirectoryId[] = ['k8sBin', 'k8sCfg', 'k8sSsl', 'k8sLogs'];

/** The CNI plugins a pod sandbox runs: flannel delegates to bridge with host-local IPAM; containerd adds loopback. */
export const FLANNEL_CNI_PLUGINS = ['flannel', 'bridge', 'host-local', 'portmap', 'loopback'] as const;

type Row = Omit<ComponentSpec, 'id' | 'unit' | 'binaries' | 'source' | 'directories'> & Partial<ComponentSpec>;

/** A Kubernetes server binary started the tutorial's way: option file and unit. */
function kubernetes(id: ComponentId, variable: string, row: Omit<Row, 'options'>): Row {
  return {
    binaries: [`${PATHS.k8sBin}/${id}`],
    directories: KUBERNETES_DIRS,
    options: { file: `${PATHS.k8sCfg}/${id}`, variable },
    ...row,
  };
}

/** Every component, in the order hosts show them: control plane, etcd, load balancer, node. */
const ROWS: { readonly [I in ComponentId]: Row } = {
  'kube-apiserver': kubernetes('kube-apiserver', 'KUBE_APISERVER_OPTS', {
    description: 'Kubernetes API Server',
    roles: ['master'],
    order: 40,
    label: (model) => `kube-apiserver :${model.apiServerPort}`,
  }),
  'kube-controller-manager': kubernetes('kube-controller-manager', 'KUBE_CONTROLLER_MANAGER_OPTS', {
    description: 'Kubernetes Controller Manager',
    roles: ['master'],
    order: 50,
    kubeconfig: { path: `${PATHS.k8sCfg}/kube-controller-manager.kubeconfig`, identity: 'kube-controller-manager', server: 'local' },
    watchesApi: true,
    label: () => 'controller-manager',
  }),
  'kube-scheduler': kubernetes('kube-scheduler', 'KUBE_SCHEDULER_OPTS', {
    description: 'Kubernetes Scheduler',
    roles: ['master'],
    order: 50,
    kubeconfig: { path: `${PATHS.k8sCfg}/kube-scheduler.kubeconfig`, identity: 'kube-scheduler', server: 'local' },
    watchesApi: true,
    label: () => 'scheduler',
  }),
  'etcd': {
    description: 'etcd key-value store',
    roles: ['etcd'],
    order: 10,
    binaries: [`${PATHS.etcdBin}/etcd`, `${PATHS.etcdBin}/etcdctl`],
    directories: ['etcdBin', 'etcdCfg', 'etcdSsl', 'etcdData'],
    data: PATHS.etcdData,
    label: () => `etcd :${PORTS.etcdClient}`,
  },
  // A timer, not a daemon: install.sh enables and starts the timer, which starts etcd-snapshot.service on schedule.
  'etcd-snapshot': {
    description: 'etcd snapshot of this member, verified and pruned',
    unit: 'etcd-snapshot.timer',
    roles: ['etcd'],
    order: 15,
    binaries: [`${PATHS.etcdBin}/etcdctl`, `${PATHS.etcdBin}/etcdutl`],
    directories: ['etcdSnapshots'],
  },
  'nginx': {
    description: 'nginx L4 load balancer in front of the kube-apiservers',
    roles: ['lb'],
    order: 60,
    binaries: ['/usr/sbin/nginx'],
    source: () => 'OS package nginx + libnginx-mod-stream (Debian) / nginx (RHEL)',
    directories: ['nginxLogs'],
    packaged: true,
    config: [PATHS.nginxConf],
    // A reload starts new workers and lets the old ones finish their connections: watches through the VIP stay.
    reload: true,
    label: (model) => `nginx L4 :${model.loadBalancer!.port}`,
  },
  'keepalived': {
    description: 'keepalived holding the VIP for nginx',
    roles: ['lb'],
    order: 70,
    binaries: ['/usr/sbin/keepalived'],
    source: () => 'OS package keepalived',
    packaged: true,
    config: [PATHS.keepalivedConf],
    // SIGHUP re-reads the config; the VIP stays where it is unless priorities change.
    reload: true,
    label: (model, host) => `keepalived ${model.lbHosts[0] === host ? 'MASTER' : 'BACKUP'}`,
  },
  // Masters run pods' components too, tainted: they are on the pod network, as kubeadm's are.
  'kubelet': kubernetes('kubelet', 'KUBELET_OPTS', {
    description: 'Kubernetes Kubelet',
    watchesApi: true,
    roles: ['master', 'node'],
    order: 80,
    label: () => 'kubelet',
  }),
  // kubeadm join's last step: the bootstrap token leaves the node once the kubelet has its own certificate.
  'kubelet-bootstrap-cleanup': {
    description: 'Remove the bootstrap kubeconfig once the kubelet has its own certificate',
    roles: ['master', 'node'],
    order: 85,
    source: () => 'kubesmith (the script is in the bundle)',
  },
  'kube-proxy': kubernetes('kube-proxy', 'KUBE_PROXY_OPTS', {
    description: 'Kubernetes Kube-Proxy',
    roles: ['master', 'node'],
    order: 80,
    kubeconfig: { path: `${PATHS.k8sCfg}/kube-proxy.kubeconfig`, identity: 'kube-proxy', server: 'endpoint' },
    watchesApi: true,
    label: () => 'kube-proxy',
  }),
  // Masters run it too: the apiserver dials pod IPs itself (webhooks, aggregated APIs, its pod and service proxy),
  // and without a subnet a master has no route to the pod network (test/cluster showed 'network is unreachable').
  // After the kubelet: its subnet is the podCIDR of the Node the kubelet registers.
  'flanneld': {
    description: 'flanneld overlay network agent',
    roles: ['master', 'node'],
    order: 82,
    options: { file: `${PATHS.k8sCfg}/flanneld`, variable: 'FLANNEL_OPTIONS' },
    kubeconfig: { path: `${PATHS.k8sCfg}/flanneld.kubeconfig`, identity: 'flanneld', server: 'endpoint' },
    watchesApi: true,
    binaries: [`${PATHS.k8sBin}/flanneld`],
    label: () => 'flanneld',
  },
  // Pods' networks are made by the CNI plugins containerd runs.
  'containerd': {
    description: 'containerd container runtime',
    roles: ['master', 'node'],
    order: 30,
    binaries: ['/usr/local/bin/containerd', '/usr/local/bin/containerd-shim-runc-v2', '/usr/local/sbin/runc',
      ...FLANNEL_CNI_PLUGINS.map((p) => `${PATHS.cniBin}/${p}`)],
    directories: ['cniBin', 'cniConf'],
    // Read at start only (registry mirrors, the pause image, the runtime); hosts.toml files are read per pull.
    config: [PATHS.containerdConf],
    label: () => 'containerd',
  },
  // A timer, as etcd-snapshot: every host that holds certificates reports how long they stay valid.
  'cert-check': {
    description: 'Certificate expiry check of this host',
    unit: 'kubesmith-cert-check.timer',
    roles: ['master', 'node', 'etcd'],
    order: 90,
    // Its script is in the bundle; openssl, which it runs, is an OS requirement (prerequisites.ts).
    source: () => 'kubesmith (the script is in the bundle)',
    directories: ['kubesmithBin', 'kubesmithCfg'],
  },
};

/** The release archives that hold these binaries (lib/model/releases.ts), at the definition's versions. */
export function fetchedFrom(model: ClusterModel, binaries: readonly string[]): string {
  const ids = [...new Set(binaries.map((b) => releaseProviding(path.posix.basename(b))?.release.id).filter((id) => id !== undefined))];
  const files = ids.map((id) => model.releaseOf(id)).map((r) => (r.file.includes(r.version) ? r.file : `${r.file} v${r.version}`));
  return `${files.join(', ')}, fetched by dist/fetch-binaries.sh`;
}

export const COMPONENT_LIST: readonly ComponentSpec[] = (Object.keys(ROWS) as ComponentId[]).map((id) => ({
  id, unit: `${id}.service`, binaries: [], source: (model: ClusterModel) => fetchedFrom(model, ROWS[id].binaries ?? []),
  directories: [], ...ROWS[id],
}));

/** Role groups in roll-out order: etcd members first, then masters, lb hosts and nodes; one phase at a time. */
export const ROLLOUT_PHASES: readonly HostRole[] = ['etcd', 'master', 'lb', 'node'];

// The table's functions.

export function componentSpec(id: ComponentId): ComponentSpec {
  return COMPONENT_LIST.find((c) => c.id === id)!;
}

export function unitOf(id: ComponentId): string {
  return componentSpec(id).unit;
}

/** Whether `host` runs the component. */
export function runsOn(component: ComponentSpec, host: Host, model: ClusterModel): boolean {
  if (component.placement === 'first') {
    return component.roles.map((r) => model.first(r)).find((h) => h !== undefined) === host;
  }
  return component.roles.some((r) => host.has(r));
}

/** The components a host runs, in table order. */
export function componentsOn(host: Host, model: ClusterModel): ComponentSpec[] {
  return COMPONENT_LIST.filter((c) => runsOn(c, host, model));
}

/** A service install.sh enables on a host: the component's row, its source resolved. */
export interface ServiceSpec {
  readonly unit: string;
  readonly order: number;
  readonly binaries: readonly string[];
  readonly source: string;
  readonly config?: readonly string[];
  readonly reload?: boolean;
  readonly packaged?: boolean;
}

/** The service a component's construct registers on each of its hosts. */
export function serviceOf(id: ComponentId, model: ClusterModel): ServiceSpec {
  const c = componentSpec(id);
  return {
    unit: c.unit,
    order: c.order,
    binaries: c.binaries,
    source: c.source(model),
    ...(c.packaged ? { packaged: true } : {}),
    ...(c.config ? { config: c.config } : {}),
    ...(c.reload ? { reload: true } : {}),
  };
}

/** Directories install.sh makes on a host, beyond the parents of the bundle's files. */
export function hostDirectories(host: Host, model: ClusterModel): HostDirectory[] {
  const wanted = new Set(componentsOn(host, model).flatMap((c) => c.directories));
  return (Object.keys(DIRECTORIES) as DirectoryId[]).filter((d) => wanted.has(d)).map((d) => DIRECTORIES[d]);
}

/** Hosts in roll-out order, each at the first phase it belongs to, with every later phase it also belongs to. */
export function rolloutSteps(model: ClusterModel): { readonly phase: HostRole; readonly host: Host }[] {
  return ROLLOUT_PHASES.flatMap((phase) => model.withRole(phase).map((host) => ({ phase, host })));
}

/** The earliest roll-out phase of a host with these roles. */
export function rolloutRank(roles: readonly HostRole[]): number {
  return Math.min(...roles.map((r) => ROLLOUT_PHASES.indexOf(r)));
}

/** A program of a release archive, at the path a component runs it from. */
export interface FetchedBinary {
  readonly path: string;
  readonly release: ResolvedRelease;
  readonly program: ReleaseProgram;
}

/** The fetched programs these components run (the OS's, e.g. nginx, are not fetched), each path once. */
function fetchedFor(components: readonly ComponentSpec[], model: ClusterModel): FetchedBinary[] {
  const paths = [...new Set(components.flatMap((c) => c.binaries))];
  return paths.flatMap((p) => {
    const found = releaseProviding(path.posix.basename(p));
    return found ? [{ path: p, release: model.releaseOf(found.release.id), program: found.program }] : [];
  });
}

/** What dist/fetch-binaries.sh stages for each role: the programs of the components hosts with that role run. */
export function fetchedBinariesByRole(model: ClusterModel): ReadonlyMap<HostRole, FetchedBinary[]> {
  return new Map(HOST_ROLES.map((role) => [role, fetchedFor(COMPONENT_LIST.filter((c) => c.roles.includes(role)), model)]));
}

/** The fetched programs a host runs: install.sh checks each one's version. */
export function fetchedBinariesOn(host: Host, model: ClusterModel): FetchedBinary[] {
  return fetchedFor(componentsOn(host, model), model);
}

/** Where to get one binary of a service: its release archive when one holds it, else the service's source. */
export function binarySource(binary: string, service: ServiceSpec, model: ClusterModel): string {
  return releaseProviding(path.posix.basename(binary)) ? fetchedFrom(model, [binary]) : service.source;
}
