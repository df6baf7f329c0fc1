#!/usr/bin/env bash
# Builds one Kubernetes release's programs from the Go module proxy into the component cache:
#
#   ${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}/
#     kubernetes-vX.Y.Z/bin/     the commands asked for (default: all six)
#     config-fields-vX.Y.Z/bin/  config-fields (scripts/config-fields/main.go: config type fields, feature gates)
#
# Usage: bash scripts/build-kubernetes.sh vX.Y.Z [command...]
#   command: kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl config-fields
#
# A directory whose .complete recipe matches, and that holds every command asked for, is kept (a warm run takes
# well under a second). `go install k8s.io/kubernetes/...@vX.Y.Z` does not work: its go.mod lists the staging
# modules at v0.0.0 with replaces into ./staging. A throwaway module requires k8s.io/kubernetes vX.Y.Z and replaces
# every staging module with its v0.Y.Z release. One `go build` for all commands so shared packages compile once.
# Exit codes: 0 built or cached; 1 a build failed; 2 bad arguments.
set -euo pipefail

VERSION=${1:-}
if [[ ! $VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "build-kubernetes: version '$VERSION' is not of the form v1.MINOR.PATCH, e.g. v1.37.2" >&2; exit 2
fi
shift
MINOR=${BASH_REMATCH[1]} PATCH=${BASH_REMATCH[2]}
STAGING=v0.$MINOR.$PATCH
ALL=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl config-fields)
CMDS=("$@")
[[ ${#CMDS[@]} -gt 0 ]] || CMDS=("${ALL[@]}")
for c in "${CMDS[@]}"; do
  [[ " ${ALL[*]} " == *" $c "* ]] || { echo "build-kubernetes: unknown command '$c'; expected some of: ${ALL[*]}" >&2; exit 2; }
done

CACHE=${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}
FIELDS_SRC=$(cd "$(dirname "$0")" && pwd)/config-fields/main.go
export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"   # keeps the machine's own (e.g. -buildvcs=false)
# The checksum database answers 404 for k8s.io/legacy-cloud-providers releases the proxy serves.
export GONOSUMDB=k8s.io/legacy-cloud-providers
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
log() { echo "build-kubernetes: $*" >&2; }

LD="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LD+=" -X $p.gitVersion=$VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean"
done
K8S_DIR=$CACHE/kubernetes-$VERSION
K8S_RECIPE="k8s.io/kubernetes@$VERSION staging@$STAGING ldflags=$(md5sum <<<"$LD" | cut -c1-12)"
FIELDS_DIR=$CACHE/config-fields-$VERSION
FIELDS_RECIPE="$K8S_RECIPE src=$(md5sum <"$FIELDS_SRC" | cut -c1-12)"

# has DIR RECIPE PROGRAM...: the directory was built with this recipe and holds every program.
has() {
  local dir=$1 recipe=$2 p; shift 2
  [[ -f $dir/.complete && $(cat "$dir/.complete") == "$recipe" ]] || return 1
  for p in "$@"; do [[ -x $dir/bin/$p ]] || return 1; done
}

want_k8s=() want_fields=0
for c in "${CMDS[@]}"; do
  if [[ $c == config-fields ]]; then has "$FIELDS_DIR" "$FIELDS_RECIPE" config-fields || want_fields=1
  else has "$K8S_DIR" "$K8S_RECIPE" "$c" || want_k8s+=("$c"); fi
done
if ((${#want_k8s[@]} == 0 && want_fields == 0)); then log "$VERSION: cached (${CMDS[*]})"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-kubernetes-$VERSION"
flock 9
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubesmith-k8s.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
m=$WORK/mod
mkdir -p "$m/out"
cd "$m"
go mod init kubesmith.local/components >/dev/null 2>&1
go mod download -json "k8s.io/kubernetes@$VERSION" >/dev/null
gomod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$VERSION.mod"
go mod edit "-go=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
# A staging module the proxy does not serve at this patch (it happens: k8s.io/endpointslice v0.32.13) takes the
# newest earlier patch it serves; patch releases of a minor change no flag or config type. SUBSTITUTIONS lists them.
: >"$WORK/substitutions"
# shellcheck disable=SC2013 # the sed prints one module path per line, with no spaces
for mod in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$gomod"); do
  at=$STAGING
  if [[ $mod != k8s.io/sample-* ]] && ! go mod download "$mod@$STAGING" >/dev/null 2>&1; then
    at=''
    for ((p = PATCH - 1; p >= 0; p--)); do
      if go mod download "$mod@v0.$MINOR.$p" >/dev/null 2>&1; then at=v0.$MINOR.$p; break; fi
    done
    [[ -n $at ]] || { log "$mod is served at no v0.$MINOR.x up to $STAGING"; exit 1; }
    log "$mod is not served at $STAGING: using $at"
    echo "$mod $at" >>"$WORK/substitutions"
  fi
  go mod edit "-replace=$mod=$mod@$at"
done
go mod edit "-require=k8s.io/kubernetes@$VERSION"

# install DIR RECIPE SRC: moves a finished build into place atomically, keeping programs built before.
install() {
  local dir=$1 recipe=$2 src=$3
  if [[ -f $dir/.complete && $(cat "$dir/.complete") == "$recipe" ]]; then cp -an "$dir/bin/." "$src/"; fi
  rm -rf "$dir.new"; mkdir -p "$dir.new"; mv "$src" "$dir.new/bin"; echo "$recipe" >"$dir.new/.complete"
  rm -rf "$dir"; mv "$dir.new" "$dir"
}

if ((${#want_k8s[@]})); then
  t0=$SECONDS
  log "building kubernetes-$VERSION: ${want_k8s[*]}"
  pkgs=()
  for c in "${want_k8s[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  mkdir -p out/k8s
  go build -trimpath -ldflags "$LD" -o out/k8s/ "${pkgs[@]}"
  if [[ -x out/k8s/kube-apiserver ]]; then ./out/k8s/kube-apiserver --version | grep -qx "Kubernetes $VERSION"; fi
  cp "$WORK/substitutions" "$m/out/k8s/SUBSTITUTIONS"
  install "$K8S_DIR" "$K8S_RECIPE" "$m/out/k8s"
  log "built kubernetes-$VERSION in $((SECONDS - t0)) s"
fi
if ((want_fields)); then
  t0=$SECONDS
  mkdir -p fields out/fields && cp "$FIELDS_SRC" fields/main.go
  cp "$WORK/substitutions" out/fields/SUBSTITUTIONS
  go build -trimpath -ldflags "-s -w" -o out/fields/config-fields ./fields
  install "$FIELDS_DIR" "$FIELDS_RECIPE" "$m/out/fields"
  log "built config-fields-$VERSION in $((SECONDS - t0)) s"
fi
