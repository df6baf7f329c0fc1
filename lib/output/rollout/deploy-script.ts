import * as fs from 'fs';
import * as path from 'path';
import { MembershipRecord, rolloutSteps } from '../../components';
import { ClusterModel, NODE_ROLE_LABELS } from '../../model';
import { UpgradePlan } from '../../upgrade';
import { minorOf } from '../../versions/kubernetes';
import { removedBetween } from '../../versions/removed-apis';
import {
  HEALTH_WAIT, etcdHealthCommand, healthCheck, healthChecks, runningUnitsCommand,
} from './health';
import {
  REWRITE_SECRETS_HINT, RuntimeStep, SNAPSHOT_COMMAND, membershipSteps, nodeRoleLabelCommand, rebuildMemberSteps, restoreSteps,
  secretKeysCommand,
} from './runtime-steps';

/** Two bash functions for a list of steps: NAME_plan prints them numbered, NAME_run runs them in order. */
export function renderBashSteps(name: string, steps: readonly RuntimeStep[]): string {
  const plan: string[] = [];
  const run: string[] = [];
  steps.forEach((s, i) => {
    const where = s.on === 'operator' ? 'here' : s.on.map((h) => h.name).join(', ');
    plan.push(`  say ${sq(`  ${i + 1}. ${s.title} (${where})`)}`);
    if (s.command) plan.push(`  say ${sq(`       ${s.command}`)}`);
    run.push(`  say ${sq(`${i + 1}. ${s.title}`)}`);
    if (s.on === 'operator') {
      run.push(`  local_step ${sq(s.command!)}`);
      return;
    }
    for (const h of s.on) {
      const host = `${sq(h.name)} ${sq(h.ip)}`;
      if (s.upload) run.push(`  upload ${host} ${s.upload.from === 'snapshot' ? '"$FILE"' : sq(s.upload.from)} ${sq(s.upload.to)}`);
      if (s.install) run.push(`  install_host ${host}`);
      if (!s.command) continue;
      const how = s.wait ? 'wait' : s.bestEffort ? 'best-effort' : 'once';
      run.push(`  on_host ${how} ${host} ${sq(s.command)}`);
    }
  });
  // Commands expand on the hosts, not here: single quotes on purpose.
  const hostSide = '# shellcheck disable=SC2016 # the commands expand on the hosts';
  return [hostSide, `${name}_plan() {`, ...(plan.length ? plan : ['  :']), '}', hostSide, `${name}_run() {`, ...(run.length ? run : ['  :']), '}', ''].join('\n');
}
import { BINARIES_DIR, stagedRoles, stagedVersions } from './fetch-script';
import {
  EXPIRING_CERTS_COMMAND, UPGRADE_PATHS, apiserverVersionCommand, drainFlags,
} from './upgrade-commands';
import { sq } from '../../util/shell';

