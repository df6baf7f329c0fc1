# The body of every host's install.sh: hosts/install-script.ts puts HOST, ADDRESS, CLUSTER, NODE, DIRS, BINARIES,
# VERSIONS, UNITS, DEPS, RELOADS, DATA, INSTALLED, OBSOLETE, CAS, MODES, CERT_CHECK_SCRIPT and CERT_CHECK_CONFIG
# above it.
say() { echo "install.sh: $*"; }
warn() { echo "install.sh: warning: $*" >&2; WARNINGS=$((WARNINGS + 1)); }
die() { echo "install.sh: error: $*" >&2; exit 1; }
usage() { echo "usage: install.sh [--root DIR] [--no-start | --check] [--units UNIT,...] [--replace-cluster] [--ignore-address]"; }
same_mode() { [ $((8#$(stat -c %a -- "$1"))) -eq $((8#$2)) ]; }
# The SHA-256 fingerprint of a PEM file's first certificate (openssl x509 -fingerprint -sha256, lowercase, no colons),
# or nothing when the file holds none (the markers as -\{5\}: snapshots of this script hold no PEM marker).
fingerprint() {
  local body sum
  body=$(sed -n -e '/^-\{5\}BEGIN CERTIFICATE-\{5\}$/,/^-\{5\}END CERTIFICATE-\{5\}$/{/^-\{5\}END/q;/^-\{5\}/!p}' -- "$1" 2> /dev/null || true)
  [ -n "$body" ] || return 0
  sum=$(base64 -d <<< "$body" 2> /dev/null | sha256sum) || return 0
  echo "${sum%% *}"
}
# With --root, a path must stay inside the root once symbolic links are followed: a link in the root to / must not
# make install.sh write to the real system.
inside_root() {
  [ "$LIVE" = 0 ] || return 0
  local real
  real=$(realpath -m -- "$1")
  case "$real" in "$ROOT"|"$ROOT"/*) return 0 ;; esac
  die "refusing to write $1: a symbolic link leads it outside --root $ROOT (to $real)"
}

ROOT=''
LIVE=1
START=1
CHECK=0
ONLY='' # --units: the upgrade step's units, space-padded
REPLACE=0
IGNORE_ADDRESS=0
WARNINGS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage >&2; exit 2; fi
      ROOT=$2; LIVE=0; shift 2 ;;
    --no-start) START=0; shift ;;
    --check) CHECK=1; shift ;;
    --units)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage >&2; exit 2; fi
      ONLY=" ${2//,/ } "; shift 2 ;;
    --replace-cluster) REPLACE=1; shift ;;
    --ignore-address) IGNORE_ADDRESS=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$LIVE" = 0 ]; then
  mkdir -p -- "$ROOT"
  ROOT=$(cd -- "$ROOT" && pwd -P)
  [ "$ROOT" != / ] || ROOT=''
elif [ "$(id -u)" != 0 ] && [ "$CHECK" = 0 ]; then
  die "run as root, or with --root DIR to lay the files out elsewhere"
fi
cd -- "$(dirname -- "${BASH_SOURCE[0]}")"
# --units: one step of an upgrade wave. Only these units' programs must be the definition's versions, only they
# restart, and a file that only other units read waits for their step (an older program must not meet a newer config).
LISTED=() UNLISTED=()
if [ -n "$ONLY" ]; then
  [ "$CHECK" = 0 ] || die "--units and --check do not go together"
  for u in $ONLY; do
    [[ " ${UNITS[*]-} " == *" $u "* ]] || die "--units: $HOST runs no unit $u; it runs: ${UNITS[*]-none}"
  done
  for u in ${UNITS[@]+"${UNITS[@]}"}; do
    if [[ $ONLY == *" $u "* ]]; then LISTED+=("$u"); else UNLISTED+=("$u"); fi
  done
fi
listed() { [ -z "$ONLY" ] || [[ $ONLY == *" $1 "* ]]; }
# A file waits for a later step when some unlisted unit reads it and no listed one does.
declare -A DEFER=()
if [ -n "$ONLY" ]; then
  for u in ${UNLISTED[@]+"${UNLISTED[@]}"}; do for f in ${DEPS[$u]-}; do DEFER[$f]=1; done; done
  for u in "${LISTED[@]}"; do for f in ${DEPS[$u]-}; do unset 'DEFER[$f]'; done; done
fi
# The units that run a program (BINARIES), space-padded.
declare -A RUN_BY=()
for ((i = 0; i < ${#BINARIES[@]}; i += 3)); do RUN_BY[${BINARIES[i + 1]}]+=" ${BINARIES[i]} "; done
for_listed_unit() { local u; for u in ${RUN_BY[$1]-}; do if listed "$u"; then return 0; fi; done; return 1; }
[ -f MANIFEST ] || die "no MANIFEST beside install.sh: run the install.sh of an unpacked bundle"

# 1. Every file of the bundle must match MANIFEST before anything is changed.
FILES=() # mode, path: the entries in a directory; top-level ones (install.sh) belong to the bundle
declare -A SUMS=()
BAD=0
while IFS= read -r line || [ -n "$line" ]; do
  [[ $line =~ ^([0-7]{4})\ ([0-9a-f]{64})\ ([^[:space:]]+)$ ]] || die "MANIFEST: malformed line: $line"
  mode=${BASH_REMATCH[1]} sum=${BASH_REMATCH[2]} file=${BASH_REMATCH[3]}
  case "/$file/" in *//*|*/./*|*/../*) die "MANIFEST: unsafe path $file" ;; esac
  [[ $MODES == *" $mode "* ]] || die "MANIFEST: $file has mode $mode; only${MODES% } are allowed (no setuid, setgid, sticky or world-writable); nothing was changed"
  if [ ! -f "$file" ] || [ -L "$file" ]; then
    echo "install.sh: MISSING  $file" >&2; BAD=$((BAD + 1)); continue
  fi
  actual=$(sha256sum -- "$file"); actual=${actual%% *}
  if [ "$actual" != "$sum" ]; then
    echo "install.sh: MISMATCH $file: sha256 $actual, MANIFEST says $sum" >&2; BAD=$((BAD + 1)); continue
  fi
  case "$file" in */*) FILES+=("$mode" "$file"); SUMS[$file]=$sum ;; esac
done < MANIFEST
[ "$BAD" = 0 ] || die "$BAD file(s) do not match MANIFEST; nothing was changed. Unpack the bundle again."
[ ${#FILES[@]} -gt 0 ] || die "MANIFEST lists no file to install"

# 1a. Identity. The CAs this host holds must be the bundle's: a bundle of another cluster would replace them, and
# with them whom this host's services trust. A file that holds no certificate (damaged) is only drift, put back below.
if [ "$CHECK" = 0 ]; then
  OTHER=()
  for f in ${CAS[@]+"${CAS[@]}"}; do
    [ -f "$ROOT/$f" ] || continue
    have=$(fingerprint "$ROOT/$f")
    want=$(fingerprint "$f")
    [ -z "$have" ] || [ "$have" = "$want" ] || OTHER+=("/$f: installed CA's SHA-256 fingerprint $have, this bundle's $want")
  done
  if [ ${#OTHER[@]} -gt 0 ] && [ "$REPLACE" = 0 ]; then
    for o in "${OTHER[@]}"; do echo "install.sh: CA       $o" >&2; done
    die "this host holds the CAs of another cluster, not those of cluster $CLUSTER in this bundle; nothing was changed. Install the bundle of this host's own cluster, or, to move $HOST into cluster $CLUSTER on purpose (what it holds of its old cluster stops working), run install.sh --replace-cluster"
  fi
  [ ${#OTHER[@]} -eq 0 ] || warn "replacing the CAs of another cluster with those of cluster $CLUSTER (--replace-cluster)"
fi
# On the live system the bundle must be this machine's: it holds the host's address.
if [ "$LIVE" = 1 ] && [ "$CHECK" = 0 ] && [ "$IGNORE_ADDRESS" = 0 ]; then
  command -v ip > /dev/null 2>&1 \
    || die "cannot tell whether this machine is $HOST: no ip command (iproute2) lists its addresses; install it, or run install.sh --ignore-address if this is $HOST"
  HELD=$(ip -o addr show 2> /dev/null | while read -r _ _ family address _; do [ "$family" != inet ] || echo "${address%/*}"; done || true)
  grep -qxF -- "$ADDRESS" <<< "$HELD" \
    || die "this machine does not hold $ADDRESS, the address of $HOST (it holds: ${HELD//$'\n'/ }); nothing was changed. Install this bundle on $HOST, or run install.sh --ignore-address if $ADDRESS comes to this machine later"
fi

# 1b. Every program in place must say the version the definition names; a missing one is reported in step 5.
WRONG=()
for ((i = 0; i < ${#VERSIONS[@]}; i += 5)); do
  bin=${VERSIONS[i]} args=${VERSIONS[i + 1]} re=${VERSIONS[i + 2]} want=${VERSIONS[i + 3]} field=${VERSIONS[i + 4]}
  if [ ! -x "$ROOT$bin" ] || [ -d "$ROOT$bin" ]; then continue; fi
  [ -z "$ONLY" ] || for_listed_unit "$bin" || continue
  # Under --root a program is run only when it is a file of the root: a link out of it names some other program.
  if [ "$LIVE" = 0 ]; then
    real=$(realpath -m -- "$ROOT$bin")
    case "$real" in
      "$ROOT"/*) ;;
      *) WRONG+=("$bin leads outside --root $ROOT (to $real), so it was not run; put the program itself in the root"); continue ;;
    esac
  fi
  # shellcheck disable=SC2086 # args are words
  out=$(CNI_COMMAND='' timeout 10 "$ROOT$bin" $args 2>&1 < /dev/null || true)
  got=''
  if [[ $out =~ $re ]]; then got=${BASH_REMATCH[1]}; fi
  [ "$got" != "$want" ] || continue
  if [ -n "$got" ]; then got="is version $got"; else got="states no version (it printed: $(head -n 1 <<< "$out" | cut -c1-80))"; fi
  WRONG+=("$bin $got; the definition ($field) says $want")
done
if [ "$CHECK" = 0 ] && [ ${#WRONG[@]} -gt 0 ]; then
  for w in "${WRONG[@]}"; do echo "install.sh: VERSION  $w" >&2; done
  die "${#WRONG[@]} program(s) are not the versions of the definition; nothing was changed. Put the right ones in place (dist/fetch-binaries.sh, then roll out) or change the definition."
fi

# 1c. Leftovers: what the last full install put here that this bundle lacks (a role the host no longer has). An
# upgrade step (--units) installs part of a bundle: it leaves them for the full install.
LEFT_UNITS=() LEFT_FILES=()
if [ -z "$ONLY" ] && [ -f "$ROOT$INSTALLED" ]; then
  declare -A IN_BUNDLE=()
  for ((i = 0; i < ${#FILES[@]}; i += 2)); do IN_BUNDLE[${FILES[i + 1]}]=1; done
  while IFS=' ' read -r kind name || [ -n "$kind" ]; do
    case "$kind" in
      unit)
        [[ $name =~ ^[A-Za-z0-9@._-]+$ ]] || die "$INSTALLED: malformed unit $name"
        # Newest first: stopped in reverse start order.
        [[ " ${UNITS[*]-} " == *" $name "* ]] || LEFT_UNITS=("$name" ${LEFT_UNITS[@]+"${LEFT_UNITS[@]}"}) ;;
      file)
        case "/$name/" in *//*|*/./*|*/../*) die "$INSTALLED: unsafe path $name" ;; esac
        [ -n "${IN_BUNDLE[$name]-}" ] || LEFT_FILES+=("$name") ;;
      *) die "$INSTALLED: malformed line: $kind $name" ;;
    esac
  done < "$ROOT$INSTALLED"
fi

# --check: how this host differs from the bundle (content, mode, missing files, units not active); changes nothing.
if [ "$CHECK" = 1 ]; then
  DRIFT=0
  drift() { echo "install.sh: DRIFT $*"; DRIFT=$((DRIFT + 1)); }
  for w in ${WRONG[@]+"${WRONG[@]}"}; do drift "version  $w"; done
  for ((i = 0; i < ${#FILES[@]}; i += 2)); do
    mode=${FILES[i]} file=${FILES[i + 1]} dst=$ROOT/${FILES[i + 1]}
    when=${OBSOLETE[$file]-}
    if [ -n "$when" ] && [ -e "$ROOT$when" ]; then
      if [ -e "$dst" ] || [ -L "$dst" ]; then drift "obsolete /$file is still there ($when exists)"; fi
      continue
    fi
    if [ -L "$dst" ] || [ ! -f "$dst" ]; then drift "missing  /$file"; continue; fi
    actual=$(sha256sum -- "$dst"); actual=${actual%% *}
    [ "$actual" = "${SUMS[$file]}" ] || drift "content  /$file (sha256 $actual, MANIFEST says ${SUMS[$file]})"
    same_mode "$dst" "$mode" || drift "mode     /$file ($(stat -c %a -- "$dst"), MANIFEST says $mode)"
  done
  for ((i = 0; i < ${#DIRS[@]}; i += 3)); do
    mode=${DIRS[i]} dir=${DIRS[i + 1]} enforce=${DIRS[i + 2]}
    if [ ! -d "$ROOT$dir" ]; then drift "missing  $dir/"
    elif [ "$enforce" = 1 ] && ! same_mode "$ROOT$dir" "$mode"; then drift "mode     $dir/ ($(stat -c %a -- "$ROOT$dir"), should be $mode)"; fi
  done
  for f in ${LEFT_FILES[@]+"${LEFT_FILES[@]}"}; do
    if [ -e "$ROOT/$f" ] || [ -L "$ROOT/$f" ]; then drift "leftover /$f (no longer in this host's bundle)"; fi
  done
  CHECKED_UNITS=0
  if [ "$LIVE" = 1 ]; then
    for u in ${UNITS[@]+"${UNITS[@]}"}; do
      CHECKED_UNITS=$((CHECKED_UNITS + 1))
      systemctl is-active --quiet "$u" || drift "unit     $u is $(systemctl is-active "$u" 2> /dev/null || true)"
    done
    for u in ${LEFT_UNITS[@]+"${LEFT_UNITS[@]}"}; do
      if systemctl is-active --quiet "$u" || systemctl is-enabled --quiet "$u" 2> /dev/null; then
        drift "leftover $u is $(systemctl is-active "$u" 2> /dev/null || true) (no longer on this host)"
      fi
    done
  fi
  # How long the certificates stay valid: reported beside drift, not as drift (a synth and a roll-out renew them).
  if [ -n "$CERT_CHECK_SCRIPT" ]; then
    certs=0
    bash "$CERT_CHECK_SCRIPT" --config "$CERT_CHECK_CONFIG" --no-textfile ${ROOT:+--root "$ROOT"} || certs=$?
    case "$certs" in
      0) ;;
      1) warn "certificates above are expired, expiring or missing" ;;
      *) warn "the certificate check failed (exit $certs)" ;;
    esac
  fi
  if [ "$DRIFT" = 0 ]; then
    say "$HOST: no drift ($((${#FILES[@]} / 2)) files, $CHECKED_UNITS units checked)"
    exit 0
  fi
  say "$HOST: $DRIFT difference(s) from the bundle; run install.sh to put the files back"
  exit 3
fi

# 2. Swap: kubelet fails with swap on.
if [ "$LIVE" = 1 ] && [ "$NODE" = 1 ] && [ -r /proc/swaps ] && [ "$(wc -l < /proc/swaps)" -gt 1 ]; then
  msg="swap is on (/proc/swaps); kubelet will not start: run 'swapoff -a' and remove swap from /etc/fstab"
  if [ "$START" = 1 ]; then die "$msg"; else warn "$msg"; fi
fi

# 3. Directories.
DIRS_MADE=0
for ((i = 0; i < ${#DIRS[@]}; i += 3)); do
  mode=${DIRS[i]} dir=${DIRS[i + 1]} enforce=${DIRS[i + 2]}
  inside_root "$ROOT$dir"
  if [ ! -d "$ROOT$dir" ]; then
    install -d -m "$mode" -- "$ROOT$dir"
    say "created  $dir/ ($mode)"; DIRS_MADE=$((DIRS_MADE + 1))
  elif [ "$enforce" = 1 ] && ! same_mode "$ROOT$dir" "$mode"; then
    chmod "$mode" -- "$ROOT$dir"
    say "chmod    $dir/ ($mode)"; DIRS_MADE=$((DIRS_MADE + 1))
  fi
done

# 4. Files: an unchanged file is not touched; a changed one is replaced atomically.
ADDED=0 UPDATED=0 UNCHANGED=0 REMOVED=0 DEFERRED=0
MODULE_FILES=() SYSCTL=0
declare -A TOUCHED=()
# Leftovers first: a unit the host no longer runs is stopped and disabled before its files go, and the state it kept
# is moved aside (a removed etcd member must not rejoin later with its old data).
for u in ${LEFT_UNITS[@]+"${LEFT_UNITS[@]}"}; do
  if [ "$LIVE" = 1 ]; then
    if systemctl disable --now --quiet -- "$u" 2> /dev/null; then say "stopped and disabled $u (no longer on this host)"
    elif systemctl is-active --quiet "$u"; then die "stopping $u (no longer on this host) failed; see: journalctl -u $u"; fi
  fi
  d=${DATA[$u]-}
  if [ -n "$d" ] && [ -d "$ROOT$d" ]; then
    inside_root "$ROOT$d"
    aside="$d.removed-$(date -u +%Y%m%dT%H%M%SZ)"
    mv -T -- "$ROOT$d" "$ROOT$aside"
    say "moved $d aside to $aside ($u no longer runs here; remove it once you no longer need it)"
  fi
done
for f in ${LEFT_FILES[@]+"${LEFT_FILES[@]}"}; do
  inside_root "$(dirname -- "$ROOT/$f")"
  if [ -e "$ROOT/$f" ] || [ -L "$ROOT/$f" ]; then
    rm -f -- "$ROOT/$f"; REMOVED=$((REMOVED + 1))
    say "removed  /$f (no longer in this host's bundle)"
  fi
done
for ((i = 0; i < ${#FILES[@]}; i += 2)); do
  mode=${FILES[i]} file=${FILES[i + 1]} dst=$ROOT/${FILES[i + 1]}
  case "$file" in
    etc/modules-load.d/*.conf) MODULE_FILES+=("$file") ;;
    etc/sysctl.d/*.conf) SYSCTL=1 ;;
  esac
  inside_root "$(dirname -- "$dst")"
  [ ! -d "$dst" ] || die "/$file is a directory on this host"
  if [ -n "${DEFER[$file]-}" ] && ! { [ -f "$dst" ] && cmp -s -- "$file" "$dst"; }; then
    DEFERRED=$((DEFERRED + 1)); say "deferred /$file (read by units of a later step)"; continue
  fi
  when=${OBSOLETE[$file]-}
  if [ -n "$when" ] && [ -e "$ROOT$when" ]; then
    if [ -e "$dst" ] || [ -L "$dst" ]; then
      rm -f -- "$dst"; REMOVED=$((REMOVED + 1))
      say "removed  /$file ($when exists)"
    fi
    continue
  fi
  if [ -f "$dst" ] && [ ! -L "$dst" ] && cmp -s -- "$file" "$dst"; then
    if same_mode "$dst" "$mode"; then UNCHANGED=$((UNCHANGED + 1)); continue; fi
    chmod "$mode" -- "$dst"
    say "chmod    /$file ($mode)"; UPDATED=$((UPDATED + 1)); TOUCHED[$file]=1; continue
  fi
  if [ -e "$dst" ] || [ -L "$dst" ]; then what=updated; UPDATED=$((UPDATED + 1)); else what=added; ADDED=$((ADDED + 1)); fi
  mkdir -p -- "$(dirname -- "$dst")"
  tmp=$(mktemp -- "$dst.kubesmith-XXXXXX") # a new file: never one a link put there
  cat -- "$file" > "$tmp"
  chmod "$mode" -- "$tmp"
  mv -fT -- "$tmp" "$dst"
  TOUCHED[$file]=1
  printf 'install.sh: %-8s /%s (%s)\n' "$what" "$file" "$mode"
done
CHANGED=$((ADDED + UPDATED + REMOVED))

# 5. Binaries the services run: missing ones are reported, not fatal.
MISSING=0 MISSING_UNITS=' '
for ((i = 0; i < ${#BINARIES[@]}; i += 3)); do
  unit=${BINARIES[i]} bin=${BINARIES[i + 1]} source=${BINARIES[i + 2]}
  if [ ! -x "$ROOT$bin" ]; then
    warn "missing $bin (for $unit): get it from $source"
    MISSING=$((MISSING + 1)); MISSING_UNITS="$MISSING_UNITS$unit "
  fi
done

# 5b. What the OS must provide beside those binaries, with the package on either family of distributions.
for ((i = 0; i < ${#REQUIRES[@]}; i += 7)); do
  name=${REQUIRES[i]} paths=${REQUIRES[i + 1]} deb=${REQUIRES[i + 2]} rhel=${REQUIRES[i + 3]} why=${REQUIRES[i + 4]}
  elsewhere=${REQUIRES[i + 5]} setting=${REQUIRES[i + 6]}
  found=0
  IFS='|' read -r -a candidates <<< "$paths"
  for p in "${candidates[@]}"; do if [ -e "$ROOT$p" ]; then found=1; break; fi; done
  [ "$found" = 0 ] || continue
  other=''
  IFS='|' read -r -a candidates <<< "$elsewhere"
  for p in ${candidates[@]+"${candidates[@]}"}; do if [ -e "$ROOT$p" ]; then other=$p; break; fi; done
  if [ -n "$other" ]; then warn "needs $name for $why: this host has it at $other; set $setting: '$other' in the definition, synth and roll out again"
  else warn "needs $name for $why: apt-get install $deb (Debian, Ubuntu) or dnf install $rhel (RHEL, CentOS)"; fi
done

# 5c. firewalld and SELinux: what this host needs, as commands (install.sh changes neither).
if [ "$LIVE" = 1 ]; then
  if command -v firewall-cmd > /dev/null 2>&1 && firewall-cmd --state > /dev/null 2>&1; then
    say "firewalld is running; this host needs:"
    for r in ${FIREWALL[@]+"${FIREWALL[@]}"}; do
      if [ "$r" = vrrp ]; then echo "  firewall-cmd --permanent --add-rich-rule='rule protocol value=\"vrrp\" accept'"
      else echo "  firewall-cmd --permanent --add-port=$r"; fi
    done
    echo "  firewall-cmd --reload"
  fi
  if [ ${#SELINUX[@]} -gt 0 ] && command -v getenforce > /dev/null 2>&1 && [ "$(getenforce 2> /dev/null)" = Enforcing ]; then
    say "SELinux enforces; this host needs:"
    for c in "${SELINUX[@]}"; do echo "  $c"; done
  fi
fi

# 6. The running system: only without --root.
SERVICES='not touched (--root)'
if [ "$LIVE" = 1 ]; then
  systemctl daemon-reload
  for f in ${MODULE_FILES[@]+"${MODULE_FILES[@]}"}; do
    # shellcheck disable=SC2013 # modules-load.d: the words left of a comment are module names
    for m in $(sed -e 's/[#;].*//' -- "$f"); do modprobe -- "$m" || warn "cannot load kernel module $m"; done
  done
  if [ "$SYSCTL" = 1 ]; then sysctl --system > /dev/null || warn "sysctl --system reported errors"; fi
  READY=()
  for u in ${UNITS[@]+"${UNITS[@]}"}; do
    if [[ $MISSING_UNITS == *" $u "* ]]; then warn "not enabling $u: its binary is missing; run install.sh again once it is there"
    else READY+=("$u"); fi
  done
  SERVICES='none ready'
  if [ ${#READY[@]} -gt 0 ]; then
    systemctl enable --quiet -- "${READY[@]}"
    SERVICES="enabled: ${READY[*]}"
    if [ "$START" = 1 ]; then
      # --no-block: a first etcd member waits for its peers; units order themselves with After=.
      for u in "${READY[@]}"; do
        listed "$u" || continue
        if ! systemctl is-active --quiet "$u"; then
          systemctl start --no-block "$u"; say "starting $u"
        else
          why='' reload=''
          for f in ${DEPS[$u]-}; do
            [ -n "${TOUCHED[$f]-}" ] || continue
            if [[ " ${RELOADS[$u]-} " == *" $f "* ]]; then reload=${reload:-"/$f changed"}; else why="/$f changed"; break; fi
          done
          # A program replaced under a running unit (a new version copied by the roll-out): the kernel shows its
          # old file as deleted.
          if [ -z "$why" ]; then
            pid=$(systemctl show --property MainPID --value -- "$u" 2> /dev/null || true)
            exe=''
            if [ "${pid:-0}" -gt 0 ] 2> /dev/null; then exe=$(readlink "/proc/$pid/exe" 2> /dev/null || true); fi
            case "$exe" in *' (deleted)') why="its program ${exe% (deleted)} was replaced" ;; esac
          fi
          # Waits for the restart (a notify unit: until it is ready again), so the roll-out's health check
          # after this host sees the new process, not the old one before it stopped.
          if [ -n "$why" ]; then
            say "restarting $u ($why)"
            systemctl restart -- "$u" || die "restarting $u failed; see: journalctl -u $u"
          elif [ -n "$reload" ]; then
            # Its ExecReload re-reads the config and keeps the connections it holds (watches through the VIP).
            say "reloading $u ($reload)"
            systemctl reload -- "$u" || die "reloading $u failed; see: journalctl -u $u"
          fi
        fi
      done
      SERVICES="$SERVICES; check them with: systemctl status ${READY[*]}"
    else
      SERVICES="$SERVICES; not started (--no-start)"
    fi
  fi
fi

# 7. What this full install put here, for the next one to find its leftovers (rewritten only when it differs).
if [ -z "$ONLY" ]; then
  rec="$ROOT$INSTALLED"
  record=$(
    for u in ${UNITS[@]+"${UNITS[@]}"}; do echo "unit $u"; done
    for ((i = 0; i < ${#FILES[@]}; i += 2)); do echo "file ${FILES[i + 1]}"; done
  )
  if [ ! -f "$rec" ] || [ "$(cat -- "$rec")" != "$record" ]; then
    inside_root "$(dirname -- "$rec")"
    mkdir -p -- "$(dirname -- "$rec")"
    tmp=$(mktemp -- "$rec.kubesmith-XXXXXX")
    printf '%s\n' "$record" > "$tmp"
    chmod 0644 -- "$tmp"
    mv -fT -- "$tmp" "$rec"
  fi
fi

if [ "$CHANGED" = 0 ] && [ "$DIRS_MADE" = 0 ] && [ "$DEFERRED" = 0 ]; then
  say "$HOST: nothing changed ($UNCHANGED files up to date)"
else
  gone=''; [ "$REMOVED" = 0 ] || gone=", $REMOVED removed"
  later=''; [ "$DEFERRED" = 0 ] || later=", $DEFERRED deferred to a later step"
  say "$HOST: $ADDED files added, $UPDATED updated, $UNCHANGED unchanged$gone$later; $DIRS_MADE directories created or fixed"
fi
[ "$WARNINGS" = 0 ] || say "$HOST: $WARNINGS warning(s) above, $MISSING binaries missing"
say "$HOST: services $SERVICES"
