#!/usr/bin/env bash
# Builds the upstream programs that test/cluster boots, from Go modules (the only
# source this machine reaches besides Debian and npm), into a versioned cache
# outside the repository, at the versions the seed (main.ts) resolves to, and those of the suite's upgrade path
# (scripts/component-versions.ts reads them from lib/versions through the model). With KUBESMITH_UPGRADE_CHAIN=1.NN
# (scripts/upgrade-chain.sh) the path is every minor's newest release from 1.NN: each minor's companions too.
#
#   ${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}/
#     kubernetes-vX/bin/        kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
#     config-fields-vX/bin/     config-fields (config type fields, feature gates; the references)  (both: build-kubernetes.sh)
#     etcd-vX/bin/              etcd etcdctl etcdutl
#     containerd-vX/bin/        containerd containerd-shim-runc-v2
#     flannel-vX/bin/           flanneld
#     cni-plugins-vX/bin/       bridge host-local loopback portmap
#     flannel-cni-v0.9.1/bin/   flannel
#     coredns-vX/bin/           coredns (the image test/cluster imports under the seed's CoreDNS image name)
#     test-images-<hash>/bin/   pause, netcheck (scripts/images: the sandbox image and the test pods' program)
#
# A component whose directory holds a .complete stamp with the same recipe is
# skipped (a warm run takes a few seconds). Nothing is ever written into
# the repository: no binary is ever committed. Needs node_modules (npm ci) for the versions.
#
# Why each odd choice (see README "Components for the cluster suite"):
#  - Kubernetes: scripts/build-kubernetes.sh (a throwaway module that replaces the staging modules).
#  - GONOSUMDB: the checksum database answers 404 for github.com/flannel-io/flannel v0.22.2 (the proxy serves it);
#    its hash is still recorded in the throwaway go.sum, only the database lookup is skipped.
#  - flannel v0.22.2: the newest v0.22 the module proxy serves (v0.22.3 is not served).
#  - The flannel CNI plugin: github.com/flannel-io/cni-plugin is not served at any version; the same plugin
#    lived in github.com/containernetworking/plugins plugins/meta/flannel until v0.9.1 (gone in v1.0.0), built from there.
#  - etcd: 3.5 requires its sibling modules (and client/v2, numbered v2.305.x) at the same version; 3.6 and later
#    dropped client/v2 and moved raft out (go.etcd.io/raft/v3, resolved from etcd's own go.mod).
#  - containerd 2.x: its two programs, static; the btrfs snapshotter needs cgo, so it is left out as upstream's
#    static builds do (CGO_ENABLED=0 excludes it).
#  - CGO_ENABLED=0 static binaries, -trimpath, -s -w; flanneld alone with cgo (its udp backend is C), as upstream builds it.
#
# Usage: bash scripts/build-components.sh [--print-dir]   (--print-dir: print the cache dir and exit)
# Exit codes: 0 built or cached; 1 a build failed; 2 no go toolchain, or no node_modules.
set -euo pipefail

CACHE=${KUBESMITH_COMPONENTS:-$HOME/.cache/kubesmith/components}
if [[ ${1:-} == --print-dir ]]; then echo "$CACHE"; exit 0; fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)

log() { echo "build-components: $*" >&2; }

# The seed's versions, as named data (KEY=value lines); nothing else is accepted.
if [[ ! -d $ROOT/node_modules ]]; then log "no node_modules in $ROOT: run npm ci first"; exit 2; fi
KUBERNETES_VERSION='' ETCD_VERSION='' CONTAINERD_VERSION='' CNI_VERSION='' FLANNEL_VERSION='' COREDNS_VERSION=''
UPGRADE_KUBERNETES_VERSIONS='' UPGRADE_ETCD_VERSIONS='' UPGRADE_COREDNS_VERSIONS=''
UPGRADE_CONTAINERD_VERSIONS='' UPGRADE_CNI_VERSIONS='' UPGRADE_FLANNEL_VERSIONS=''
VERSION_RE='v[0-9]+\.[0-9]+\.[0-9]+'
while IFS='=' read -r key value; do
  case $key in
    KUBERNETES_VERSION | ETCD_VERSION | CONTAINERD_VERSION | CNI_VERSION | FLANNEL_VERSION | COREDNS_VERSION)
      [[ $value =~ ^$VERSION_RE$ ]] || { log "$key=$value is not a version"; exit 1; }
      printf -v "$key" '%s' "$value" ;;
    UPGRADE_KUBERNETES_VERSIONS | UPGRADE_ETCD_VERSIONS | UPGRADE_COREDNS_VERSIONS | UPGRADE_CONTAINERD_VERSIONS | \
      UPGRADE_CNI_VERSIONS | UPGRADE_FLANNEL_VERSIONS)
      [[ $value =~ ^$VERSION_RE( $VERSION_RE)*$ ]] || { log "$key=$value is not a list of versions"; exit 1; }
      printf -v "$key" '%s' "$value" ;;
    PAUSE_IMAGE | COREDNS_IMAGE) ;;
    *) log "unexpected line from component-versions.ts: $key"; exit 1 ;;
  esac
