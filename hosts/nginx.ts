import { Construct } from 'constructs';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { Cluster } from '../lib/cluster';
import { ClusterModel } from '../lib/cluster-model';

export const NGINX_CONF = '/etc/nginx/nginx.conf';
export const NGINX_LOG_DIR = '/var/log/nginx';

export interface NginxProps {
  /**
   * Module file loaded with `load_module` when loadBalancer.loadStreamModule is true.
   * @default '/usr/lib/nginx/modules/ngx_stream_module.so' (Debian's libnginx-mod-stream)
   */
  readonly streamModulePath?: string;
  /**
   * worker_connections; every proxied connection takes two.
   * @default 4096
   */
  readonly workerConnections?: number;
}

/** The whole nginx.conf: an L4 (stream) proxy from the lb port to every kube-apiserver. */
export function renderNginxConf(model: ClusterModel, props: NginxProps = {}): string {
  const lb = model.loadBalancer;
  if (!lb) throw new Error('nginx: the cluster has no loadBalancer');
  const modulePath = props.streamModulePath ?? '/usr/lib/nginx/modules/ngx_stream_module.so';
  const workerConnections = props.workerConnections ?? 4096;
  if (!Number.isInteger(workerConnections) || workerConnections < 64) throw new Error(`nginx: workerConnections ${workerConnections} must be an integer >= 64`);
  if (!/^\/[^\s;'"{}]+$/.test(modulePath)) throw new Error(`nginx: streamModulePath "${modulePath}" must be an absolute path`);
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
    ...model.masters.map((m) => `        server ${m.ip}:${model.apiServerPort} max_fails=3 fail_timeout=10s;`),
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
  constructor(scope: Construct, id: string, props: NginxProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const lbBundles = cluster.bundlesWithRole('lb');
    if (lbBundles.length === 0) return;
    const conf = renderNginxConf(cluster.model, props);
    for (const bundle of lbBundles) {
      bundle.addFile(NGINX_CONF, conf);
      bundle.addService({
        unit: 'nginx.service',
        order: START_ORDER.nginx,
        binaries: ['/usr/sbin/nginx'],
        source: 'OS package nginx + libnginx-mod-stream (Debian) / nginx (RHEL)',
        packaged: true,
        config: [NGINX_CONF],
      });
    }
  }
}
