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
}
