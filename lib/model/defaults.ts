/**
 * Every default of the cluster definition, stated once. The tree mirrors ClusterDefinition: a field documented
 * `@default DEFAULTS.network.dnsDomain` takes DEFAULTS.network.dnsDomain when it is left out. Validation and the
 * model read these values; test/model/defaults.test.ts holds the docs and this object to each other.
 */
export const DEFAULTS = {
  apiServerPort: 6443,
  /** The apiserver writes an audit log (metadata of every request) under /opt/kubernetes/logs. */
  auditLog: true,
  /** Component metrics listen on loopback only, as kubeadm's do. */
  exposeMetrics: false,
  host: {
    interface: 'eth0',
  },
  loadBalancer: {
    /** Differs from apiServerPort: lb hosts are usually masters too. */
    port: 6444,
    virtualRouterId: 51,
    /** Debian's nginx loads its stream module; builds with a static one reject load_module. */
    loadStreamModule: true,
    /** Debian's libnginx-mod-stream. */
    streamModulePath: '/usr/lib/nginx/modules/ngx_stream_module.so',
  },
  network: {
    /** Which address of serviceCidr the cluster DNS Service takes. */
    clusterDnsOffset: 10,
    dnsDomain: 'cluster.local',
    flannelBackend: 'vxlan',
    kubeProxyMode: 'ipvs',
    nodePortRange: '30000-32767',
  },
  certificates: {
    caValidityDays: 3650,
    validityDays: 365,
    keyAlgorithm: 'rsa',
    expiryCheck: {
      enabled: true,
      schedule: 'daily',
      textfileDirectory: '/var/lib/prometheus/node-exporter',
    },
  },
  addons: {
    coreDns: {
      enabled: true,
      replicas: 2,
    },
    dashboard: {
      enabled: true,
      nodePort: 30001,
      adminUser: false,
    },
    ingressNginx: {
      enabled: true,
      /** The user's nodeSelector is merged over this. */
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      /** The user's config is merged over this. Snippet annotations let any Ingress author inject nginx config (CVE-2021-25742). */
      config: { 'allow-snippet-annotations': 'false' },
    },
    bootstrapToken: {
      extraGroups: [],
      /** As kubeadm's tokens: a day. */
      ttlHours: 24,
    },
  },
  upgrades: {
    drain: 'minor',
    /** kubectl drain's own default is to wait for ever; 5 minutes covers a graceful stop of 30 s per pod, batched. */
    drainTimeoutSeconds: 300,
  },
  etcd: {
    snapshots: {
      enabled: true,
      schedule: 'daily',
      keep: 7,
    },
  },
  app: {
    useImageRegistry: true,
    replicas: 1,
    containerPort: 8080,
    resources: {
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    },
    sslRedirect: false,
  },
  volume: {
    size: '5Gi',
    accessMode: 'ReadWriteMany',
    readOnly: false,
    perPod: false,
  },
} as const;
