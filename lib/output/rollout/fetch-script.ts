import { HOST_ROLES, ClusterModel, ResolvedRelease } from '../../model';
import { fetchedBinariesByRole } from '../../components';
import { sq } from '../../util/shell';

/** The directory beside dist/'s scripts that fetch-binaries.sh stages into and the roll-out copies from. */
export const BINARIES_DIR = 'binaries';

/** Roles that have hosts and fetched programs, with those programs. */
export function stagedRoles(model: ClusterModel) {
  const byRole = fetchedBinariesByRole(model);
  return HOST_ROLES.filter((r) => model.withRole(r).length > 0 && byRole.get(r)!.length > 0).map((role) => ({ role, binaries: byRole.get(role)! }));
}

/** binaries/VERSIONS as the fetch writes it: one "release version" line per archive. deploy.sh and site.yml compare it. */
export function stagedVersions(model: ClusterModel): string {
  const ids = new Set(stagedRoles(model).flatMap((r) => r.binaries.map((b) => b.release.release.id)));
  return model.releases.filter((r) => ids.has(r.release.id)).map((r) => `${r.release.id} ${r.version}\n`).join('');
}

/**
 * dist/fetch-binaries.sh: for a machine with internet access. Downloads each release archive once, checks it against
 * its pinned checksum (shipped, citing the upstream file, or given in the definition), and stages under binaries/<role>/
 * the programs the hosts of each role run, at their install paths. `releases` replaces the model's (tests serve their
 * own archives).
 */