// The upgrade waves and the program copies, in a file of their own so they stay plain bash that shellcheck reads.
const UPGRADE_SH = fs.readFileSync(path.join(__dirname, 'upgrade.sh'), 'utf8').replace(/^#.*\n/, '').trimEnd();

/** deploy.sh's data for an upgrade: named fields per step (lib/output/rollout/upgrade.sh reads them). */
function upgradeData(model: ClusterModel, plan: UpgradePlan | undefined): string {
  const hostEntry = (h: { name: string; ip: string }) => `  ${sq(`host=${h.name} ip=${h.ip}`)}`;
  const steps = plan ? plan.waves.flatMap((w) => w.steps.map((st) => `  ${sq([
    `wave=${st.wave}`, `step=${st.step}`, `host=${st.host.name}`, `ip=${st.host.ip}`, `drain=${st.drain ? 1 : 0}`,
    `units=${st.units.join(',')}`, `programs=${st.programs.map((p) => p.path).join(',')}`,
  ].join(' '))}`)) : [];
  const from = plan?.from.kubernetes ?? model.kubernetesVersion;
  const to = plan?.to.kubernetes ?? model.kubernetesVersion;
  const summary = plan ? plan.changed.map((id) => `${id} ${plan.from[id]} → ${plan.to[id]}`).join(', ') : '';
  const removed = removedBetween(minorOf(from), minorOf(to));
  const first = model.etcdMembers[0];
  return [
    '# The upgrade this synth rolls out (none when the versions are those of the synth it started from), in waves:',
    '# one entry per step and host, as named fields.',
    'UPGRADE_STEPS=(',
    ...steps,
    ')',
    `UPGRADE_TARGET=${sq(plan?.target ?? '')}`,
    `UPGRADE_SUMMARY=${sq(summary)}`,
    `UPGRADE_FROM_KUBERNETES=${sq(from)} UPGRADE_TO_KUBERNETES=${sq(to)} UPGRADE_TO_MINOR=${minorOf(to)}`,
    `UPGRADE_DRAINS=${plan?.waves.some((w) => w.steps.some((st) => st.drain)) ? 1 : 0} DRAIN_TIMEOUT=${model.upgrades.drainTimeoutSeconds}`,
    `UPGRADE_ROLLBACK=${sq(plan?.rollback ?? '')}`,
    '# APIs the target minor no longer serves (lib/versions/removed-apis.ts)',
    `REMOVED_APIS=(${removed.map((r) => sq(`api=${r.api} resources=${r.resources.join(',')}`)).join(' ')})`,
    'MASTERS=(', ...model.masters.map(hostEntry), ')',
    'OTHERS=(', ...model.hosts.filter((h) => !h.has('master')).map(hostEntry), ')',
    `VERSION_CMD=${sq(apiserverVersionCommand(model))}`,
    '# shellcheck disable=SC2016 # expands on the host',
    `CERT_CMD=${sq(EXPIRING_CERTS_COMMAND)}`,
    `PREVIOUS=${sq(UPGRADE_PATHS.previous)} REACHED=${sq(UPGRADE_PATHS.reached)}`,
    `DRAIN_FLAGS=(${drainFlags(model).map(sq).join(' ')})`,
    `ETCD_HEALTH_CMD=${sq(etcdHealthCommand(model))}`,
    `FIRST_ETCD_HOST=${sq(first.name)} FIRST_ETCD_IP=${sq(first.ip)}`,
    `BINARIES_DIR=${sq(BINARIES_DIR)}`,
  ].join('\n');
}

/** --rebuild-member's steps per etcd member (rebuild_<i>_plan, rebuild_<i>_run) and the case lines that pick them. */
function rebuildSteps(model: ClusterModel): { functions: string; cases: string } {
  const members = model.etcdMembers.length > 1 ? model.etcdMembers : [];
  return {
    functions: members.map((m, i) => renderBashSteps(`rebuild_${i}`, rebuildMemberSteps(model, m.name))).join('\n'),
    cases: members.map((m, i) => `    ${sq(m.name)}) plan=rebuild_${i}_plan run=rebuild_${i}_run ;;`).join('\n'),
  };
}

/**
 * dist/deploy.sh: the roll-out over scp and ssh for users without Ansible. Prints the plan first and
 * changes nothing without --yes. SSH and SCP may name other programs (tests use stubs).
 */
export function renderDeployScript(
  model: ClusterModel, membership: MembershipRecord, upgrade: UpgradePlan | undefined, writingKey: string,
): string {
  const members = membershipSteps(model, membership);
  const steps = rolloutSteps(model).map((s) => `  '${s.phase} ${s.host.name} ${s.host.ip}'`);
  const staged = stagedRoles(model).map((r) => r.role);
  return `#!/usr/bin/env bash
# kubesmith deploy.sh for cluster ${model.name}. Generated: edit the cluster definition instead.
# Copies each host's bundle with scp and runs its install.sh over ssh, one host at a time, in the order of
# ansible/site.yml: etcd members, the etcd cluster's health, masters (each waits for its apiserver's /readyz),
# lb hosts (each waits for its L4 port), nodes. After each host it waits until every service that was running
# there before (etcd, kube-apiserver, nginx, kubelet) is healthy again, so no role has two members down at once.
# Prints the plan; changes nothing without --yes.
# --check: runs each host's install.sh --check (files that differ from the bundle, units not active); exit 3 on drift.
# --snapshot: an etcd snapshot now, on the first member (or --only MEMBER), copied to snapshots/ here.
# --restore FILE: restores every etcd member from a snapshot (prints the steps; runs them only with --yes); not with --only.
# --rebuild-member MEMBER: rebuilds one etcd member in place from empty data (a lost disk); prints the steps, --yes runs them.
# --secret-keys: counts the Secrets in etcd by the key that wrote them, on the first member (or --only MEMBER); exit 1
#   unless every one is written with ${writingKey} (what \`npm run certs -- encryption-key drop\` asks first).
# --only HOST: only that host (a host of this cluster, or an error); an upgrade and membership changes need every host.
# Membership changes the last synths planned (member remove/add, drain, delete node) run before the roll-out.
# A version change goes first in waves (lib/output/rollout/upgrade.sh): a preflight, etcd, each master's control
# plane, the node programs (drained for a minor); each host records the steps it finished, so a re-run resumes.
# Programs are copied only where their sha256 differs, so a roll-out that changes nothing restarts nothing.
set -euo pipefail

usage() { echo "usage: deploy.sh [--yes | --check | --snapshot | --restore FILE | --rebuild-member MEMBER | --secret-keys] [--user USER] [--only HOST]"; }
YES=0 CHECK=0 SNAPSHOT=0 SECRET_KEYS=0 FILE='' REBUILD='' SSH_USER=root ONLY=''
while [ $# -gt 0 ]; do
  case "$1" in
    --yes) YES=1; shift ;;
    --check) CHECK=1; shift ;;
    --snapshot) SNAPSHOT=1; shift ;;
    --secret-keys) SECRET_KEYS=1; shift ;;
    --restore) [ $# -ge 2 ] || { usage >&2; exit 2; }; FILE=$2; shift 2 ;;
    --rebuild-member) [ $# -ge 2 ] || { usage >&2; exit 2; }; REBUILD=$2; shift 2 ;;
    --user) [ $# -ge 2 ] || { usage >&2; exit 2; }; SSH_USER=$2; shift 2 ;;
    --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; ONLY=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "deploy.sh: error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
HOSTS=(${model.hosts.map((h) => h.name).join(' ')})
ETCD_MEMBERS=(${model.etcdMembers.map((h) => h.name).join(' ')})
refuse() { echo "deploy.sh: error: $*" >&2; exit 2; }
# An unknown host or two modes at once is an error, never a run that does something else.
if [ -n "$ONLY" ] && ! printf '%s\n' "\${HOSTS[@]}" | grep -qxF -- "$ONLY"; then
  refuse "--only $ONLY: no such host in cluster ${model.name}; the hosts are \${HOSTS[*]}"
fi
[ $((CHECK + SNAPSHOT + SECRET_KEYS + (\${#FILE} > 0) + (\${#REBUILD} > 0))) -le 1 ] || refuse "--check, --snapshot, --restore, --rebuild-member and --secret-keys are separate modes: give one"
if [ -n "$REBUILD" ]; then
  printf '%s\n' "\${ETCD_MEMBERS[@]}" | grep -qxF -- "$REBUILD" || refuse "--rebuild-member $REBUILD: no such etcd member in cluster ${model.name}; the members are \${ETCD_MEMBERS[*]}"
  [ -z "$ONLY" ] || refuse "--only $ONLY: --rebuild-member names the one host it works on; drop --only"
fi
[ "$CHECK" = 0 ] || [ "$YES" = 0 ] || refuse "--check changes nothing, --yes rolls out: give one"
# A restore is all or nothing: members restored from different data would not form one cluster.
[ -z "$FILE" ] || [ -z "$ONLY" ] || refuse "--only $ONLY: a restore brings every etcd member (\${ETCD_MEMBERS[*]}) back from the one snapshot, or they would hold different data; run --restore without --only"
# The snapshot is named from where the operator stands; deploy.sh works in its own folder.
case "$FILE" in ''|/*) ;; *) FILE=$PWD/$FILE ;; esac
SSH=\${SSH:-ssh} SCP=\${SCP:-scp}
TRIES=\${KUBESMITH_WAIT_TRIES:-${HEALTH_WAIT.tries}} DELAY=\${KUBESMITH_WAIT_DELAY:-${HEALTH_WAIT.delaySeconds}}
OPTS=(-o BatchMode=yes -o ConnectTimeout=10)
cd -- "$(dirname -- "\${BASH_SOURCE[0]}")"

# phase, host, address
STEPS=(
${steps.join('\n')}
)
FIRST_ETCD='${model.etcdMembers[0].name} ${model.etcdMembers[0].ip}'
STAGING=/root/kubesmith
# host -> the roles whose programs fetch-binaries.sh staged under ${BINARIES_DIR}/<role>/; copied before its install.sh
declare -A BINARY_ROLES=(
${model.hosts.map((h) => `  [${h.name}]='${h.roles.filter((r) => staged.includes(r)).join(' ')}'`).join('\n')}
)
BINARY_VERSIONS='${stagedVersions(model)}'

say() { echo "deploy.sh: $*"; }
die() { echo "deploy.sh: error: $*" >&2; exit 1; }
remote() { local ip=$1; shift; "$SSH" "\${OPTS[@]}" "$SSH_USER@$ip" "$@"; }
wait_for() { # ip, what, command
  local ip=$1 what=$2 cmd=$3 i
  for ((i = 1; i <= TRIES; i++)); do
    if remote "$ip" "$cmd" > /dev/null 2>&1; then say "  $what: ok"; return 0; fi
    sleep "$DELAY"
  done
  die "$what: not ready after $TRIES tries, $DELAY s apart"
}

# Copies a host's bundle to it and unpacks it: host, address.
stage() {
  remote "$2" "mkdir -p $STAGING && chmod 700 $STAGING"
  "$SCP" "\${OPTS[@]}" -q "hosts/$1.tar.gz" "$SSH_USER@$2:$STAGING/$1.tar.gz"
  remote "$2" "rm -rf $STAGING/bundle && mkdir -p $STAGING/bundle && tar -xzf $STAGING/$1.tar.gz -C $STAGING/bundle"
}

${upgradeData(model, upgrade)}

# Takes a snapshot on a member and copies it to snapshots/ here; SNAPSHOT_FILE is its path here.
take_snapshot() {
  local host=$1 ip=$2 out file sum
  say "$host ($ip): taking an etcd snapshot"
  out=$(remote "$ip" ${sq(SNAPSHOT_COMMAND)}) || die "$host: the snapshot failed"
  file=\${out##*$'\n'}
  mkdir -p snapshots && chmod 700 snapshots
  "$SCP" "\${OPTS[@]}" -q "$SSH_USER@$ip:$file" "snapshots/\${file##*/}"
  chmod 600 "snapshots/\${file##*/}"
  sum=$(sha256sum < "snapshots/\${file##*/}")
  say "saved snapshots/\${file##*/} (sha256 \${sum%% *}; $file stays on $host): it holds every Secret, keep it safe"
  SNAPSHOT_FILE="snapshots/\${file##*/}"
}

${UPGRADE_SH}

# Runtime steps (lib/output/rollout/runtime-steps.ts). on_host once|wait|best-effort HOST ADDRESS COMMAND
declare -A INSTALLED=()
on_host() {
  local how=$1 host=$2 ip=$3 cmd=$4
  say "  $host: $cmd"
  case "$how" in
    wait) wait_for "$ip" "$host" "$cmd" ;;
    best-effort) remote "$ip" "$cmd" || say "  $host: failed or unreachable (it may be gone for good); going on" ;;
    *) remote "$ip" "$cmd" || die "$host: failed: $cmd" ;;
  esac
}
local_step() { say "  here: $1"; bash -c "$1" || die "failed here: $1"; }
# Copies the operator's FILE to HOST:DEST (0600) and checks it arrived whole.
upload() {
  local host=$1 ip=$2 src=$3 dst=$4 sum
  remote "$ip" "mkdir -p \$(dirname \"$dst\")"
  "$SCP" "\${OPTS[@]}" -q "$src" "$SSH_USER@$ip:$dst"
  sum=$(sha256sum < "$src"); sum=\${sum%% *}
  remote "$ip" "chmod 600 $dst && echo '$sum  $dst' | sha256sum -c --quiet" || die "$host: $dst differs from $src after the copy"
  say "  $host: $dst (sha256 $sum)"
}
# unit -> what it is, and the command that succeeds on its host once it is healthy (lib/output/rollout/health.ts)
HEALTH_UNITS=(${healthChecks(model).map((c) => c.unit).join(' ')})
declare -A HEALTH_WHAT=(
${healthChecks(model).map((c) => `  [${c.unit}]=${sq(c.what)}`).join('\n')}
)
declare -A HEALTH=(
${healthChecks(model).map((c) => `  [${c.unit}]=${sq(c.command)}`).join('\n')}
)
# Installs a host, then waits for every service that ran there before to be healthy again: host, address.
install_host() {
  local running u
  say "$1 ($2): installing"
  stage "$1" "$2"
  [ "$BINARIES" = 0 ] || sync_programs "$1" "$2"
  # shellcheck disable=SC2016 # expands on the host
  running=$(remote "$2" ${sq(runningUnitsCommand(model))}) || die "$1: cannot ask systemctl which services run"
  remote "$2" "$STAGING/bundle/install.sh"
  INSTALLED[$1]=1
  for u in "\${HEALTH_UNITS[@]}"; do
    if grep -qx -- "$u" <<< "$running"; then wait_for "$2" "$1 \${HEALTH_WHAT[$u]} (it ran before this install)" "\${HEALTH[$u]}"; fi
  done
}

${renderBashSteps('restore', restoreSteps(model, writingKey))}
${rebuildSteps(model).functions}
${renderBashSteps('membership', members)}
if [ "$SNAPSHOT" = 1 ] || [ "$SECRET_KEYS" = 1 ]; then
  read -r host ip <<< "$FIRST_ETCD"
  if [ -n "$ONLY" ]; then
    host=''
    for step in "\${STEPS[@]}"; do read -r phase h a <<< "$step"; if [ "$phase" = etcd ] && [ "$h" = "$ONLY" ]; then host=$h ip=$a; fi; done
    [ -n "$host" ] || die "--only $ONLY is not an etcd member"
  fi
fi
if [ "$SNAPSHOT" = 1 ]; then
  take_snapshot "$host" "$ip"
  exit 0
fi
if [ "$SECRET_KEYS" = 1 ]; then
  say "Secrets in etcd by the key that wrote them (on $host):"
  # shellcheck disable=SC2016 # expands on the host
  remote "$ip" ${sq(secretKeysCommand(writingKey))} || die "not every Secret is written with ${writingKey}, or etcd could not be read on $host; write them again: ${REWRITE_SECRETS_HINT}"
  say "every Secret is written with ${writingKey}"
  exit 0
fi

if [ -n "$REBUILD" ]; then
  case "$REBUILD" in
${rebuildSteps(model).cases}
    *) die "$REBUILD: the only etcd member: nothing to rebuild it from; restore a snapshot instead" ;;
  esac
  say "rebuild of etcd member $REBUILD from empty data, in this order:"
  "$plan"
  if [ "$YES" != 1 ]; then say "nothing done: run again with --yes to rebuild $REBUILD (its data directory is kept aside)"; exit 0; fi
  "$run"
  say "rebuilt $REBUILD; its old data directory stays beside the new one: remove it once the cluster is healthy"
  exit 0
fi

if [ -n "$FILE" ]; then
  [ -f "$FILE" ] || die "no snapshot file $FILE"
  say "restore of cluster ${model.name} from $FILE, in this order:"
  restore_plan
  if [ "$YES" != 1 ]; then say "nothing done: run again with --yes to restore (the apiservers and etcd stop meanwhile)"; exit 0; fi
  restore_run
  say "restored; the old data directories stay beside the new ones (\${STAGING%/*}: see etcd-restore.sh's output above)"
  exit 0
fi

if [ "$CHECK" = 1 ]; then
  declare -A CHECKED=()
  DRIFTED=()
  for step in "\${STEPS[@]}"; do
    read -r phase host ip <<< "$step"
    [ -z "$ONLY" ] || [ "$ONLY" = "$host" ] || continue
    [ -z "\${CHECKED[$host]-}" ] || continue
    CHECKED[$host]=1
    [ -f "hosts/$host.tar.gz" ] || die "missing hosts/$host.tar.gz: run synth first"
    say "$host ($ip): checking"
    stage "$host" "$ip"
    rc=0
    remote "$ip" "$STAGING/bundle/install.sh --check" || rc=$?
    case "$rc" in
      0) ;;
      3) DRIFTED+=("$host") ;;
      *) die "$host: install.sh --check failed (exit $rc)" ;;
    esac
  done
  if [ \${#DRIFTED[@]} -eq 0 ]; then say "no drift on \${#CHECKED[@]} host(s)"; exit 0; fi
  say "drift on: \${DRIFTED[*]}; roll out again (deploy.sh --yes) to put the files back"
  exit 3
fi

# Programs fetched by fetch-binaries.sh: used when ${BINARIES_DIR}/VERSIONS is there, and only if it is this synth's.
BINARIES=0
if [ -f ${BINARIES_DIR}/VERSIONS ]; then
  [ "$(cat ${BINARIES_DIR}/VERSIONS)" = "$(printf '%s' "$BINARY_VERSIONS")" ] \
    || die "${BINARIES_DIR}/VERSIONS is not what this synth's fetch-binaries.sh stages (\${BINARY_VERSIONS//$'\\n'/ }): run it again, and carry the new ${BINARIES_DIR}/ here"
  BINARIES=1
fi

say "plan for cluster ${model.name}:"
declare -A SEEN=()
for step in "\${STEPS[@]}"; do
  read -r phase host ip <<< "$step"
  [ -z "$ONLY" ] || [ "$ONLY" = "$host" ] || continue
  [ -f "hosts/$host.tar.gz" ] || die "missing hosts/$host.tar.gz: run synth first"
  programs=''
  [ "$BINARIES" = 0 ] || [ -z "\${BINARY_ROLES[$host]-}" ] || programs=" and the programs of ${BINARIES_DIR}/{\${BINARY_ROLES[$host]// /,}}"
  if [ -z "\${SEEN[$host]-}" ]; then say "  $phase: copy hosts/$host.tar.gz$programs to $SSH_USER@$ip and run its install.sh"; SEEN[$host]=1
  else say "  $phase: $host (installed above)"; fi
done
${members.length > 0 ? `if [ -z "$ONLY" ]; then say "membership, before the roll-out (each a no-op once done):"; membership_plan
else say "  membership changes the last synths planned are not run with --only: run deploy.sh --yes without --only for them"; fi
` : ''}if [ \${#UPGRADE_STEPS[@]} -gt 0 ]; then upgrade_plan; fi
[ "$BINARIES" = 1 ] || say "  (no ${BINARIES_DIR}/VERSIONS here: the hosts' programs must already be in place; fetch-binaries.sh brings them)"
if [ "$YES" != 1 ]; then say "nothing done: run again with --yes to roll out"; exit 0; fi
if [ \${#UPGRADE_STEPS[@]} -gt 0 ]; then
  [ -z "$ONLY" ] || die "--only $ONLY: this synth upgrades ($UPGRADE_SUMMARY), which goes through every host in waves; run deploy.sh --yes without --only"
  [ "$BINARIES" = 1 ] || die "this synth upgrades ($UPGRADE_SUMMARY): the new programs must come from ${BINARIES_DIR}/ (run fetch-binaries.sh and carry ${BINARIES_DIR}/ here)"
fi
${members.length > 0 ? '[ -n "$ONLY" ] || membership_run\n' : ''}
if [ \${#UPGRADE_STEPS[@]} -gt 0 ]; then upgrade_run; fi
previous=''
for step in "\${STEPS[@]}"; do
  read -r phase host ip <<< "$step"
  [ -z "$ONLY" ] || [ "$ONLY" = "$host" ] || continue
  if [ "$previous" = etcd ] && [ "$phase" != etcd ] && [ -z "$ONLY" ]; then
    read -r first first_ip <<< "$FIRST_ETCD"
    wait_for "$first_ip" "etcd cluster health (from $first)" ${sq(etcdHealthCommand(model))}
  fi
  previous=$phase
  [ -n "\${INSTALLED[$host]-}" ] || install_host "$host" "$ip"
  # A first start is waited for in its own phase.
  case "$phase" in
    master) wait_for "$ip" "$host ${healthCheck(model, 'kube-apiserver').what}" ${sq(healthCheck(model, 'kube-apiserver').command)} ;;
${model.loadBalancer ? `    lb) wait_for "$ip" "$host ${healthCheck(model, 'nginx').what}" ${sq(healthCheck(model, 'nginx').command)} ;;\n` : ''}  esac
done
if [ \${#UPGRADE_STEPS[@]} -gt 0 ]; then
  say "addons: kubectl apply -f addons"
  kubectl_ apply -f addons > /dev/null || die "kubectl apply -f addons failed; the hosts are upgraded: apply them again by hand"
  check_skew
fi
# Roles as kubectl get nodes shows them; the hosts are rolled out whether or not this works.
say "node-role labels (${Object.values(NODE_ROLE_LABELS).join(', ')}):"
# shellcheck disable=SC2016 # expands in its own shell
if ! bash -c ${sq(nodeRoleLabelCommand(model))} 2>&1 | sed '/^label ".*" not found\.$/d; s/^/deploy.sh:   /'; then
  say "  the Nodes were not labelled (no kubectl here, or the API did not answer): run deploy.sh --yes again once it does"
fi
say "done; check the cluster with: kubectl --kubeconfig admin.kubeconfig get nodes"
`;
}
