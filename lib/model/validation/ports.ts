import { DEFAULTS } from '../defaults';
import { HostDefinition, HostRole } from '../definition';
import { PORTS } from '../constants';
import { DefinitionIssue, Issues } from './issue';
import { isPort, isRecord } from './values';
import { DefinitionView } from './view';

/** A TCP port (or range) something binds on a host; `field` when the definition sets it. */
interface Listener {
  readonly low: number;
  readonly high: number;
  readonly user: string;
  readonly field?: 'loadBalancer.port' | 'apiServerPort' | 'network.nodePortRange';
}

/** Who binds what, by the roles that run it. Masters run the node components too (kubelet, kube-proxy). */
const FIXED: readonly { readonly port: number; readonly user: string; readonly on: (roles: readonly HostRole[]) => boolean }[] = [
  { port: PORTS.ssh, user: 'sshd', on: () => true },
  { port: PORTS.etcdClient, user: 'etcd clients', on: (r) => r.includes('etcd') },
  { port: PORTS.etcdPeer, user: 'etcd peers', on: (r) => r.includes('etcd') },
  { port: PORTS.kubeControllerManager, user: 'kube-controller-manager', on: (r) => r.includes('master') },
  { port: PORTS.kubeScheduler, user: 'kube-scheduler', on: (r) => r.includes('master') },
  { port: PORTS.kubelet, user: 'the kubelet', on: runsNodeComponents },
  { port: PORTS.kubeletHealthz, user: "the kubelet's healthz", on: runsNodeComponents },
  { port: PORTS.kubeProxyMetrics, user: 'kube-proxy metrics', on: runsNodeComponents },
  { port: PORTS.kubeProxyHealthz, user: 'kube-proxy health', on: runsNodeComponents },
];

/** ingress-nginx's hostNetwork DaemonSet: on every node without the control-plane taint, i.e. with the node role. */
const INGRESS: readonly (readonly [number, string])[] = [
  [PORTS.ingressHttp, 'ingress-nginx HTTP'], [PORTS.ingressHttps, 'ingress-nginx HTTPS'], [PORTS.ingressHealth, 'ingress-nginx health'],
];

/** Which configurable listener an issue is reported on when two collide: the more specific first. */
const BLAME: readonly Listener['field'][] = ['loadBalancer.port', 'apiServerPort', 'network.nodePortRange'];

function runsNodeComponents(roles: readonly HostRole[]): boolean {
  return roles.includes('master') || roles.includes('node');
}

function rolesOf(h: HostDefinition): readonly HostRole[] {
  return Array.isArray(h?.roles) ? h.roles : [];
}

/** Every listener of one host, with the definition's ports where they are valid (their own rules report the rest). */
function listenersOf(h: HostDefinition, view: DefinitionView, lbPort: unknown, ingress: boolean): Listener[] {
  const roles = rolesOf(h);
  const out: Listener[] = FIXED.filter((f) => f.on(roles)).map((f) => ({ low: f.port, high: f.port, user: f.user }));
  if (roles.includes('master') && isPort(view.apiPort)) out.push({ low: view.apiPort, high: view.apiPort, user: 'kube-apiserver', field: 'apiServerPort' });
  if (roles.includes('lb') && isPort(lbPort)) out.push({ low: lbPort, high: lbPort, user: "nginx's L4 listener", field: 'loadBalancer.port' });
  if (runsNodeComponents(roles) && view.nodePorts) out.push({ ...view.nodePorts, user: 'the NodePorts kube-proxy serves', field: 'network.nodePortRange' });
  if (ingress && roles.includes('node')) out.push(...INGRESS.map(([port, user]) => ({ low: port, high: port, user })));
  return out;
}

const show = (l: Listener) => (l.low === l.high ? String(l.low) : `${l.low}-${l.high}`);

/**
 * Ports against every listener on the same host: sshd, etcd, the control plane, the kubelet and kube-proxy,
 * the apiserver and lb ports, the NodePort range, and ingress-nginx where it runs. A collision names both users.
 */
export function portRules(view: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  const lb = isRecord(view.d.loadBalancer) ? view.d.loadBalancer : undefined;
  const lbPort = lb ? (lb.port ?? DEFAULTS.loadBalancer.port) : undefined;
  const ing = isRecord(view.d.addons) && isRecord(view.d.addons.ingressNginx) ? view.d.addons.ingressNginx : {};
  const ingress = ing.enabled !== false;
  // field -> the other user and the port -> the hosts where they collide
  const found = new Map<string, { field: string; value: unknown; mine: Listener; other: Listener; hosts: string[] }>();
  for (const h of view.hosts) {
    const listeners = listenersOf(h, view, lbPort, ingress);
    listeners.forEach((a, i) => listeners.slice(i + 1).forEach((b) => {
      if (a.high < b.low || b.high < a.low) return;
      const [mine, other] = BLAME.indexOf(a.field) >= 0 && (b.field === undefined || BLAME.indexOf(a.field) <= BLAME.indexOf(b.field)) ? [a, b] : [b, a];
      if (!mine.field) return;
      const key = `${mine.field}\0${other.user}\0${show(other)}`;
      const value = mine.field === 'loadBalancer.port' ? lbPort : mine.field === 'apiServerPort' ? view.apiPort : view.d.network?.nodePortRange ?? DEFAULTS.network.nodePortRange;
      const entry = found.get(key) ?? { field: mine.field, value, mine, other, hosts: [] };
      entry.hosts.push(typeof h.name === 'string' ? h.name : '?');
      found.set(key, entry);
    }));
  }
  const taken = (port: number) => view.hosts.some((h) => listenersOf(h, view, lbPort, ingress).some((l) => l.field === undefined && l.low <= port && port <= l.high))
    || (view.nodePorts !== undefined && view.nodePorts.low <= port && port <= view.nodePorts.high);
  const range = [...found.values()].filter((f) => f.field === 'network.nodePortRange');
  if (range.length > 0) {
    issues.add('network.nodePortRange', range[0].value, `includes ${range.map((f) => `${show(f.other)} (${f.other.user} on ${f.hosts.join(', ')})`).join(', ')}, which kube-proxy would take for NodePorts there; use a range clear of them, e.g. "${DEFAULTS.network.nodePortRange}"`);
  }
  for (const { field, value, mine, other, hosts } of found.values()) {
    if (field === 'network.nodePortRange') continue;
    const where = `on ${hosts.join(', ')}`;
    let free = field === 'apiServerPort' ? DEFAULTS.apiServerPort : DEFAULTS.loadBalancer.port;
    while (taken(free) || free === view.apiPort || free === lbPort) free++;
    const what = other.field === 'network.nodePortRange' ? `lies inside network.nodePortRange ${show(other)}, the NodePorts kube-proxy serves ${where}`
      : `is the port of ${other.user}${other.field ? ` (${other.field})` : ''} ${where}, where ${mine.user} would bind it too`;
    issues.add(field, value, `${what}; pick another, e.g. ${free}`);
  }
  return issues.list;
}