done < <(cd "$ROOT" && node --require ./lib/typescript-loader.js scripts/component-versions.ts)
# Every minor pairs with the same flannel (lib/versions/kubernetes.ts); this script builds one.
if [[ $UPGRADE_FLANNEL_VERSIONS != "$FLANNEL_VERSION" ]]; then
  log "the upgrade path's flannel ($UPGRADE_FLANNEL_VERSIONS) differs from the seed's ($FLANNEL_VERSION); this script builds one"; exit 1
fi
FLANNEL_CNI_FROM=v0.9.1   # the last containernetworking/plugins release that carried plugins/meta/flannel

export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"   # keeps the machine's own (e.g. -buildvcs=false)
export GONOSUMDB=k8s.io/legacy-cloud-providers,github.com/flannel-io/flannel
# Only the module proxy is reachable: never fall back to direct VCS fetches.
export GOPROXY=${GOPROXY:-https://proxy.golang.org}

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
KUBESMITH_COMPONENTS=$CACHE bash "$ROOT/scripts/build-kubernetes.sh" "$KUBERNETES_VERSION"
# The upgrade stage's releases: the programs the suite runs, not config-fields (the references are the seed's).
for v in $UPGRADE_KUBERNETES_VERSIONS; do
  KUBESMITH_COMPONENTS=$CACHE bash "$ROOT/scripts/build-kubernetes.sh" "$v" kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
done

# ---------------------------------------------------------------------- etcd
for v in $ETCD_VERSION $UPGRADE_ETCD_VERSIONS; do KUBESMITH_COMPONENTS=$CACHE bash "$ROOT/scripts/build-etcd.sh" "$v"; done

# ---------------------------------------------------------------- containerd
build_containerd() { # version module recipe
  local v=$1 mod=$2 out=$WORK/containerd-out-$1
  local ld="$LD -X $mod/version.Version=$v -X $mod/version.Package=$mod"
  mkdir -p "$out"
  if [[ $v == v1.* ]]; then
    # 1.x's go.mod has exclude directives, which `go install pkg@version` refuses: built as the main module, from a
    # writable copy of the module's source (go.sum may gain lines).
    local src
    src=$(go mod download -json "$mod@$v" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    cp -r "$src" "$WORK/containerd-src-$v"
    chmod -R u+w "$WORK/containerd-src-$v"
    (cd "$WORK/containerd-src-$v" && go build -trimpath -ldflags "$ld" -o "$out/" ./cmd/containerd ./cmd/containerd-shim-runc-v2)
  else
    GOBIN=$out go install -trimpath -ldflags "$ld" "$mod/cmd/containerd@$v" "$mod/cmd/containerd-shim-runc-v2@$v"
  fi
  "$out/containerd" --version | grep -q " $v"
  install_dir "containerd-$v" "$3" "$out"
}
for v in $CONTAINERD_VERSION $UPGRADE_CONTAINERD_VERSIONS; do
  mod=github.com/containerd/containerd
  [[ $v == v1.* ]] || mod+=/v${v:1:1}
  recipe="$mod@$v cmd/containerd cmd/containerd-shim-runc-v2"
  if cached "containerd-$v" "$recipe" containerd containerd-shim-runc-v2; then log "containerd-$v: cached"
  else timed "containerd-$v" build_containerd "$v" "$mod" "$recipe"; fi
done

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
CNI_PLUGINS=(main/bridge ipam/host-local main/loopback meta/portmap)
build_cni() { # version recipe
  local v=$1 out=$WORK/cni-out-$1 p pkgs=()
  for p in "${CNI_PLUGINS[@]}"; do pkgs+=("github.com/containernetworking/plugins/plugins/$p@$v"); done
  mkdir -p "$out"
  GOBIN=$out go install -trimpath \
    -ldflags "$LD -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$v" "${pkgs[@]}"
  install_dir "cni-plugins-$v" "$2" "$out"
}
for v in $CNI_VERSION $UPGRADE_CNI_VERSIONS; do
  recipe="github.com/containernetworking/plugins@$v ${CNI_PLUGINS[*]}"
  if cached "cni-plugins-$v" "$recipe" bridge host-local loopback portmap; then log "cni-plugins-$v: cached"
  else timed "cni-plugins-$v" build_cni "$v" "$recipe"; fi
done

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
build_coredns() { # version
  local out=$WORK/coredns-out-$1
  mkdir -p "$out"
  GOBIN=$out go install -trimpath -ldflags "$LD" "github.com/coredns/coredns@$1"
  install_dir "coredns-$1" "github.com/coredns/coredns@$1" "$out"
}
for v in $COREDNS_VERSION $UPGRADE_COREDNS_VERSIONS; do
  if cached "coredns-$v" "github.com/coredns/coredns@$v" coredns; then log "coredns-$v: cached"
  else timed "coredns-$v" build_coredns "$v"; fi
done

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
