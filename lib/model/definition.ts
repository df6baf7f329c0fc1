/**
 * The typed cluster definition a user writes in main.ts. Everything else is
 * derived from it: the validated model, the PKI, host bundles and addon charts.
 * Defaults live in DEFAULTS (./defaults.ts); each optional field names its entry there.
 */

/** What a host does. A host may carry several roles. */
export type HostRole = 'master' | 'etcd' | 'node' | 'lb';
export const HOST_ROLES: readonly HostRole[] = ['master', 'etcd', 'node', 'lb'];

export interface HostDefinition {
  /** Host name; also the Kubernetes node name. RFC 1123 subdomain, lowercase. */
  readonly name: string;
  /** IPv4 address the host's components bind to and advertise. */
  readonly ip: string;
  /**
   * Network interface that carries `ip` (keepalived binds the VIP to it).
   * @default DEFAULTS.host.interface
   */
  readonly interface?: string;
  /**
   * Roles of this host. Masters and nodes both run the kubelet, kube-proxy and flanneld (masters are on the pod
   * network, for webhooks and aggregated APIs); a master registers with the node-role.kubernetes.io/control-plane
   * NoSchedule taint unless it has the node role too.
   */
  readonly roles: readonly HostRole[];
}

export interface LoadBalancerDefinition {
  /** Virtual IP with prefix length, e.g. '192.168.100.50/24'. Held by keepalived on the lb hosts. */
  readonly vip: string;
  /**
   * Port nginx listens on (L4) on the lb hosts. Must differ from the apiserver port,
   * since lb hosts are usually masters too.
   * @default DEFAULTS.loadBalancer.port
   */
  readonly port?: number;
  /**
   * VRRP virtual_router_id shared by the lb hosts; unique per L2 segment.
   * @default DEFAULTS.loadBalancer.virtualRouterId
   */
  readonly virtualRouterId?: number;
  /**
   * Emit `load_module` for the nginx stream module (Debian's nginx needs it;
   * builds with a static stream module reject it).
   * @default DEFAULTS.loadBalancer.loadStreamModule
   */
  readonly loadStreamModule?: boolean;
  /**
   * The stream module file `load_module` names, e.g. '/usr/lib64/nginx/modules/ngx_stream_module.so'
   * (RHEL's nginx-mod-stream).
   * @default DEFAULTS.loadBalancer.streamModulePath
   */
  readonly streamModulePath?: string;
}

export type FlannelBackend = 'vxlan' | 'host-gw';
export const FLANNEL_BACKENDS: readonly FlannelBackend[] = ['vxlan', 'host-gw'];
export type KubeProxyMode = 'ipvs' | 'iptables';
export const KUBE_PROXY_MODES: readonly KubeProxyMode[] = ['ipvs', 'iptables'];

export interface NetworkDefinition {
  /** Service cluster IP range, e.g. '10.0.0.0/24'. Its first address is the `kubernetes` Service. */
  readonly serviceCidr: string;
  /**
   * Cluster DNS Service IP, inside serviceCidr.
   * @default the address DEFAULTS.network.clusterDnsOffset of serviceCidr (the tenth)
   */
  readonly clusterDns?: string;
  /**
   * Cluster DNS domain.
   * @default DEFAULTS.network.dnsDomain
   */
  readonly dnsDomain?: string;
  /** Pod network (flannel Network), e.g. '172.20.0.0/16'. */
  readonly podCidr: string;
  /**
   * Flannel backend.
   * @default DEFAULTS.network.flannelBackend
   */
  readonly flannelBackend?: FlannelBackend;
  /**
   * kube-proxy mode.
   * @default DEFAULTS.network.kubeProxyMode
   */
  readonly kubeProxyMode?: KubeProxyMode;
  /**
   * NodePort range 'low-high'.
   * @default DEFAULTS.network.nodePortRange
   */
  readonly nodePortRange?: string;
}

export type KeyAlgorithm = 'rsa' | 'ecdsa';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa', 'ecdsa'];

export interface CertificateSubjectDefinition {
  /** Country, two letters. */
  readonly country?: string;
  readonly state?: string;
  readonly locality?: string;
}

export interface CertificatesDefinition {
  /**
   * Subject fields added to every certificate (C, ST, L).
   * @default none
   */
  readonly subject?: CertificateSubjectDefinition;
  /**
   * Validity of the CAs, in days.
   * @default DEFAULTS.certificates.caValidityDays
   */
  readonly caValidityDays?: number;
  /**
   * Validity of leaf certificates, in days.
   * @default DEFAULTS.certificates.validityDays
   */
  readonly validityDays?: number;
  /**
   * Key algorithm of every key: RSA-2048 or ECDSA P-256.
   * @default DEFAULTS.certificates.keyAlgorithm
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** @default DEFAULTS.certificates.expiryCheck */
  readonly expiryCheck?: CertificateExpiryCheckDefinition;
}

