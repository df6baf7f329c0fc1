#!/usr/bin/env bash
# The chain walk, outside CI: the cluster suite (test/cluster) boots the seed topology at the newest release of an
# older minor (default 1.27, the oldest kubesmith compiles) and upgrades it with the compiled roll-out through the
# newest release of every minor in turn, to the seed's. Each minor brings its own companions (etcd, containerd, CNI
# plugins, CoreDNS and pause images), as lib/versions pairs them.
#
# Usage: bash scripts/upgrade-chain.sh [1.NN]      (as root, after npm ci; README "The chain walk")
#   1.NN: the first minor (1.27 to the seed's previous); the builds and the walk's log go to stderr and to
#   ${TMPDIR:-/tmp}/kubesmith-upgrade-chain-<first>.log, the times to the last lines.
# Cost on 2 cores: about 9 minutes of builds per Kubernetes minor not yet built, then the walk (README).
# Exit codes: 0 the walk passed; 1 a build or the walk failed; 2 bad arguments.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIRST=${1:-1.27}
if [[ $# -gt 1 || ! $FIRST =~ ^1\.[0-9]+$ ]]; then
  echo "upgrade-chain: expected one argument, the first minor (e.g. 1.27); got: $*" >&2
  exit 2
fi
LOG=${TMPDIR:-/tmp}/kubesmith-upgrade-chain-$FIRST.log
export KUBESMITH_UPGRADE_CHAIN=$FIRST
# component-versions.ts checks the minor against the supported ones and names the domain.
if ! (cd "$ROOT" && node --require ./lib/typescript-loader.js scripts/component-versions.ts >/dev/null); then exit 2; fi

t0=$SECONDS
bash "$ROOT/scripts/build-components.sh" 2>&1 | tee "$LOG"
built=$((SECONDS - t0))
t1=$SECONDS
status=0
# Stage e (day 2 at the booted release) is every commit's; the chain needs stages a-d booted, then stage f.
(cd "$ROOT" && CI=true npx jest --runInBand test/cluster/cluster.test.ts -t '^(?!.* e\. day 2)') 2>&1 | tee -a "$LOG" || status=$?
walked=$((SECONDS - t1))
printf 'upgrade-chain: from %s: builds %d s, cluster suite (stages a-d and f) %d s, exit %d; log %s\n' \
  "$FIRST" "$built" "$walked" "$status" "$LOG" | tee -a "$LOG"
exit "$status"
