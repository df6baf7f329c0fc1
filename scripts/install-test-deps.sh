#!/usr/bin/env bash
# Installs the real programs that kubesmith's tests run (etcd, nginx + stream
# module, keepalived, containerd, openssl, iproute2, ping, systemd-analyze,
# ansible; for test/cluster also runc, iptables, conntrack and ipset, which
# containerd, kube-proxy and the kubelet call).
#
# Idempotent and non-interactive: when every program is already present it only
# checks and exits (well under a second). Installing never starts a daemon: a
# policy-rc.d that denies every service start is in place for the install, and
# afterwards we check that no etcd/nginx/containerd/keepalived process was left
# behind by the install (this machine has no systemd as PID 1, so only the
# invoke-rc.d path could start one).
#
# Must run as root (CI and developer machines are root). Exit codes: 0 ok,
# 1 something is still missing or a daemon was started by the install.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(etcd-server etcd-client nginx libnginx-mod-stream keepalived containerd
          openssl iproute2 iputils-ping systemd ansible-core runc iptables conntrack ipset procps strace curl shellcheck)
PROGRAMS=(etcd etcdctl nginx keepalived containerd containerd-shim-runc-v2 ctr openssl ip ping systemd-analyze
          ansible-playbook runc iptables iptables-save iptables-restore conntrack ipset nsenter sysctl strace curl shellcheck)
STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so
DAEMONS=(etcd nginx containerd keepalived)

log() { echo "install-test-deps: $*" >&2; }

missing() {
  local out=() p
  for p in "${PROGRAMS[@]}"; do
    command -v "$p" >/dev/null 2>&1 || out+=("$p")
  done
  [[ -f $STREAM_MODULE ]] || out+=("$STREAM_MODULE")
  echo "${out[*]:-}"
}

# PIDs of processes whose executable name (comm) is one of the daemons.
# Reads /proc only: it never signals anything.
daemon_pids() {
  local d comm pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    comm=$(cat "$d/comm" 2>/dev/null) || continue
    for name in "${DAEMONS[@]}"; do
      [[ $comm == "$name" ]] && echo "$pid:$comm"
    done
  done
  return 0
}

todo=$(missing)
if [[ -z $todo ]]; then
  log "all programs present"
  exit 0
fi
log "missing: $todo"

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root to install: apt-get install ${PACKAGES[*]}"
  exit 1
fi

# Deny every service start during (and after) the install: invoke-rc.d honours
# exit 101. Left in place on purpose: this is a test machine, and a later
# apt-get upgrade must not start etcd/nginx/containerd either.
policy=/usr/sbin/policy-rc.d
if ! grep -qx 'exit 101' "$policy" 2>/dev/null; then
  printf '#!/bin/sh\n# written by kubesmith scripts/install-test-deps.sh: never start services\nexit 101\n' >"$policy"
fi
chmod 755 "$policy"

before=$(daemon_pids | sort)

apt_install() {
  apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${PACKAGES[@]}"
}
if ! apt_install; then
  log "apt-get install failed; refreshing package lists once and retrying"
  apt-get update
  apt_install
fi

todo=$(missing)
if [[ -n $todo ]]; then
  log "still missing after install: $todo"
  exit 1
fi

after=$(daemon_pids | sort)
started=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d' || true)
if [[ -n $started ]]; then
  log "ERROR: the install left daemons running (pid:name): $started"
  log "stop them by PID; they must not run outside the tests"
  exit 1
fi
log "installed; no daemon was started"
