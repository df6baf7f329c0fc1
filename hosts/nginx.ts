import { Construct } from 'constructs';
import { Cluster } from '../lib/components';
import { ClusterModel, NGINX_UPSTREAM, PATHS } from '../lib/model';

export const NGINX_CONF = PATHS.nginxConf;
export const NGINX_LOG_DIR = PATHS.nginxLogs;

/** worker_connections; every proxied connection takes two. */
const WORKER_CONNECTIONS = 4096;

/** The whole nginx.conf: an L4 (stream) proxy from the lb port to every kube-apiserver. */
export function renderNginxConf(model: ClusterModel): string {
  const lb = model.loadBalancer;
  if (!lb) throw new Error('nginx: the cluster has no loadBalancer');
  const modulePath = lb.streamModulePath;
  const workerConnections = WORKER_CONNECTIONS;
  const lines = [
    '# kubesmith: nginx as L4 load balancer for the kube-apiservers. Generated: edit the cluster definition instead.',
    // The whole file is ours: no include of modules-enabled/*.conf, or Debian's stream module loads twice.
    ...(lb.loadStreamModule ? [`load_module ${modulePath};`] : []),
    // No `user`: the package's built-in default applies (nobody on Debian, nginx on RHEL); workers only proxy bytes.
    'worker_processes auto;',
    // The package's unit keeps systemd's soft limit (1024 files); workers need one per connection.
    `worker_rlimit_nofile ${2 * workerConnections};`,
    'pid /run/nginx.pid;',
    `error_log ${NGINX_LOG_DIR}/error.log;`,
    '',
    'events {',
    `    worker_connections ${workerConnections};`,
    '}',
    '',
    'stream {',
    "    log_format main '$remote_addr $upstream_addr - [$time_local] $status $upstream_bytes_sent';",
    `    access_log ${NGINX_LOG_DIR}/k8s-access.log main;`,
    '',
    '    upstream k8s-apiserver {',
    ...model.masters.map((m) => `        server ${m.ip}:${model.apiServerPort} max_fails=${NGINX_UPSTREAM.maxFails} fail_timeout=${NGINX_UPSTREAM.failTimeoutSeconds}s;`),
    '    }',
    '',
    '    server {',
    `        listen ${lb.port};`,
    '        proxy_pass k8s-apiserver;',
    // A dead apiserver is skipped after 2s instead of the default 60s.
    '        proxy_connect_timeout 2s;',
    '    }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** nginx from the OS package on the lb hosts: kubesmith writes only nginx.conf. */
export class Nginx extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const lbBundles = cluster.placeComponent('nginx');
    if (lbBundles.length === 0) return;
    const conf = renderNginxConf(cluster.model);
    for (const bundle of lbBundles) bundle.addFile(NGINX_CONF, conf);
  }
}
