import { ComponentId, etcdctlCommand, unitOf } from '../../components';
import { ClusterModel, NGINX_UPSTREAM, PORTS } from '../../model';
import { certPath } from '../../pki';

/**
 * What the roll-out waits for after each host's install.sh, so that no role loses two members at once.
 *
 * install.sh restarts a running service whose files changed (and waits for the restart to finish). After a host,
 * Ansible and deploy.sh wait until every service of this table that was running on it before the install is
 * healthy again, before they touch the next host. A service's first start is waited for in its own phase only
 * (a new etcd member cannot be healthy before its peers start; a new kubelet needs the addons' bootstrap RBAC).
 */
export interface HealthCheck {
  readonly component: ComponentId;
  readonly unit: string;
  /** e.g. "kube-apiserver /readyz". */
  readonly what: string;
  /** Run as root on the host itself; exits 0 once the service is healthy. */
  readonly command: string;
}

/** Bounds of one wait: tries, seconds apart (deploy.sh reads KUBESMITH_WAIT_TRIES / _DELAY to change them). */
export const HEALTH_WAIT = { tries: 60, delaySeconds: 5 } as const;

/** The table, in the order the checks run on a host. The lb port only where there is a load balancer. */
export function healthChecks(model: ClusterModel): HealthCheck[] {
  const readyz = `curl -fsS --max-time 5 --cacert ${certPath('kubernetes-ca')} https://127.0.0.1:${model.apiServerPort}/readyz`;
  // Behind the lb, ready is not enough: each nginx worker lets a restarted apiserver back in only fail_timeout after
  // its last refused connection (measured in the cluster suite: "no live upstreams" when the next one stopped sooner).
  const settle = NGINX_UPSTREAM.failTimeoutSeconds + 1;
  const rows: [ComponentId, string, string][] = [
    ['etcd', 'etcd member health', `${etcdctlCommand()} --endpoints=https://127.0.0.1:${PORTS.etcdClient} endpoint health`],
    model.loadBalancer
      ? ['kube-apiserver', `kube-apiserver /readyz, then ${settle} s for nginx to use it again`, `${readyz} && sleep ${settle}`]
      : ['kube-apiserver', 'kube-apiserver /readyz', readyz],
    ...(model.loadBalancer
      ? [['nginx', `L4 port ${model.loadBalancer.port}`, `timeout 2 bash -c '</dev/tcp/127.0.0.1/${model.loadBalancer.port}'`] as [ComponentId, string, string]]
      : []),
    // Their serving certificates are their own self-signed ones; /healthz is open to anyone (authorization-always-allow-paths).
    ['kube-controller-manager', 'kube-controller-manager /healthz', `curl -fsSk --max-time 5 https://127.0.0.1:${PORTS.kubeControllerManager}/healthz`],
    ['kube-scheduler', 'kube-scheduler /healthz', `curl -fsSk --max-time 5 https://127.0.0.1:${PORTS.kubeScheduler}/healthz`],
    ['kubelet', 'kubelet /healthz', `curl -fsS --max-time 5 http://127.0.0.1:${PORTS.kubeletHealthz}/healthz`],
  ];
  return rows.map(([component, what, command]) => ({ component, unit: unitOf(component), what, command }));
}

/** The check of one component (throws for one without a check). */
export function healthCheck(model: ClusterModel, component: ComponentId): HealthCheck {
  const c = healthChecks(model).find((h) => h.component === component);
  if (!c) throw new Error(`no health check for ${component}`);
  return c;
}

/** Every member's health, asked from a member (all endpoints: the cluster, not just the local one). */
export function etcdHealthCommand(model: ClusterModel): string {
  return `${etcdctlCommand()} --endpoints=${model.etcdEndpoints.join(',')} endpoint health`;
}

/** A shell command printing, one per line, the units of the table that are active on the host now. */
export function runningUnitsCommand(model: ClusterModel): string {
  return `for u in ${healthChecks(model).map((c) => c.unit).join(' ')}; do systemctl is-active --quiet "$u" && echo "$u"; done; true`;
}
