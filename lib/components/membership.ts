import {
  ClusterDefinitionError, ClusterModel, HostRole, PORTS,
} from '../model';

/**
 * Who belonged to the cluster at the last synth, beyond its files: what a replaced etcd member, a removed master or
 * node needs at run time (member remove / member add, drain, delete node), which the definition alone cannot say.
 * Kept in the synth record (last-synth.json) and carried forward until the host comes back, so a second synth
 * before the roll-out loses no step; every step is a no-op once done.
 */
export interface MembershipRecord {
  /** etcd member name → its peer URL and the ETCD_INITIAL_CLUSTER_STATE it was given (kept for good). */
  readonly etcd: Readonly<Record<string, { readonly peerUrl: string; readonly state: 'new' | 'existing' }>>;
  /** Members that left the definition: `member remove` them. */
  readonly retiredMembers: readonly string[];
  /**
   * Members whose address changed: `member update` their peer URL before their new bundle restarts them there (etcd
   * knows a member by its peer URL; its client URLs it advertises itself). Absent in older records.
   */
  readonly movedMembers?: readonly string[];
  /**
   * Kubelet hosts whose control-plane taint changed with their roles (a master given the node role, or one that lost
   * it): the kubelet sets taints only when it registers, so the live Node is tainted or untainted. Absent in older records.
   */
  readonly taintChanges?: readonly { readonly name: string; readonly tainted: boolean }[];
  /** Hosts that ran a kubelet and no longer do: drain them and delete their Node. ip: where they were. */
  readonly retiredNodes: readonly { readonly name: string; readonly ip?: string; readonly master?: boolean }[];
}

/** What an older record (hosts and roles only) says. */
export interface PreviousHosts {
  readonly [name: string]: { readonly roles: readonly HostRole[]; readonly ip?: string };
}

export function peerUrlOf(ip: string): string {
  return `https://${ip}:${PORTS.etcdPeer}`;
}

const runsKubelet = (roles: readonly HostRole[]) => roles.includes('master') || roles.includes('node');
/** Whether a host's kubelet registers with the control-plane taint (hosts/kubelet.ts). */
export const registersTainted = (roles: readonly HostRole[]) => roles.includes('master') && !roles.includes('node');

/**
 * This synth's membership: members of the previous synth keep their state; a member new to a cluster that already
 * had members joins it ('existing': `member add` first, then its bundle). etcd lets one member join at a time (a
 * joining member's ETCD_INITIAL_CLUSTER must equal the membership it finds), so two at once are refused.
 */
export function membershipOf(model: ClusterModel, previous?: MembershipRecord, previousHosts?: PreviousHosts): MembershipRecord {
  const had = previous?.etcd ?? Object.fromEntries(Object.entries(previousHosts ?? {})
    .filter(([, h]) => h.roles.includes('etcd')).map(([name, h]) => [name, { peerUrl: h.ip ? peerUrlOf(h.ip) : '', state: 'new' as const }]));
  const clusterExists = Object.keys(had).length > 0;
  const etcd = Object.fromEntries(model.etcdMembers.map((m) => [m.name, {
    peerUrl: peerUrlOf(m.ip),
    state: had[m.name]?.state ?? (clusterExists ? 'existing' as const : 'new' as const),
  }]));
  const joining = model.etcdMembers.filter((m) => clusterExists && !(m.name in had));
  if (joining.length > 1) {
    throw new ClusterDefinitionError(joining.slice(1).map((m) => ({
      path: `hosts[${model.hosts.indexOf(m)}].roles`,
      value: m.roles,
      message: `makes ${m.name} a second new etcd member in one change (${joining.map((j) => j.name).join(', ')} are new); etcd admits one at a time: `
        + `add ${joining[0].name}, synth and roll out, then the next`,
    })));
  }
  if (clusterExists && joining.length > 0 && model.etcdMembers.every((m) => !(m.name in had))) {
    throw new ClusterDefinitionError([{
      path: 'hosts', value: model.etcdMembers.map((m) => m.name),
      message: `replaces every etcd member at once (${Object.keys(had).join(', ')} were the members); a new member joins through a running one: keep one, or restore a snapshot onto the new hosts`,
    }]);
  }
  const current = new Set(model.etcdMembers.map((m) => m.name));
  const retiredMembers = [...new Set([...(previous?.retiredMembers ?? []), ...Object.keys(had)])].filter((n) => !current.has(n)).sort();
  const kubelets = new Set(model.hosts.filter((h) => runsKubelet(h.roles)).map((h) => h.name));
  const retired = new Map((previous?.retiredNodes ?? []).map((n) => [n.name, n]));
  for (const [name, h] of Object.entries(previousHosts ?? {})) {
    if (runsKubelet(h.roles)) retired.set(name, { name, ...(h.ip ? { ip: h.ip } : {}), ...(h.roles.includes('master') ? { master: true } : {}) });
  }
  const retiredNodes = [...retired.values()].filter((n) => !kubelets.has(n.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
  // Taints: each kubelet host that ran one before and whose taint differs now; the newest change of a host wins.
  const taints = new Map((previous?.taintChanges ?? []).filter((t) => kubelets.has(t.name)).map((t) => [t.name, t]));
  for (const h of model.hosts.filter((x) => kubelets.has(x.name))) {
    const before = previousHosts?.[h.name];
    if (!before || !runsKubelet(before.roles)) continue;
    if (registersTainted(before.roles) !== registersTainted(h.roles)) taints.set(h.name, { name: h.name, tainted: registersTainted(h.roles) });
  }
  const taintChanges = [...taints.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const movedNow = model.etcdMembers.filter((m) => had[m.name]?.peerUrl && had[m.name].peerUrl !== etcd[m.name].peerUrl).map((m) => m.name);
  const movedMembers = [...new Set([...(previous?.movedMembers ?? []), ...movedNow])].filter((n) => current.has(n)).sort();
  return {
    etcd, retiredMembers, ...(movedMembers.length > 0 ? { movedMembers } : {}), ...(taintChanges.length > 0 ? { taintChanges } : {}), retiredNodes,
  };
}