/**
 * Every host that holds certificates checks them on a systemd timer (kubesmith-cert-check.timer): days left for
 * each, the kubelet's own included, to the journal and to node-exporter's textfile collector. A leaf warns under
 * 30 days, a CA under a year (a rotation takes three roll-outs); the service fails while one warns.
 */
export interface CertificateExpiryCheckDefinition {
  /** @default DEFAULTS.certificates.expiryCheck.enabled */
  readonly enabled?: boolean;
  /**
   * When, as a systemd OnCalendar expression; each host adds a random delay of up to an hour.
   * @default DEFAULTS.certificates.expiryCheck.schedule
   */
  readonly schedule?: string;
  /**
   * node-exporter's textfile collector directory (its --collector.textfile.directory), where the check writes
   * kubesmith_certificates.prom.
   * @default DEFAULTS.certificates.expiryCheck.textfileDirectory (Debian's prometheus-node-exporter)
   */
  readonly textfileDirectory?: string;
}

export interface ClusterDefinition {
  /** Cluster name (RFC 1123 label); names the kubeconfig cluster entry and the state directory. */
  readonly name: string;
  /**
   * Kubernetes version, e.g. '1.37.2': a release of a minor from 1.27 to 1.37. kubesmith ships the server archive's
   * checksum of every release the Go module proxy served when the minor was added (lib/model/release-checksums.ts);
   * another release needs binaries.kubernetes.checksum. Its minor picks the companion releases (binaries), images,
   * flags and config fields (lib/versions/kubernetes.ts), each companion the default of its binaries field.
   */
  readonly kubernetesVersion: string;
  /** Every machine of the cluster. */
  readonly hosts: readonly HostDefinition[];
  /**
   * Port kube-apiserver listens on.
   * @default DEFAULTS.apiServerPort
   */
  readonly apiServerPort?: number;
  /**
   * kube-apiserver writes an audit log (metadata of every request, never bodies) to
   * /opt/kubernetes/logs/kube-apiserver-audit.log, rotated by the apiserver.
   * @default DEFAULTS.auditLog
   */
  readonly auditLog?: boolean;
  /**
   * Serve component metrics on the hosts' addresses, for a Prometheus outside the host: kube-proxy's on the host IP,
   * the controller-manager's and the scheduler's (secure, authenticated) on every address. Otherwise on loopback.
   * @default DEFAULTS.exposeMetrics
   */
  readonly exposeMetrics?: boolean;
  /**
   * nginx L4 + keepalived VIP in front of the apiservers. Required when a host has the lb role.
   * @default none: clients reach the first master directly
   */
  readonly loadBalancer?: LoadBalancerDefinition;
  readonly network: NetworkDefinition;
  /** @default DEFAULTS.certificates, no subject fields */
  readonly certificates?: CertificatesDefinition;
  /**
   * Registry that replaces registry.k8s.io (and every other upstream registry)
   * in every image, e.g. 'registry.aliyuncs.com/google_containers'.
   * @default none: upstream registries
   */
  readonly imageRegistry?: string;
  /**
   * The upstream programs the hosts run, as dist/fetch-binaries.sh downloads them: each release's version and
   * checksum, and a mirror.
   * @default the Kubernetes minor's companions (lib/versions/kubernetes.ts), upstream download sites
   */
  readonly binaries?: BinariesDefinition;
  /** Cluster addons: CoreDNS, Dashboard, ingress-nginx and TLS bootstrap RBAC. */
  readonly addons?: AddonsDefinition;
  /** @default DEFAULTS.etcd */
  readonly etcd?: EtcdDefinition;
  /**
   * Applications deployed with the addons.
   * @default none
   */
  readonly apps?: readonly AppDefinition[];
  /**
   * Feature gates, flags and config fields handed to the Kubernetes components beyond kubesmith's own. Each is
   * checked against the target minor's reference (lib/versions/references/1.NN): one its binaries lack is refused.
   * @default none
   */
  readonly components?: ComponentsDefinition;
  /** How a roll-out that changes versions moves through the hosts. @default DEFAULTS.upgrades */
  readonly upgrades?: UpgradesDefinition;
}

