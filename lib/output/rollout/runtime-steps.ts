import * as path from 'path';
import { ETCD_FILES, ETCD_SNAPSHOT } from '../../components';
import {
  MembershipRecord, componentSpec, peerUrlOf, runsOn, unitOf,
} from '../../components';
import { CONTROL_PLANE_TAINT, ClusterModel, PATHS } from '../../model';
import { etcdHealthCommand, healthCheck } from './health';

/**
 * Day-2 operations as ordered steps, made once here and rendered by deploy.sh, Ansible and the change plan (and run
 * as they are by the real-etcd tests): what runs where, in which order, and which steps wait.
 */
export interface RuntimeStep {
  /** What it does, in the plan's words. */
  readonly title: string;
  /** The hosts it runs on, one after the other; 'operator': the operator's machine, in dist/ (kubectl, admin.kubeconfig). */
  readonly on: readonly StepHost[] | 'operator';
  /** Shell command, run as root on each host. */
  readonly command?: string;
  /** Copy the operator's file (the snapshot) to this path on each host first (0600). */
  readonly upload?: string;
  /** Copy the host's bundle and run its install.sh (before `command`). */
  readonly install?: boolean;
  /** Retried until it succeeds (bounded): a wait. */
  readonly wait?: boolean;
  /** A failure is reported and the run goes on: the host may be gone for good. */
  readonly bestEffort?: boolean;
}

export interface StepHost { readonly name: string; readonly ip: string }

/** Where a restore puts the operator's snapshot on each member: beside the data directory, in its 0700 parent. */
export const RESTORE_SNAPSHOT = `${path.posix.dirname(PATHS.etcdData)}/restore-snapshot.db`;
/** The operator's kubectl: admin.kubeconfig beside deploy.sh; KUBECTL names another program. */
export const OPERATOR_KUBECTL = '"${KUBECTL:-kubectl}" --kubeconfig admin.kubeconfig';

const systemctl = (verb: string, ...units: string[]) => `systemctl ${verb} ${units.join(' ')}`;
const hostOf = (h: StepHost): StepHost => ({ name: h.name, ip: h.ip });


/**
 * Restore from a snapshot, in the only safe order: check the snapshot on every member; stop the apiservers; stop etcd
 * everywhere; restore every member with its own name and peer URLs into a fresh data directory (the old one kept
 * aside); start etcd and wait for health; start the apiservers and wait for /readyz; then restart what cached the
 * state from after the snapshot (controller-managers, schedulers, kubelets), as upstream's restore guide advises.
 */
export function restoreSteps(model: ClusterModel): RuntimeStep[] {
  const members = model.etcdMembers.map(hostOf);
  const masters = model.masters.map(hostOf);
  const kubelets = model.hosts.filter((h) => runsOn(componentSpec('kubelet'), h, model)).map(hostOf);
  return [
    { title: 'copy the snapshot to every etcd member and check it there', on: members, upload: RESTORE_SNAPSHOT,
      command: `${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table` },
    { title: 'stop the apiservers', on: masters, command: systemctl('stop', unitOf('kube-apiserver')) },
    { title: 'stop etcd on every member', on: members, command: systemctl('stop', unitOf('etcd')) },
    { title: 'restore every member with its own name and peer URLs into a fresh data directory (the old one kept aside)',
      on: members, command: `${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}` },
    // --no-block: a member's start (Type=notify) completes only once a quorum has started.
    { title: 'start etcd on every member', on: members, command: systemctl('start --no-block', unitOf('etcd')) },
    { title: 'wait for the etcd cluster to be healthy', on: members.slice(0, 1), command: etcdHealthCommand(model), wait: true },
    { title: 'start the apiservers', on: masters, command: systemctl('start', unitOf('kube-apiserver')) },
    { title: 'wait for each apiserver\'s /readyz', on: masters, command: healthCheck(model, 'kube-apiserver').command, wait: true },
    { title: 'restart the controller-managers and schedulers (their caches hold the state from after the snapshot)', on: masters,
      command: systemctl('restart', unitOf('kube-controller-manager'), unitOf('kube-scheduler')) },
    { title: 'restart the kubelets (the same)', on: kubelets, command: systemctl('restart', unitOf('kubelet')) },
  ];
}

