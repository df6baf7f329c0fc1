#!/usr/bin/env bash
# Builds one etcd release (etcd, etcdctl, etcdutl) from the Go module proxy into the component cache:
#
#   ${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}/etcd-vX.Y.Z/bin/
#
# Usage: bash scripts/build-etcd.sh vX.Y.Z   (3.5 and later)
# A throwaway module requires every module of the release: the server and etcdctl modules replace their siblings
# with ../ paths, which a dependency ignores. 3.5 also needs raft/v3 and client/v2 (numbered v2.305.x); 3.6 and
# later moved raft out (go.etcd.io/raft/v3, resolved from etcd's own go.mod) and dropped client/v2.
# Exit codes: 0 built or cached; 1 a build failed; 2 bad arguments.
set -euo pipefail

VERSION=${1:-}
if [[ ! $VERSION =~ ^v3\.([0-9]+)\.([0-9]+)$ ]] || ((BASH_REMATCH[1] < 5)); then
  echo "build-etcd: version '$VERSION' is not of the form v3.MINOR.PATCH (3.5 or later), e.g. v3.7.4" >&2; exit 2
fi
CACHE=${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}
export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
log() { echo "build-etcd: $*" >&2; }

NAME=etcd-$VERSION
DIR=$CACHE/$NAME
RECIPE="go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3@$VERSION"
if [[ -f $DIR/.complete && $(cat "$DIR/.complete") == "$RECIPE" && -x $DIR/bin/etcd && -x $DIR/bin/etcdctl && -x $DIR/bin/etcdutl ]]; then
  log "$NAME: cached"; exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$NAME"
flock 9
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubesmith-etcd.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
t0=$SECONDS
cd "$WORK"
go mod init kubesmith.local/etcd >/dev/null 2>&1
mods=(api/v3 client/pkg/v3 client/v3 pkg/v3 server/v3 etcdctl/v3 etcdutl/v3)
[[ $VERSION == v3.5.* ]] && mods+=(raft/v3)
for mod in "${mods[@]}"; do go mod edit "-require=go.etcd.io/etcd/$mod@$VERSION"; done
if [[ $VERSION == v3.5.* ]]; then go mod edit "-require=go.etcd.io/etcd/client/v2@v2.305.${VERSION##*.}"; fi
mkdir -p out
LD="-s -w"
go build -trimpath -ldflags "$LD" -o out/etcd go.etcd.io/etcd/server/v3
go build -trimpath -ldflags "$LD" -o out/etcdctl go.etcd.io/etcd/etcdctl/v3
# etcdutl: the offline tool for `snapshot status` and `snapshot restore` since 3.5.
go build -trimpath -ldflags "$LD" -o out/etcdutl go.etcd.io/etcd/etcdutl/v3
./out/etcd --version | grep -q "etcd Version: ${VERSION#v}"
rm -rf "$DIR.new"; mkdir -p "$DIR.new"; mv out "$DIR.new/bin"; echo "$RECIPE" >"$DIR.new/.complete"
rm -rf "$DIR"; mv "$DIR.new" "$DIR"
log "built $NAME in $((SECONDS - t0)) s"