/**
 * Upgrades go in the version-skew policy's order (etcd, each master's control plane, then the node programs of
 * masters and nodes, one host at a time). A host whose kubelet changes minor is cordoned and drained first.
 */
export interface UpgradesDefinition {
  /**
   * When the node wave drains a host: 'minor' (its kubelet or containerd changes minor, as the skew policy asks) or
   * 'always' (patch releases too).
   * @default DEFAULTS.upgrades.drain
   */
  readonly drain?: 'minor' | 'always';
  /**
   * How long a drain may take before the roll-out stops and names the pods that block it (a PodDisruptionBudget
   * with no disruption allowed, a pod that ignores its termination), in seconds.
   * @default DEFAULTS.upgrades.drainTimeoutSeconds
   */
  readonly drainTimeoutSeconds?: number;
}

/** What the Kubernetes components get beyond kubesmith's settings, as kubeadm's extraArgs and featureGates. */
export interface ComponentsDefinition {
  /**
   * Feature gates, e.g. { InPlacePodVerticalScaling: true }, handed to every Kubernetes component: --feature-gates
   * for kube-apiserver, kube-controller-manager and kube-scheduler, featureGates in the kubelet's and kube-proxy's
   * config. A gate the target minor does not know, or one locked to the other value, is refused.
   * @default none
   */
  readonly featureGates?: Readonly<Record<string, boolean>>;
  /** @default none */
  readonly 'kube-apiserver'?: ComponentSettingsDefinition;
  /** @default none */
  readonly 'kube-controller-manager'?: ComponentSettingsDefinition;
  /** Its config: KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1). @default none */
  readonly 'kube-scheduler'?: ConfiguredComponentDefinition;
  /** Its config: KubeletConfiguration (kubelet.config.k8s.io/v1beta1). @default none */
  readonly kubelet?: ConfiguredComponentDefinition;
  /** Its config: KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1). @default none */
  readonly 'kube-proxy'?: ConfiguredComponentDefinition;
}

export interface ComponentSettingsDefinition {
  /**
   * Flags added to the component's command line, by name without dashes, e.g. { 'profiling': 'false' }. A flag
   * kubesmith sets too takes this value instead (as kubeadm's extraArgs), but for those another setting owns (ports,
   * addresses and ranges, e.g. secure-port is apiServerPort), which are refused. Feature gates go in featureGates.
   * @default none
   */
  readonly extraArgs?: Readonly<Record<string, string>>;
}