/**
 * Rebuilds one member in place from empty data, with its name and address (a lost disk, a corrupt database): removed
 * from the cluster on another member, stopped, its data moved aside, added back, started with
 * ETCD_INITIAL_CLUSTER_STATE=existing (ETCD_FILES.rejoin) and waited for; etcd's documented way to replace a member.
 */
export function rebuildMemberSteps(model: ClusterModel, name: string): RuntimeStep[] {
  const member = model.etcdMembers.find((m) => m.name === name);
  if (!member) throw new Error(`${name} is not an etcd member; the members are ${model.etcdMembers.map((m) => m.name).join(', ')}`);
  const other = model.etcdMembers.find((m) => m.name !== name);
  if (!other) throw new Error(`${name} is the only etcd member: nothing to rebuild it from; restore a snapshot instead`);
  const data = PATHS.etcdData;
  const rejoin = ETCD_FILES.rejoin;
  return [
    { title: `etcdctl member remove ${name}`, on: [hostOf(other)], command: `${ETCD_FILES.member} remove ${name}` },
    { title: `stop etcd on ${name}`, on: [hostOf(member)], command: systemctl('stop', unitOf('etcd')) },
    { title: `move ${name}'s data directory aside and mark it to join the running cluster`, on: [hostOf(member)],
      command: `if [ -e ${data} ]; then mv -T ${data} ${data}.before-rebuild-$(date -u +%Y%m%dT%H%M%SZ); fi; `
        + `mkdir -p ${path.posix.dirname(rejoin)} && echo ETCD_INITIAL_CLUSTER_STATE=existing > ${rejoin}` },
    { title: `etcdctl member add ${name} --peer-urls=${peerUrlOf(member.ip)}`, on: [hostOf(other)],
      command: `${ETCD_FILES.member} add ${name} ${peerUrlOf(member.ip)}` },
    { title: `start etcd on ${name}`, on: [hostOf(member)], command: systemctl('start --no-block', unitOf('etcd')) },
    { title: 'wait for the etcd cluster to be healthy', on: [hostOf(other)], command: etcdHealthCommand(model), wait: true },
    { title: `remove ${name}'s rejoin mark (its data now says it is a member)`, on: [hostOf(member)], command: `rm -f ${rejoin}` },
  ];
}

/** An on-demand snapshot on one member: the timer's own script, which prints the file it made last. */
export const SNAPSHOT_COMMAND = ETCD_SNAPSHOT.script;

/**
 * Membership steps the roll-out runs before it installs anything, from the synth record (each a no-op once done):
 * retired nodes are drained, stopped and deleted; retired members removed; a moved member's peer URL updated; a member joining a running
 * cluster is added, installed (its ETCD_INITIAL_CLUSTER_STATE is 'existing') and waited for. The lb hosts' new
 * nginx upstream comes with the roll-out itself.
 */
