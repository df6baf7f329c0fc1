/** Install locations, as in the tutorial: /opt/etcd and /opt/kubernetes with bin, cfg and ssl. */
export const PATHS = {
  etcdBin: '/opt/etcd/bin',
  etcdCfg: '/opt/etcd/cfg',
  etcdSsl: '/opt/etcd/ssl',
  etcdData: '/var/lib/etcd/default.etcd',
  k8sBin: '/opt/kubernetes/bin',
  k8sCfg: '/opt/kubernetes/cfg',
  k8sSsl: '/opt/kubernetes/ssl',
  k8sLogs: '/opt/kubernetes/logs',
  systemdUnits: '/usr/lib/systemd/system',
  cniBin: '/opt/cni/bin',
  cniConf: '/etc/cni/net.d',
} as const;