export interface ConfiguredComponentDefinition extends ComponentSettingsDefinition {
  /**
   * Fields merged over the config file kubesmith writes for the component (objects merge, other values replace),
   * e.g. { maxPods: 200 } for the kubelet. apiVersion and kind are kubesmith's.
   * @default none
   */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Day-2 etcd operations. */
export interface EtcdDefinition {
  /** @default DEFAULTS.etcd.snapshots */
  readonly snapshots?: EtcdSnapshotsDefinition;
}

/**
 * Every etcd member saves a snapshot of its own on a systemd timer (etcd-snapshot.timer), verifies it with
 * `etcdutl snapshot status`, keeps the newest `keep` in /var/lib/etcd/snapshots (0700) and then runs `afterSnapshot`.
 */
export interface EtcdSnapshotsDefinition {
  /** @default DEFAULTS.etcd.snapshots.enabled */
  readonly enabled?: boolean;
  /**
   * When, as a systemd OnCalendar expression, e.g. 'daily', 'hourly', '*-*-* 02:30:00'.
   * @default DEFAULTS.etcd.snapshots.schedule
   */
  readonly schedule?: string;
  /**
   * How many snapshots each member keeps; older ones are removed after a new one is verified.
   * @default DEFAULTS.etcd.snapshots.keep
   */
  readonly keep?: number;
  /**
   * A shell command run after each verified snapshot, with SNAPSHOT set to its path: the off-site copy, e.g.
   * 'rsync -a "$SNAPSHOT" backup@10.0.0.9:/srv/etcd/'. A failure marks the run failed; the snapshot stays.
   * @default none
   */
  readonly afterSnapshot?: string;
}

/** One upstream release archive (lib/model/releases.ts says which file, from where, with which programs). */
export interface ReleaseDefinition {
  /**
   * Version without the leading v, e.g. '3.5.15'; install.sh refuses a program that says another.
   * @default the Kubernetes minor's companion release (lib/versions/kubernetes.ts)
   */
  readonly version?: string;
  /**
   * The archive's checksum, 'sha256:<hex>' or 'sha512:<hex>', copied from its release page. kubesmith ships checksums
   * only where an upstream file states them (the Kubernetes server archive); for the others dist/fetch-binaries.sh
   * refuses to run without this, saying where to find it.
   * @default none
   */
  readonly checksum?: string;
}

export interface BinariesDefinition {
  /**
   * Base URL of a mirror that serves each upstream URL below it without its https://, e.g. with
   * 'https://mirror.example.cn/k8s', https://dl.k8s.io/v1.27.16/kubernetes-server-linux-amd64.tar.gz is fetched from
   * https://mirror.example.cn/k8s/dl.k8s.io/v1.27.16/kubernetes-server-linux-amd64.tar.gz (the layout `wget -x` makes).
   * Checksums are the same either way.
   * @default none: the upstream download sites
   */
  readonly mirror?: string;
  /**
   * kubernetes-server-linux-amd64.tar.gz at kubernetesVersion: its checksum, needed only for a release whose checksum
   * kubesmith does not ship ('sha512:<hex>' from CHANGELOG-1.NN.md, "Downloads for v1.NN.P").
   * @default the shipped checksum
   */
  readonly kubernetes?: { readonly checksum?: string };
  /** etcd-v<version>-linux-amd64.tar.gz: etcd, etcdctl. @default the minor's companion */
  readonly etcd?: ReleaseDefinition;
  /** flannel-v<version>-linux-amd64.tar.gz: flanneld. @default the minor's companion */
  readonly flannel?: ReleaseDefinition;
  /** cni-plugin-flannel-linux-amd64-v<version>.tgz: the flannel CNI plugin. @default the minor's companion */
  readonly flannelCni?: ReleaseDefinition;
  /** cni-plugins-linux-amd64-v<version>.tgz: bridge, host-local, portmap, loopback. @default the minor's companion */
  readonly cniPlugins?: ReleaseDefinition;
  /** containerd-<version>-linux-amd64.tar.gz: containerd, containerd-shim-runc-v2. @default the minor's companion */
  readonly containerd?: ReleaseDefinition;
  /** runc.amd64 of runc v<version>. @default the minor's companion */
  readonly runc?: ReleaseDefinition;
}

export interface CoreDnsDefinition {
  /**
   * Deploy CoreDNS. Turn it off only if another cluster DNS serves network.clusterDns.
   * @default DEFAULTS.addons.coreDns.enabled
   */
  readonly enabled?: boolean;
  /**
   * Replicas, spread over different nodes where there are enough.
   * @default DEFAULTS.addons.coreDns.replicas
   */
  readonly replicas?: number;
}

export interface DashboardDefinition {
  /** @default DEFAULTS.addons.dashboard.enabled */
  readonly enabled?: boolean;
  /**
   * NodePort of the dashboard's HTTPS Service; inside network.nodePortRange.
   * @default DEFAULTS.addons.dashboard.nodePort
   */
  readonly nodePort?: number;
  /**
   * Create the `admin-user` login account: a ServiceAccount bound to cluster-admin with a
   * long-lived token Secret. Anyone holding that token owns the cluster.
   * @default DEFAULTS.addons.dashboard.adminUser
   */
  readonly adminUser?: boolean;
}

export interface IngressNginxDefinition {
  /** @default DEFAULTS.addons.ingressNginx.enabled */
  readonly enabled?: boolean;
  /**
   * Labels a node must carry to run the controller (it runs on every Linux node otherwise).
   * @default DEFAULTS.addons.ingressNginx.nodeSelector, which these are merged over
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * Extra keys for the controller ConfigMap.
   * @default DEFAULTS.addons.ingressNginx.config, which these are merged over
   */
  readonly config?: Readonly<Record<string, string>>;
}

export interface BootstrapTokenDefinition {
  /**
   * Extra groups the bootstrap token authenticates as, each 'system:bootstrappers:<name>'.
   * @default DEFAULTS.addons.bootstrapToken.extraGroups
   */
  readonly extraGroups?: readonly string[];
  /**
   * Hours a bootstrap token lives, 1 to 720. Synth makes a new one once less than half of this is left (the plan
   * says so); nodes that joined keep their own certificates and do not restart. New nodes need a recent synth.
   * @default DEFAULTS.addons.bootstrapToken.ttlHours
   */
  readonly ttlHours?: number;
}

export interface AddonsDefinition {
  /** @default DEFAULTS.addons.coreDns */
  readonly coreDns?: CoreDnsDefinition;
  /** @default DEFAULTS.addons.dashboard */
  readonly dashboard?: DashboardDefinition;
  /** @default DEFAULTS.addons.ingressNginx */
  readonly ingressNginx?: IngressNginxDefinition;
  /** @default DEFAULTS.addons.bootstrapToken */
  readonly bootstrapToken?: BootstrapTokenDefinition;
}

export type NfsAccessMode = 'ReadWriteMany' | 'ReadOnlyMany' | 'ReadWriteOnce';
export const NFS_ACCESS_MODES: readonly NfsAccessMode[] = ['ReadWriteMany', 'ReadOnlyMany', 'ReadWriteOnce'];

/** An NFS export mounted into an app, as a PersistentVolume pre-bound to its claim. */
export interface AppVolumeDefinition {
  /** Volume name (RFC 1123 label); the PV and PVC are named `<app>-<name>`. */
  readonly name: string;
  /** Directory in the container, e.g. '/usr/local/tomcat/webapps'. */
  readonly mountPath: string;
  /** NFS server address or host name. */
  readonly server: string;
  /** Exported directory on the server, e.g. '/data/nfs/java-demo/webapps'. */
  readonly path: string;
  /**
   * Capacity of the PV and the request of its PVC (Kubernetes quantity).
   * @default DEFAULTS.volume.size
   */
  readonly size?: string;
  /** @default DEFAULTS.volume.accessMode */
  readonly accessMode?: NfsAccessMode;
  /** @default DEFAULTS.volume.readOnly */
  readonly readOnly?: boolean;
  /**
   * Mount a per-pod subdirectory (subPathExpr $(POD_NAME)), so replicas writing
   * files of the same name (logs) do not clobber each other.
   * @default DEFAULTS.volume.perPod
   */
  readonly perPod?: boolean;
  /**
   * NFS mount options, e.g. ['nfsvers=4.1'].
   * @default none: the node's defaults
   */
  readonly mountOptions?: readonly string[];
}

export interface AppResourcesDefinition {
  /** @default DEFAULTS.app.resources.requests, which these are merged over */
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  /** @default DEFAULTS.app.resources.limits, which these are merged over */
  readonly limits?: { readonly cpu?: string; readonly memory?: string };
}

export interface AppTlsDefinition {
  /**
   * Use this existing kubernetes.io/tls Secret (in the app's namespace) instead of the
   * certificate kubesmith issues from the cluster CA.
   * @default `<app>-tls`, issued by kubesmith
   */
  readonly secretName?: string;
}

/**
 * A web application behind the ingress controller, e.g. the tutorial's tomcat project.
 * Registry credentials are never part of the definition: they come from
 * KUBESMITH_REGISTRY_AUTH_<APP> or KUBESMITH_REGISTRY_AUTH_FILE (see lib/addons/registry-auth.ts).
 */
export interface AppDefinition {
  /** App name (RFC 1123 label): Deployment, Service, Ingress and chart `50-app-<name>`. */
  readonly name: string;
  /**
   * Namespace, created unless it is 'default'.
   * @default the app name
   */
  readonly namespace?: string;
  /** Container image, e.g. 'tomcat:8.5-jre8' or 'harbor.example.com/java/demo:1.0'. */
  readonly image: string;
  /**
   * Rewrite the image to imageRegistry when it is on a public upstream registry
   * (docker.io, registry.k8s.io, gcr.io, quay.io, ...). Images on other registries are never rewritten.
   * @default DEFAULTS.app.useImageRegistry
   */
  readonly useImageRegistry?: boolean;
  /** @default DEFAULTS.app.replicas */
  readonly replicas?: number;
  /**
   * Port the container serves HTTP on; probes and the Service target it.
   * @default DEFAULTS.app.containerPort
   */
  readonly containerPort?: number;
  /**
   * Path the readiness and liveness probes GET; it must answer 2xx or 3xx (an empty tomcat webapps directory
   * answers 404 on '/' forever).
   * @default none: the probes only open a TCP connection to containerPort
   */
  readonly probePath?: string;
  /** @default DEFAULTS.app.resources */
  readonly resources?: AppResourcesDefinition;
  /**
   * Plain environment variables of the container.
   * @default none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Host name the Ingress serves the app on, over HTTP and HTTPS.
   * @default none: no Ingress, reach the app through its Service
   */
  readonly host?: string;
  /** @default a certificate for `host` issued by the cluster CA */
  readonly tls?: AppTlsDefinition;
  /**
   * Redirect HTTP to HTTPS. Off by default so the app answers on both.
   * @default DEFAULTS.app.sslRedirect
   */
  readonly sslRedirect?: boolean;
  /** @default none */
  readonly volumes?: readonly AppVolumeDefinition[];
}