export function membershipSteps(model: ClusterModel, membership: MembershipRecord): RuntimeStep[] {
  const steps: RuntimeStep[] = [];
  const kubectl = OPERATOR_KUBECTL;
  const where = (n: { ip?: string }) => n.ip !== undefined;
  for (const n of membership.retiredNodes) {
    // Guarded: a Node already gone is done; kubectl failing to reach the cluster is not.
    const exists = `test -n "$(${kubectl} get node ${n.name} --ignore-not-found -o name)"`;
    steps.push({ title: `kubectl drain ${n.name}`, on: 'operator',
      command: `if ${exists}; then ${kubectl} drain ${n.name} --ignore-daemonsets --delete-emptydir-data --timeout=300s; fi` });
    if (where(n)) {
      steps.push({ title: `stop the kubelet and kube-proxy on ${n.name}, so it does not register again`, on: [{ name: n.name, ip: n.ip! }],
        command: systemctl('disable --now', unitOf('kubelet'), unitOf('kube-proxy')), bestEffort: true });
    }
    steps.push({ title: `kubectl delete node ${n.name}`, on: 'operator',
      command: `if ${exists}; then ${kubectl} delete node ${n.name}; fi` });
    if (n.master && model.lbHosts.length > 0) {
      steps.push({ title: `the nginx upstream drops ${n.name}'s apiserver: the lb hosts' new nginx.conf, in the roll-out`, on: model.lbHosts.map(hostOf) });
    }
  }
  for (const t of membership.taintChanges ?? []) {
    const taint = `${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}`;
    // Guarded both ways: a Node already (un)tainted is done; a Node not registered yet gets it from its kubelet.
    const has = `${kubectl} get node ${t.name} -o jsonpath='{.spec.taints[*].key}' | tr ' ' '\\n' | grep -qxF ${CONTROL_PLANE_TAINT.key}`;
    const exists = `test -n "$(${kubectl} get node ${t.name} --ignore-not-found -o name)"`;
    steps.push(t.tainted
      ? { title: `kubectl taint node ${t.name} ${taint} (a master without the node role takes no pods)`, on: 'operator',
        command: `if ${exists}; then ${kubectl} taint node ${t.name} ${taint} --overwrite; fi` }
      : { title: `kubectl taint node ${t.name} ${taint}- (it has the node role: it takes pods)`, on: 'operator',
        command: `if ${exists} && ${has}; then ${kubectl} taint node ${t.name} ${taint}-; fi` });
  }
  const members = model.etcdMembers;
  const joining = members.filter((m) => membership.etcd[m.name]?.state === 'existing');
  const runner = (not?: string) => members.find((m) => m.name !== not && !joining.includes(m)) ?? members.find((m) => m.name !== not);
  for (const name of membership.retiredMembers) {
    const r = runner();
    if (r) steps.push({ title: `etcdctl member remove ${name}`, on: [hostOf(r)], command: `${ETCD_FILES.member} remove ${name}` });
  }
  for (const name of membership.movedMembers ?? []) {
    const r = runner(name);
    const m = members.find((x) => x.name === name);
    const url = m ? peerUrlOf(m.ip) : undefined;
    if (r && url) {
      steps.push({ title: `etcdctl member update ${name} --peer-urls=${url}`, on: [hostOf(r)], command: `${ETCD_FILES.member} update ${name} ${url}` });
    }
  }
  for (const m of joining) {
    const r = runner(m.name);
    if (!r) continue;
    const url = membership.etcd[m.name].peerUrl;
    steps.push({ title: `etcdctl member add ${m.name} --peer-urls=${url}`, on: [hostOf(r)], command: `${ETCD_FILES.member} add ${m.name} ${url}` });
    steps.push({ title: `install ${m.name}'s bundle (ETCD_INITIAL_CLUSTER_STATE=existing) and wait for the etcd cluster's health`,
      on: [hostOf(m)], install: true, wait: true, command: etcdHealthCommand(model) });
  }
  return steps;
}

/** The membership steps this synth adds to those already pending: what its change plan shows. */
export function newMembershipSteps(model: ClusterModel, previous: MembershipRecord | undefined, current: MembershipRecord): RuntimeStep[] {
  const had = previous?.etcd ?? {};
  const oldRetired = new Set(previous?.retiredMembers ?? []);
  const oldNodes = new Set((previous?.retiredNodes ?? []).map((n) => n.name));
  return membershipSteps(model, {
    etcd: Object.fromEntries(Object.entries(current.etcd).filter(([name]) => !(name in had) || previous === undefined)),
    retiredMembers: current.retiredMembers.filter((n) => !oldRetired.has(n)),
    movedMembers: (current.movedMembers ?? []).filter((n) => had[n] && had[n].peerUrl !== current.etcd[n].peerUrl),
    retiredNodes: current.retiredNodes.filter((n) => !oldNodes.has(n.name)),
    taintChanges: (current.taintChanges ?? []).filter((t) => !(previous?.taintChanges ?? []).some((p) => p.name === t.name && p.tainted === t.tainted)),
  });
}
