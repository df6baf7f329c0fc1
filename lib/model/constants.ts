/**
 * Names, paths, ports and users every layer agrees on, in one block (after kubeadm's constants.go).
 * Settings a user may change are in DEFAULTS; these are facts of the install layout and of Kubernetes.
 */

/** Install locations, as in the tutorial: /opt/etcd and /opt/kubernetes with bin, cfg and ssl. */
export const PATHS = {
  etcdBin: '/opt/etcd/bin',
  etcdCfg: '/opt/etcd/cfg',
  etcdSsl: '/opt/etcd/ssl',
  etcdData: '/var/lib/etcd/default.etcd',
  /** Beside the data directory, under the same 0700 parent. */
  etcdSnapshots: '/var/lib/etcd/snapshots',
  k8sBin: '/opt/kubernetes/bin',
  k8sCfg: '/opt/kubernetes/cfg',
  k8sSsl: '/opt/kubernetes/ssl',
  k8sLogs: '/opt/kubernetes/logs',
  systemdUnits: '/usr/lib/systemd/system',
  cniBin: '/opt/cni/bin',
  cniConf: '/etc/cni/net.d',
  nginxLogs: '/var/log/nginx',
  nginxConf: '/etc/nginx/nginx.conf',
  keepalivedConf: '/etc/keepalived/keepalived.conf',
  /** containerd's config: its unit names no file, so the component table declares it. */
  containerdConf: '/etc/containerd/config.toml',
  /**
   * What install.sh last installed on the host (its units and files): against it, a new bundle's leftovers are
   * stopped and removed.
   */
  installedRecord: '/var/lib/kubesmith/installed',
  /** kubesmith's own programs on the hosts (the certificate expiry check) and their configs. */
  kubesmithBin: '/opt/kubesmith/bin',
  kubesmithCfg: '/opt/kubesmith/cfg',
  /** The apiservers' EncryptionConfiguration (holds the keys: 0600). */
  encryptionConfig: '/opt/kubernetes/cfg/encryption-config.yaml',
} as const;

/** kubeadm's taint on control-plane nodes: a master without the node role registers with it. */
export const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' } as const;

/**
 * The label each kubelet host's Node carries per role, as kubectl get nodes shows roles: kubeadm's for a master, the
 * definition's word for a node. A kubelet may not set these on itself, so the roll-out labels the Nodes.
 */
export const NODE_ROLE_LABELS = {
  master: 'node-role.kubernetes.io/control-plane',
  node: 'node-role.kubernetes.io/node',
} as const;

/** Ports of the components, so configs, certificates and checks agree. */
export const PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  kubelet: 10250,
  /** The kubelet's /healthz, on 127.0.0.1 (its default healthzBindAddress). */
  kubeletHealthz: 10248,
  kubeProxyMetrics: 10249,
  kubeProxyHealthz: 10256,
  kubeControllerManager: 10257,
  kubeScheduler: 10259,
  /** sshd, which the roll-out reaches every host through. */
  ssh: 22,
  /** ingress-nginx's hostNetwork controller on every schedulable node. */
  ingressHttp: 80,
  ingressHttps: 443,
  ingressHealth: 10254,
} as const;

/**
 * nginx's passive health check of each apiserver upstream: after max_fails refused connections within fail_timeout,
 * an nginx worker skips that apiserver for fail_timeout, even once it is back. The roll-out waits that long after an
 * apiserver's /readyz before it restarts the next one, or nginx would find no live upstream.
 */
export const NGINX_UPSTREAM = { maxFails: 3, failTimeoutSeconds: 10 } as const;

/**
 * A leaf that expires within this many days is re-issued at synth (lib/pki/cluster-pki.ts), so a validity of that or
 * less would re-issue every certificate on every synth.
 */
export const CERT_RENEW_WITHIN_DAYS = 30;

/** A CA warns this many days before its end (at most half its life): its rotation takes three roll-outs. */
export const CA_WARN_WITHIN_DAYS = 365;

/** containerd's CRI socket, as the kubelet and crictl dial it. */
export const CONTAINERD_SOCKET = 'unix:///run/containerd/containerd.sock';

/** flannel's default SubnetLen: each node leases one /24 of the pod network. */
export const FLANNEL_SUBNET_LEN = 24;

/** Namespaces that exist in every cluster; never emitted. */
export const BUILTIN_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Namespaces the addons own or Kubernetes reserves; apps may not use them. */
export const RESERVED_NAMESPACES: readonly string[] = [
  'kube-system', 'kube-public', 'kube-node-lease', 'kubernetes-dashboard', 'ingress-nginx',
];
