#!/usr/bin/env bash
# Builds the upstream programs that test/cluster boots, from Go modules (the only
# source this machine reaches besides Debian and npm), into a versioned cache
# outside the repository:
#
#   ${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}/
#     kubernetes-v1.27.16/bin/  kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
#     etcd-v3.5.15/bin/         etcd etcdctl etcdutl
#     flannel-v0.22.2/bin/      flanneld
#     cni-plugins-v1.3.0/bin/   bridge host-local loopback portmap
#     flannel-cni-v0.9.1/bin/   flannel
#     config-fields-v1.27.16/bin/ config-fields (prints the fields of the component config types; test fixtures)
#     coredns-v1.10.1/bin/      coredns (the image test/cluster imports as registry.k8s.io/coredns/coredns:v1.10.1)
#     test-images-<hash>/bin/   pause, netcheck (scripts/images: the sandbox image and the test pods' program)
#
# A component whose directory holds a .complete stamp with the same recipe is
# skipped (a warm run takes well under a second). Nothing is ever written into
# the repository: no binary is ever committed.
#
# Why each odd choice (see README "Components for the cluster suite"):
#  - Kubernetes: `go install k8s.io/kubernetes/...@v1.27.16` does not work (its go.mod lists the staging
#    modules at v0.0.0 with replaces into ./staging); a throwaway module requires k8s.io/kubernetes v1.27.16
#    and replaces every staging module with its v0.27.16 release. One `go build` for all six commands so
#    shared packages compile once. Version ldflags as upstream's hack/lib/version.sh sets them.
#  - GONOSUMDB: the checksum database answers 404 for k8s.io/legacy-cloud-providers v0.27.16 and
#    github.com/flannel-io/flannel v0.22.2 (the proxy serves both); their hashes are still recorded in the
#    throwaway go.sum, only the database lookup is skipped for those two module paths.
#  - flannel v0.22.2: the newest v0.22 the module proxy serves (v0.22.3 is not served).
#  - The flannel CNI plugin: github.com/flannel-io/cni-plugin is not served at any version; the same plugin
#    lived in github.com/containernetworking/plugins plugins/meta/flannel until v0.9.1 (gone in v1.0.0), built from there.
#  - CGO_ENABLED=0 static binaries, -trimpath, -s -w; flanneld alone with cgo (its udp backend is C), as upstream builds it.
#
# Usage: bash scripts/build-components.sh [--print-dir]   (--print-dir: print the cache dir and exit)
# Exit codes: 0 built or cached; 1 a build failed; 2 no go toolchain.
set -euo pipefail

CACHE=${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}
if [[ ${1:-} == --print-dir ]]; then echo "$CACHE"; exit 0; fi

K8S_VERSION=v1.27.16
K8S_STAGING_VERSION=v0.27.16
K8S_COMMIT=cbb86e0d3f4a049666fac0551e8b02ef3d6c3d9a
K8S_BUILD_DATE=2024-07-17T01:44:24Z
ETCD_VERSION=v3.5.15
FLANNEL_VERSION=v0.22.2
CNI_VERSION=v1.3.0
FLANNEL_CNI_FROM=v0.9.1   # the last containernetworking/plugins release that carried plugins/meta/flannel

