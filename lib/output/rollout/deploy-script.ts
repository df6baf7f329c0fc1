import { rolloutSteps } from '../../components';
import { ClusterModel } from '../../model';
import { certPath } from '../../pki';
import { etcdctlCommand } from './etcdctl';
import { BINARIES_DIR, stagedRoles, stagedVersions } from './fetch-script';

/**
 * dist/deploy.sh: the roll-out over scp and ssh for users without Ansible. Prints the plan first and
 * changes nothing without --yes. SSH and SCP may name other programs (tests use stubs).
 */
export function renderDeployScript(model: ClusterModel): string {
  const etcdctl = etcdctlCommand();
  const steps = rolloutSteps(model).map((s) => `  '${s.phase} ${s.host.name} ${s.host.ip}'`);
  const staged = stagedRoles(model).map((r) => r.role);
  return `#!/usr/bin/env bash
# kubesmith deploy.sh for cluster ${model.name}. Generated: edit the cluster definition instead.
# Copies each host's bundle with scp and runs its install.sh over ssh, in the order of ansible/site.yml:
# etcd members, the etcd cluster's health, masters one at a time (each waits for its apiserver's /readyz),
# lb hosts one at a time, nodes. Prints the plan; changes nothing without --yes.
# --check: runs each host's install.sh --check (files that differ from the bundle, units not active); exit 3 on drift.
set -euo pipefail

usage() { echo "usage: deploy.sh [--yes | --check] [--user USER] [--only HOST]"; }
YES=0 CHECK=0 SSH_USER=root ONLY=''
while [ $# -gt 0 ]; do
  case "$1" in
    --yes) YES=1; shift ;;
    --check) CHECK=1; shift ;;
    --user) [ $# -ge 2 ] || { usage >&2; exit 2; }; SSH_USER=$2; shift 2 ;;
    --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; ONLY=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
SSH=\${SSH:-ssh} SCP=\${SCP:-scp}
TRIES=\${KUBESMITH_WAIT_TRIES:-60} DELAY=\${KUBESMITH_WAIT_DELAY:-5}
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

# Programs fetched by fetch-binaries.sh: used when ${BINARIES_DIR}/VERSIONS is there, and only if it is this synth's.
BINARIES=0
if [ -f ${BINARIES_DIR}/VERSIONS ]; then
  [ "$(cat ${BINARIES_DIR}/VERSIONS)" = "$(printf '%s' "$BINARY_VERSIONS")" ] \
    || die "${BINARIES_DIR}/VERSIONS is not what this synth's fetch-binaries.sh stages ($(echo $BINARY_VERSIONS)): run it again, and carry the new ${BINARIES_DIR}/ here"
  BINARIES=1
fi
# Copies a host's programs to their install paths (tar unlinks a running program's file, never writes into it): host, address.
copy_binaries() {
  local role
  for role in \${BINARY_ROLES[$1]-}; do
    [ -d "${BINARIES_DIR}/$role" ] || die "missing ${BINARIES_DIR}/$role: run fetch-binaries.sh again"
    tar -C "${BINARIES_DIR}/$role" -czf - . | remote "$2" "tar -xzf - -C / --no-same-owner --no-overwrite-dir"
  done
}

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

say "plan for cluster ${model.name}:"
declare -A SEEN=()
for step in "\${STEPS[@]}"; do
  read -r phase host ip <<< "$step"
  [ -z "$ONLY" ] || [ "$ONLY" = "$host" ] || continue
  for f in "hosts/$host.tar.gz"; do [ -f "$f" ] || die "missing $f: run synth first"; done
  programs=''
  [ "$BINARIES" = 0 ] || [ -z "\${BINARY_ROLES[$host]-}" ] || programs=" and the programs of ${BINARIES_DIR}/{\${BINARY_ROLES[$host]// /,}}"
  if [ -z "\${SEEN[$host]-}" ]; then say "  $phase: copy hosts/$host.tar.gz$programs to $SSH_USER@$ip and run its install.sh"; SEEN[$host]=1
  else say "  $phase: $host (installed above)"; fi
done
[ "$BINARIES" = 1 ] || say "  (no ${BINARIES_DIR}/VERSIONS here: the hosts' programs must already be in place; fetch-binaries.sh brings them)"
if [ "$YES" != 1 ]; then say "nothing done: run again with --yes to roll out"; exit 0; fi

declare -A DONE=()
previous=''
for step in "\${STEPS[@]}"; do
  read -r phase host ip <<< "$step"
  [ -z "$ONLY" ] || [ "$ONLY" = "$host" ] || continue
  if [ "$previous" = etcd ] && [ "$phase" != etcd ] && [ -z "$ONLY" ]; then
    read -r first first_ip <<< "$FIRST_ETCD"
    wait_for "$first_ip" "etcd cluster health (from $first)" "${etcdctl} --endpoints=${model.etcdEndpoints.join(',')} endpoint health"
  fi
  previous=$phase
  if [ -z "\${DONE[$host]-}" ]; then
    say "$host ($ip): installing"
    stage "$host" "$ip"
    [ "$BINARIES" = 0 ] || copy_binaries "$host" "$ip"
    remote "$ip" "$STAGING/bundle/install.sh"
    DONE[$host]=1
  fi
  case "$phase" in
    master) wait_for "$ip" "$host apiserver /readyz" "curl -fsS --cacert ${certPath('kubernetes-ca')} https://127.0.0.1:${model.apiServerPort}/readyz" ;;
${model.loadBalancer ? `    lb) wait_for "$ip" "$host L4 port ${model.loadBalancer.port}" "timeout 2 bash -c '</dev/tcp/127.0.0.1/${model.loadBalancer.port}'" ;;\n` : ''}  esac
done
say "done; check the cluster with: kubectl --kubeconfig admin.kubeconfig get nodes"
`;
}
