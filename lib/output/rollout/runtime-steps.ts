import * as path from 'path';
import { apiWatchers } from '../../addons';
import {
  COMPONENT_LIST, ETCD_FILES, ETCD_SNAPSHOT, MembershipRecord, componentSpec, localEtcdctlCommand, peerUrlOf, runsOn, unitOf,
} from '../../components';
import { CONTROL_PLANE_TAINT, ClusterModel, NODE_ROLE_LABELS, PATHS } from '../../model';
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
  /** Copy a file of the operator's to each host first (0600): the snapshot named, or a file of dist/. */
  readonly upload?: Upload;
  /** Copy the host's bundle and run its install.sh (before `command`). */
  readonly install?: boolean;
  /** Retried until it succeeds (bounded): a wait. */
  readonly wait?: boolean;
  /** A failure is reported and the run goes on: the host may be gone for good. */
  readonly bestEffort?: boolean;
}

export interface StepHost { readonly name: string; readonly ip: string }

export interface Upload {
  /** 'snapshot': the file the operator names (deploy.sh --restore FILE, restore.yml -e snapshot=); else a path in dist/. */
  readonly from: 'snapshot' | string;
  readonly to: string;
}

/** Where a restore puts the operator's snapshot on each member: beside the data directory, in its 0700 parent. */
export const RESTORE_SNAPSHOT = `${path.posix.dirname(PATHS.etcdData)}/restore-snapshot.db`;
/** The operator's kubectl: admin.kubeconfig beside deploy.sh; KUBECTL names another program. */
export const OPERATOR_KUBECTL = '"${KUBECTL:-kubectl}" --kubeconfig admin.kubeconfig';

const systemctl = (verb: string, ...units: string[]) => `systemctl ${verb} ${units.join(' ')}`;
const hostOf = (h: StepHost): StepHost => ({ name: h.name, ip: h.ip });

/** The apiservers' etcd prefix for Secrets (their default --etcd-prefix, /registry). */
const SECRETS_PREFIX = '/registry/secrets/';

/**
 * A restore gives the apiservers every key Secrets may be written with, retired ones too (a snapshot from before a
 * rotation), from a file of the operator's: on the masters only while the restore runs.
 */
export const RESTORE_ENCRYPTION = {
  /** In dist/: the encryption config with every key of the state, retired ones last (0600). */
  operatorFile: 'restore/encryption-config.yaml',
  /** Where it is copied on a master; under /run, so a reboot forgets it. */
  upload: '/run/kubesmith/restore-encryption-config.yaml',
  /** The master's installed config, kept while the restore's one is in its place. */
  saved: `${PATHS.encryptionConfig}.before-restore`,
} as const;

/**
 * On an etcd member: how many Secrets each key wrote, one "COUNT PROVIDER:KEY" line per key ("identity" for Secrets
 * stored unencrypted), read from the prefix of the stored values. With `writer`, it fails unless every Secret is
 * written with that secretbox key.
 */
export function secretKeysCommand(writer?: string): string {
  const read = `f=$(${localEtcdctlCommand()} get --prefix ${SECRETS_PREFIX} -w fields) || exit 1; printf '%s\\n' "$f"`;
  const keys = `sed -n -e 's/^"Value" : "k8s:enc:\\([a-z0-9]*\\):v[0-9]*:\\([^:]*\\):.*/\\1:\\2/p' -e t -e 's/^"Value" : .*/identity/p'`;
  const count = `${read} | ${keys} | sort | uniq -c`;
  return writer === undefined ? count : `${count} | awk '{ print } $2 != "secretbox:${writer}" { other += $1 } END { exit other > 0 }'`;
}

/** The operator's command that writes every Secret again, so the apiservers encrypt it with their writing key. */
export const REWRITE_SECRETS = `${OPERATOR_KUBECTL} get secrets --all-namespaces -o json | ${OPERATOR_KUBECTL} replace -f - > /dev/null`;
/** The same, as messages tell an operator to type it. */
export const REWRITE_SECRETS_HINT = 'kubectl get secrets -A -o json | kubectl replace -f -';