export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"   # keeps the machine's own (e.g. -buildvcs=false)
export GONOSUMDB=k8s.io/legacy-cloud-providers,github.com/flannel-io/flannel
# Only the module proxy is reachable: never fall back to direct VCS fetches.
export GOPROXY=${GOPROXY:-https://proxy.golang.org}

log() { echo "build-components: $*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "no go toolchain on PATH (expected /usr/local/go/bin/go)"
  exit 2
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9   # one build at a time, also across concurrent runs

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubesmith-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# component NAME RECIPE BINARIES... : true when NAME is already built with this recipe.
cached() {
  local dir=$CACHE/$1 recipe=$2; shift 2
  [[ -f $dir/.complete ]] && [[ $(cat "$dir/.complete") == "$recipe" ]] || return 1
  local b
  for b in "$@"; do [[ -x $dir/bin/$b ]] || return 1; done
}

# install_dir NAME RECIPE SRC_BIN_DIR: moves a finished build into place atomically.
install_dir() {
  local dir=$CACHE/$1 recipe=$2 src=$3
  rm -rf "$dir.new"
  mkdir -p "$dir.new"
  mv "$src" "$dir.new/bin"
  echo "$recipe" >"$dir.new/.complete"
  rm -rf "$dir"
  mv "$dir.new" "$dir"
}

timed() {
  local what=$1 t0=$SECONDS; shift
  log "building $what ..."
  "$@"
  log "built $what in $((SECONDS - t0)) s"
}

LD="-s -w"

# ---------------------------------------------------------------- Kubernetes
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
K8S_NAME=kubernetes-$K8S_VERSION
k8s_ldflags() {
  local p out="$LD"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    out+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=27 -X $p.gitCommit=$K8S_COMMIT"
    out+=" -X $p.gitTreeState=clean -X $p.buildDate=$K8S_BUILD_DATE"
  done
  echo "$out"
}

# A throwaway module in $1 that builds k8s.io/kubernetes at K8S_VERSION.
k8s_module() {
  local m=$1
  mkdir -p "$m"
  (
    cd "$m"
    go mod init kubesmith.local/components >/dev/null 2>&1
    go mod edit -go=1.20
    go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
    local gomod
    gomod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
    local mod
    for mod in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$gomod"); do
      go mod edit "-replace=$mod=$mod@$K8S_STAGING_VERSION"
    done
    go mod edit "-require=k8s.io/kubernetes@$K8S_VERSION"
  )
}

build_k8s() {
  local m=$WORK/k8s
  k8s_module "$m"
  (
    cd "$m"
    local pkgs=() c
    for c in "${K8S_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    mkdir -p out
    go build -trimpath -ldflags "$(k8s_ldflags)" -o out/ "${pkgs[@]}"
    ./out/kube-apiserver --version | grep -qx "Kubernetes $K8S_VERSION"
  )
  install_dir "$K8S_NAME" "$K8S_RECIPE" "$m/out"
}
K8S_RECIPE="k8s.io/kubernetes@$K8S_VERSION staging@$K8S_STAGING_VERSION ldflags=$(k8s_ldflags | md5sum | cut -c1-12)"
if cached "$K8S_NAME" "$K8S_RECIPE" "${K8S_CMDS[@]}"; then log "$K8S_NAME: cached"
else timed "$K8S_NAME (${K8S_CMDS[*]}, one go build)" build_k8s; fi

# ------------------------------------------- component config field lister
# A tiny Go program over the v1.27.16 config types: the source of test/fixtures/fields/*.txt.
FIELDS_NAME=config-fields-$K8S_VERSION
FIELDS_SRC=$(dirname "$0")/config-fields/main.go
FIELDS_RECIPE="$K8S_RECIPE src=$(md5sum <"$FIELDS_SRC" | cut -c1-12)"
build_fields() {
  local m=$WORK/fields
  k8s_module "$m"
  cp "$FIELDS_SRC" "$m/main.go"
  (cd "$m" && mkdir -p out && go build -trimpath -ldflags "$LD" -o out/config-fields .)
  install_dir "$FIELDS_NAME" "$FIELDS_RECIPE" "$m/out"
}
if cached "$FIELDS_NAME" "$FIELDS_RECIPE" config-fields; then log "$FIELDS_NAME: cached"
else timed "$FIELDS_NAME" build_fields; fi

# ---------------------------------------------------------------------- etcd
ETCD_NAME=etcd-$ETCD_VERSION
ETCD_RECIPE="go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3@$ETCD_VERSION"
build_etcd() {
  local m=$WORK/etcd
  mkdir -p "$m"
  (
    cd "$m"
    go mod init kubesmith.local/etcd >/dev/null 2>&1
    # The server and etcdctl modules replace their siblings with ../ paths (ignored in a dependency):
    # require every module of the release at the same version instead.
    local mod
    for mod in api/v3 client/pkg/v3 client/v3 pkg/v3 raft/v3 server/v3 etcdctl/v3 etcdutl/v3; do
      go mod edit "-require=go.etcd.io/etcd/$mod@$ETCD_VERSION"
    done
    go mod edit "-require=go.etcd.io/etcd/client/v2@v2.305.${ETCD_VERSION##*.}"   # client/v2 is numbered v2.305.x
    mkdir -p out
    go build -trimpath -ldflags "$LD" -o out/etcd go.etcd.io/etcd/server/v3
    go build -trimpath -ldflags "$LD" -o out/etcdctl go.etcd.io/etcd/etcdctl/v3
    # etcdutl: the offline tool 3.5 moved `snapshot status` and `snapshot restore` to.
    go build -trimpath -ldflags "$LD" -o out/etcdutl go.etcd.io/etcd/etcdutl/v3
    ./out/etcd --version | grep -q "etcd Version: ${ETCD_VERSION#v}"
  )
  install_dir "$ETCD_NAME" "$ETCD_RECIPE" "$m/out"
}
if cached "$ETCD_NAME" "$ETCD_RECIPE" etcd etcdctl etcdutl; then log "$ETCD_NAME: cached"
else timed "$ETCD_NAME" build_etcd; fi

# ------------------------------------------------------------------- flannel
FLANNEL_NAME=flannel-$FLANNEL_VERSION
FLANNEL_RECIPE="github.com/flannel-io/flannel@$FLANNEL_VERSION"
build_flannel() {
  local out=$WORK/flannel-out
  mkdir -p "$out"
  # cgo, as upstream's release build: the udp backend (compiled in on amd64) is C (proxy_amd64.c).
  CGO_ENABLED=1 GOBIN=$out go install -trimpath \
    -ldflags "$LD -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION" \
    "github.com/flannel-io/flannel@$FLANNEL_VERSION"
  mv "$out/flannel" "$out/flanneld"
  install_dir "$FLANNEL_NAME" "$FLANNEL_RECIPE" "$out"
}
if cached "$FLANNEL_NAME" "$FLANNEL_RECIPE" flanneld; then log "$FLANNEL_NAME: cached"
else timed "$FLANNEL_NAME" build_flannel; fi

# --------------------------------------------------------------- CNI plugins
CNI_NAME=cni-plugins-$CNI_VERSION
CNI_PLUGINS=(main/bridge ipam/host-local main/loopback meta/portmap)
CNI_RECIPE="github.com/containernetworking/plugins@$CNI_VERSION ${CNI_PLUGINS[*]}"
build_cni() {
  local out=$WORK/cni-out p pkgs=()
  for p in "${CNI_PLUGINS[@]}"; do pkgs+=("github.com/containernetworking/plugins/plugins/$p@$CNI_VERSION"); done
  mkdir -p "$out"
  GOBIN=$out go install -trimpath \
    -ldflags "$LD -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_VERSION" "${pkgs[@]}"
  install_dir "$CNI_NAME" "$CNI_RECIPE" "$out"
}
if cached "$CNI_NAME" "$CNI_RECIPE" bridge host-local loopback portmap; then log "$CNI_NAME: cached"
else timed "$CNI_NAME" build_cni; fi

FLANNEL_CNI_NAME=flannel-cni-$FLANNEL_CNI_FROM
FLANNEL_CNI_RECIPE="github.com/containernetworking/plugins@$FLANNEL_CNI_FROM plugins/meta/flannel"
build_flannel_cni() {
  local out=$WORK/flannel-cni-out
  mkdir -p "$out"
  GOBIN=$out go install -trimpath \
    -ldflags "$LD -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$FLANNEL_CNI_FROM" \
    "github.com/containernetworking/plugins/plugins/meta/flannel@$FLANNEL_CNI_FROM"
  install_dir "$FLANNEL_CNI_NAME" "$FLANNEL_CNI_RECIPE" "$out"
}
if cached "$FLANNEL_CNI_NAME" "$FLANNEL_CNI_RECIPE" flannel; then log "$FLANNEL_CNI_NAME: cached"
else timed "$FLANNEL_CNI_NAME" build_flannel_cni; fi

# ------------------------------------------------------------- pod images
# The programs of the images test/cluster imports into containerd (no registry is reachable).
COREDNS_VERSION=v1.10.1
COREDNS_NAME=coredns-$COREDNS_VERSION
COREDNS_RECIPE="github.com/coredns/coredns@$COREDNS_VERSION"
build_coredns() {
  local out=$WORK/coredns-out
  mkdir -p "$out"
  GOBIN=$out go install -trimpath -ldflags "$LD" "github.com/coredns/coredns@$COREDNS_VERSION"
  install_dir "$COREDNS_NAME" "$COREDNS_RECIPE" "$out"
}
if cached "$COREDNS_NAME" "$COREDNS_RECIPE" coredns; then log "$COREDNS_NAME: cached"
else timed "$COREDNS_NAME" build_coredns; fi

IMAGES_SRC=$(cd "$(dirname "$0")/images" && pwd)
IMAGES_HASH=$(cat "$IMAGES_SRC"/*/main.go | md5sum | cut -c1-12)
IMAGES_NAME=test-images-$IMAGES_HASH
build_images() {
  local m=$WORK/images p
  mkdir -p "$m/out"
  cp -r "$IMAGES_SRC"/. "$m/"
  (
    cd "$m"
    go mod init kubesmith.local/images >/dev/null 2>&1
    for p in pause netcheck; do go build -trimpath -ldflags "$LD" -o "out/$p" "./$p"; done
  )
  install_dir "$IMAGES_NAME" "$IMAGES_HASH" "$m/out"
}
if cached "$IMAGES_NAME" "$IMAGES_HASH" pause netcheck; then log "$IMAGES_NAME: cached"
else timed "$IMAGES_NAME" build_images; fi

log "components in $CACHE ($(du -sh "$CACHE" | cut -f1))"
