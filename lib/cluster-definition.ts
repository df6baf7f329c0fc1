/**
 * The typed cluster definition a user writes in main.ts. Everything else is
 * derived from it: the validated model, the PKI, host bundles and addon charts.
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
   * @default 'eth0'
   */
  readonly interface?: string;
  /** Roles of this host. */
  readonly roles: readonly HostRole[];
}

export interface LoadBalancerDefinition {
  /** Virtual IP with prefix length, e.g. '192.168.100.50/24'. Held by keepalived on the lb hosts. */
  readonly vip: string;
  /**
   * Port nginx listens on (L4) on the lb hosts. Must differ from the apiserver port,
   * since lb hosts are usually masters too.
   * @default 6444
   */
  readonly port?: number;
  /**
   * VRRP virtual_router_id shared by the lb hosts; unique per L2 segment.
   * @default 51
   */
  readonly virtualRouterId?: number;
  /**
   * Emit `load_module` for the nginx stream module (Debian's nginx needs it;
   * builds with a static stream module reject it).
   * @default true
   */
  readonly loadStreamModule?: boolean;
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
   * @default the tenth address of serviceCidr
   */
  readonly clusterDns?: string;
  /**
   * Cluster DNS domain.
   * @default 'cluster.local'
   */
  readonly dnsDomain?: string;
  /** Pod network (flannel Network), e.g. '172.20.0.0/16'. */
  readonly podCidr: string;
  /**
   * Flannel backend.
   * @default 'vxlan'
   */
  readonly flannelBackend?: FlannelBackend;
  /**
   * kube-proxy mode.
   * @default 'ipvs'
   */
  readonly kubeProxyMode?: KubeProxyMode;
  /**
   * NodePort range 'low-high'.
   * @default '30000-32767'
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
   * @default 3650
   */
  readonly caValidityDays?: number;
  /**
   * Validity of leaf certificates, in days.
   * @default 365
   */
  readonly validityDays?: number;
  /**
   * Key algorithm of every key: RSA-2048 or ECDSA P-256.
   * @default 'rsa'
   */
  readonly keyAlgorithm?: KeyAlgorithm;
}

export interface ClusterDefinition {
  /** Cluster name (RFC 1123 label); names the kubeconfig cluster entry and the state directory. */
  readonly name: string;
  /** Kubernetes version, 1.27.x. */
  readonly kubernetesVersion: string;
  /** Every machine of the cluster. */
  readonly hosts: readonly HostDefinition[];
  /**
   * Port kube-apiserver listens on.
   * @default 6443
   */
  readonly apiServerPort?: number;
  /**
   * nginx L4 + keepalived VIP in front of the apiservers. Required when a host has the lb role.
   * @default none: clients reach the first master directly
   */
  readonly loadBalancer?: LoadBalancerDefinition;
  readonly network: NetworkDefinition;
  /** @default RSA-2048, CA 3650 days, leaves 365 days, no subject fields */
  readonly certificates?: CertificatesDefinition;
  /**
   * Registry that replaces registry.k8s.io (and every other upstream registry)
   * in every image, e.g. 'registry.aliyuncs.com/google_containers'.
   * @default none: upstream registries
   */
  readonly imageRegistry?: string;
  /** Cluster addons: CoreDNS, Dashboard, ingress-nginx and TLS bootstrap RBAC. */
  readonly addons?: AddonsDefinition;
  /**
   * Applications deployed with the addons.
   * @default none
   */
  readonly apps?: readonly AppDefinition[];
}

export interface CoreDnsDefinition {
  /**
   * Deploy CoreDNS. Turn it off only if another cluster DNS serves network.clusterDns.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Replicas, spread over different nodes where there are enough.
   * @default 2
   */
  readonly replicas?: number;
}

export interface DashboardDefinition {
  /** @default true */
  readonly enabled?: boolean;
  /**
   * NodePort of the dashboard's HTTPS Service; inside network.nodePortRange.
   * @default 30001
   */
  readonly nodePort?: number;
  /**
   * Create the `admin-user` login account: a ServiceAccount bound to cluster-admin with a
   * long-lived token Secret. Anyone holding that token owns the cluster.
   * @default false
   */
  readonly adminUser?: boolean;
}

export interface IngressNginxDefinition {
  /** @default true */
  readonly enabled?: boolean;
  /**
   * Labels a node must carry to run the controller (it runs on every node otherwise).
   * @default none: every node
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * Extra keys for the controller ConfigMap, merged over kubesmith's.
   * @default { 'allow-snippet-annotations': 'false' }
   */
  readonly config?: Readonly<Record<string, string>>;
}

export interface BootstrapTokenDefinition {
  /**
   * Extra groups the bootstrap token authenticates as, each 'system:bootstrappers:<name>'.
   * @default none
   */
  readonly extraGroups?: readonly string[];
}

export interface AddonsDefinition {
  /** @default enabled, 2 replicas */
  readonly coreDns?: CoreDnsDefinition;
  /** @default enabled, NodePort 30001, no admin account */
  readonly dashboard?: DashboardDefinition;
  /** @default enabled on every node */
  readonly ingressNginx?: IngressNginxDefinition;
  /** @default no extra groups */
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
   * @default '5Gi'
   */
  readonly size?: string;
  /** @default 'ReadWriteMany' */
  readonly accessMode?: NfsAccessMode;
  /** @default false */
  readonly readOnly?: boolean;
  /**
   * Mount a per-pod subdirectory (subPathExpr $(POD_NAME)), so replicas writing
   * files of the same name (logs) do not clobber each other.
   * @default false
   */
  readonly perPod?: boolean;
  /**
   * NFS mount options, e.g. ['nfsvers=4.1'].
   * @default none: the node's defaults
   */
  readonly mountOptions?: readonly string[];
}

export interface AppResourcesDefinition {
  /** @default { cpu: '250m', memory: '512Mi' } */
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  /** @default { cpu: '1', memory: '1Gi' } */
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
   * @default true
   */
  readonly useImageRegistry?: boolean;
  /** @default 1 */
  readonly replicas?: number;
  /**
   * Port the container serves HTTP on; probes and the Service target it.
   * @default 8080
   */
  readonly containerPort?: number;
  /**
   * Path the readiness and liveness probes GET; it must answer 2xx or 3xx.
   * @default '/'
   */
  readonly probePath?: string;
  /** @default requests 250m / 512Mi, limits 1 CPU / 1Gi */
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
   * @default false
   */
  readonly sslRedirect?: boolean;
  /** @default none */
  readonly volumes?: readonly AppVolumeDefinition[];
}