/** Units of the component table that watch the API (`watchesApi`), grouped by the hosts they run on. */
function apiClientUnits(model: ClusterModel): { units: string[]; on: StepHost[] }[] {
  const groups = new Map<string, { units: string[]; on: StepHost[] }>();
  for (const spec of COMPONENT_LIST.filter((c) => c.watchesApi)) {
    const on = model.hosts.filter((h) => runsOn(spec, h, model)).map(hostOf);
    if (on.length === 0) continue;
    const key = on.map((h) => h.name).join(' ');
    const group = groups.get(key) ?? { units: [], on };
    group.units.push(spec.unit);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * Restore from a snapshot, in the only safe order: check the snapshot on every member; stop the apiservers and give
 * them every encryption key of the state (a snapshot from before a key rotation holds Secrets written with a retired
 * key); stop etcd everywhere; restore every member with its own name and peer URLs into a fresh data directory (the
 * old one kept aside); start etcd and wait for health; start the apiservers and wait for /readyz; write every Secret
 * again with the writing key and check so in etcd; give each apiserver its own config back, one at a time; then
 * restart every client that cached the state from after the snapshot (the component table's units that watch
 * the API, and the addons' pods that do), as upstream's restore guide advises.
 */
export function restoreSteps(model: ClusterModel, writingKey: string): RuntimeStep[] {
  const members = model.etcdMembers.map(hostOf);
  const masters = model.masters.map(hostOf);
  const apiserver = unitOf('kube-apiserver');
  const readyz = healthCheck(model, 'kube-apiserver').command;
  const { upload, saved } = RESTORE_ENCRYPTION;
  const config = PATHS.encryptionConfig;
  const kubectl = OPERATOR_KUBECTL;
  const watching = apiWatchers(model.addons);
  const watchers = watching.map((w) => {
    const ref = `${w.kind}/${w.name}`;
    // Guarded: a workload not applied yet has no cache.
    return `if ${kubectl} -n ${w.namespace} get ${ref} -o name > /dev/null 2>&1; then ${kubectl} -n ${w.namespace} rollout restart ${ref}; fi`;
  });
  return [
    { title: 'copy the snapshot to every etcd member and check it there', on: members, upload: { from: 'snapshot', to: RESTORE_SNAPSHOT },
      command: `${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table` },
    { title: 'stop the apiservers', on: masters, command: systemctl('stop', apiserver) },
    { title: 'give the apiservers every encryption key of the state, retired ones too (the snapshot\'s Secrets may be written with one); their own config is kept aside',
      on: masters, upload: { from: RESTORE_ENCRYPTION.operatorFile, to: upload },
      // A re-run after a failure keeps the first saved config, never the restore's.
      command: `if [ ! -e ${saved} ]; then cp -p ${config} ${saved}; fi; mv -f ${upload} ${config}` },
    { title: 'stop etcd on every member', on: members, command: systemctl('stop', unitOf('etcd')) },
    { title: 'restore every member with its own name and peer URLs into a fresh data directory (the old one kept aside)',
      on: members, command: `${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}` },
    // --no-block: a member's start (Type=notify) completes only once a quorum has started.
    { title: 'start etcd on every member', on: members, command: systemctl('start --no-block', unitOf('etcd')) },
    { title: 'wait for the etcd cluster to be healthy', on: members.slice(0, 1), command: etcdHealthCommand(model), wait: true },
    { title: 'start the apiservers', on: masters, command: systemctl('start', apiserver) },
    { title: 'wait for each apiserver\'s /readyz', on: masters, command: readyz, wait: true },
    // Retried: a Secret a controller changes meanwhile makes its replace conflict.
    { title: `write every Secret again, so the apiservers encrypt it with ${writingKey}`, on: 'operator', command: REWRITE_SECRETS, wait: true },
    { title: `check in etcd that every Secret is written with ${writingKey}`, on: members.slice(0, 1), command: secretKeysCommand(writingKey) },
    ...masters.flatMap((m): RuntimeStep[] => [
      { title: `give ${m.name}'s apiserver its own encryption config back (the keys in force only)`, on: [m],
        command: `if [ -e ${saved} ]; then mv -f ${saved} ${config}; fi` },
      { title: `restart ${m.name}'s apiserver`, on: [m], command: systemctl('restart', apiserver) },
      { title: `wait for ${m.name}'s apiserver's /readyz`, on: [m], command: readyz, wait: true },
    ]),
    ...apiClientUnits(model).map(({ units, on }): RuntimeStep => ({
      title: `restart ${units.map((u) => u.replace(/\.service$/, '')).join(', ')} (their caches hold the state from after the snapshot)`,
      on, command: systemctl('restart', ...units),
    })),
    ...(watchers.length > 0 ? [{
      title: `restart the addons' pods that watch the API (${watching.map((w) => w.name).join(', ')})`,
      on: 'operator' as const, command: watchers.join('; '),
    }] : []),
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

/**
 * The operator's command that labels each registered Node with the roles of its host (NODE_ROLE_LABELS) and takes
 * away those it no longer has; a Node not registered yet (its kubelet waits for the addons' RBAC) is named and left
 * for the next roll-out. Each `kubectl label` prints "labeled" or "modified" when it changed the Node, "not labeled" when
 * not, and "label ... not found." for each label to take away that the Node does not have.
 */
export function nodeRoleLabelCommand(model: ClusterModel): string {
  const kubectl = OPERATOR_KUBECTL;
  const kubelet = componentSpec('kubelet');
  return model.hosts.filter((h) => runsOn(kubelet, h, model)).map((h) => {
    const labels = (Object.keys(NODE_ROLE_LABELS) as (keyof typeof NODE_ROLE_LABELS)[])
      .map((role) => `${NODE_ROLE_LABELS[role]}${h.has(role) ? '=' : '-'}`);
    // An API that does not answer fails the command; only a Node that is not there is left for later.
    return `if ! n=$(${kubectl} get node ${h.name} --ignore-not-found -o name); then exit 1; elif [ -n "$n" ]; then `
      + `${kubectl} label node ${h.name} --overwrite ${labels.join(' ')}; else echo "node/${h.name} not registered yet: the next roll-out labels it"; fi`;
  }).join('\n');
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