export function renderFetchScript(model: ClusterModel, releases: readonly ResolvedRelease[] = model.releases): string {
  const roles = stagedRoles(model);
  const used = new Set(roles.flatMap((r) => r.binaries.map((b) => b.release.release.id)));
  const archives = releases.filter((r) => used.has(r.release.id));
  const help = (r: ResolvedRelease) => r.checksum?.source ?? r.release.checksumHelp(r.version);
  return `#!/usr/bin/env bash
# kubesmith fetch-binaries.sh for cluster ${model.name}. Generated: edit the cluster definition instead.
# Run it on a machine with internet access (curl, tar, sha256sum, sha512sum); it needs no root. It downloads each
# release archive once into ${BINARIES_DIR}/archives/ (kept, and reused while it matches its checksum), refuses any whose
# checksum differs from the pinned one, and then stages the programs each role's hosts run under ${BINARIES_DIR}/<role>/
# at their install paths, with ${BINARIES_DIR}/VERSIONS. Carry ${BINARIES_DIR}/ to the site, beside deploy.sh and ansible/:
# both copy each host's programs to it before its install.sh runs.
#   --out DIR   stage into DIR instead of ${BINARIES_DIR}/ beside this script
set -euo pipefail
umask 022

usage() { echo "usage: fetch-binaries.sh [--out DIR]"; }
OUT=''
while [ $# -gt 0 ]; do
  case "$1" in
    --out) if [ $# -lt 2 ] || [ -z "$2" ]; then usage >&2; exit 2; fi; OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
say() { echo "fetch-binaries.sh: $*"; }
die() { echo "fetch-binaries.sh: error: $*" >&2; exit 1; }
OUT=\${OUT:-$(cd -- "$(dirname -- "\${BASH_SOURCE[0]}")" && pwd)/${BINARIES_DIR}}

# release, version, archive, URL, format, checksum algorithm, checksum, where the checksum is stated (or to be found)
ARCHIVES=(
${archives.map((r) => `  ${[r.release.id, r.version, r.file, r.url, r.release.format, r.checksum?.algorithm ?? '', r.checksum?.hex ?? '', help(r)].map(sq).join(' ')}`).join('\n')}
)
# role, release, its member in the archive, install path
STAGE=(
${roles.flatMap((r) => r.binaries.map((b) => `  ${[r.role, b.release.release.id, b.program.member(b.release.version), b.path].map(sq).join(' ')}`)).join('\n')}
)
ROLES=(${roles.map((r) => sq(r.role)).join(' ')})
VERSIONS=${sq(stagedVersions(model))}

# 1. A pinned checksum for every archive, before anything is downloaded.
MISSING=0
for ((i = 0; i < \${#ARCHIVES[@]}; i += 8)); do
  id=\${ARCHIVES[i]} version=\${ARCHIVES[i + 1]} file=\${ARCHIVES[i + 2]} sum=\${ARCHIVES[i + 6]} where=\${ARCHIVES[i + 7]}
  if [ -z "$sum" ]; then
    echo "fetch-binaries.sh: no checksum for $file ($id $version): no upstream file kubesmith can read states it. Copy its checksum from $where into the cluster definition as binaries.$id.checksum ('sha256:<hex>' or 'sha512:<hex>'), synth again, and run the new dist/fetch-binaries.sh." >&2
    MISSING=$((MISSING + 1))
  fi
done
[ "$MISSING" = 0 ] || die "$MISSING archive(s) have no checksum; nothing was downloaded"
for tool in curl tar sha256sum sha512sum install; do command -v "$tool" > /dev/null || die "needs $tool"; done

# 2. Each archive once; a download whose checksum differs is deleted and nothing is staged.
mkdir -p -- "$OUT/archives"
BAD=0
declare -A ARCHIVE_OF=() FORMAT_OF=()
for ((i = 0; i < \${#ARCHIVES[@]}; i += 8)); do
  id=\${ARCHIVES[i]} version=\${ARCHIVES[i + 1]} file=\${ARCHIVES[i + 2]} url=\${ARCHIVES[i + 3]} format=\${ARCHIVES[i + 4]}
  algo=\${ARCHIVES[i + 5]} sum=\${ARCHIVES[i + 6]} source=\${ARCHIVES[i + 7]}
  dst=$OUT/archives/$id-$version/$file
  ARCHIVE_OF[$id]=$dst FORMAT_OF[$id]=$format
  mkdir -p -- "$(dirname -- "$dst")"
  if [ -f "$dst" ] && [ "$("\${algo}sum" < "$dst" | cut -d' ' -f1)" = "$sum" ]; then say "have     $file ($id $version, $algo checked)"; continue; fi
  say "download $url"
  rm -f -- "$dst.part"
  # A stalled transfer (under 1 KiB/s for a minute) is given up, never waited on forever.
  if ! curl -fsSL --retry 3 --connect-timeout 20 --speed-limit 1024 --speed-time 60 -o "$dst.part" "$url"; then
    echo "fetch-binaries.sh: FAILED   $url could not be downloaded" >&2
    rm -f -- "$dst.part"; BAD=$((BAD + 1)); continue
  fi
  got=$("\${algo}sum" < "$dst.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    echo "fetch-binaries.sh: REFUSED  $file from $url: its $algo is $got, but $sum is pinned ($source); deleted" >&2
    rm -f -- "$dst.part"; BAD=$((BAD + 1)); continue
  fi
  mv -f -- "$dst.part" "$dst"
  say "verified $file ($algo as pinned: $source)"
done
[ "$BAD" = 0 ] || die "$BAD archive(s) refused or missing; nothing was staged ($OUT/<role> is as it was)"

# 3. Stage into a new directory, then swap each role in: a failure leaves the previous staging whole.
NEW=$(mktemp -d -- "$OUT/.staging-XXXXXX")
trap 'rm -rf -- "$NEW"' EXIT
declare -A UNPACKED=()
for ((i = 0; i < \${#STAGE[@]}; i += 4)); do
  role=\${STAGE[i]} id=\${STAGE[i + 1]} member=\${STAGE[i + 2]} dest=\${STAGE[i + 3]}
  archive=\${ARCHIVE_OF[$id]}
  if [ "\${FORMAT_OF[$id]}" = binary ]; then
    src=$archive
  else
    tmp=$NEW/.unpacked/$id
    if [ -z "\${UNPACKED[$id]-}" ]; then
      members=()
      for ((j = 0; j < \${#STAGE[@]}; j += 4)); do
        [ "\${STAGE[j + 1]}" != "$id" ] || [[ " \${members[*]-} " == *" \${STAGE[j + 2]} "* ]] || members+=("\${STAGE[j + 2]}")
      done
      mkdir -p -- "$tmp"
      tar -xzf "$archive" -C "$tmp" --no-same-owner -- "\${members[@]}" || die "$(basename -- "$archive") does not hold all of: \${members[*]}"
      UNPACKED[$id]=1
    fi
    src=$tmp/$member
  fi
  if [ ! -f "$src" ] || [ -L "$src" ]; then die "$member in $(basename -- "$archive") is not a regular file"; fi
  install -D -m 0755 -- "$src" "$NEW/$role$dest"
done
printf '%s' "$VERSIONS" > "$NEW/VERSIONS"
for role in "\${ROLES[@]}"; do
  rm -rf -- "\${OUT:?}/$role.old"
  if [ -e "$OUT/$role" ]; then mv -- "$OUT/$role" "$OUT/$role.old"; fi
  mv -- "$NEW/$role" "$OUT/$role"
  rm -rf -- "\${OUT:?}/$role.old"
  say "staged   $role: $(cd -- "$OUT/$role" && find . -type f | sed 's|^\\./|/|' | sort | tr '\\n' ' ')"
done
mv -f -- "$NEW/VERSIONS" "$OUT/VERSIONS"
say "done: carry $OUT (archives/ may stay behind) to the site, beside deploy.sh and ansible/"
`;
}
