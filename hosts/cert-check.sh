#!/bin/bash
# kubesmith cert-check: how long every certificate this host holds stays valid. Run by kubesmith-cert-check.service
# (its timer), by install.sh --check, or by hand. Reads the host's list from --config, a file of lines
#   cert name=NAME path=/ABS/PATH warn-days=N required=0|1
#   textfile=/ABS/PATH.prom   (node-exporter's textfile collector; written unless --no-textfile)
# Prints one line per certificate; exits 1 when one is expired, within its warning days, unreadable or missing
# (required=0: the kubelet's own, which exist only once it has bootstrapped), else 0.
set -euo pipefail
export LC_ALL=C
umask 022

usage() { echo "usage: cert-check.sh --config FILE [--root DIR] [--no-textfile]"; }
say() { echo "cert-check: $*"; }
die() { echo "cert-check: error: $*" >&2; exit 2; }

CONFIG='' ROOT='' TEXTFILE_ON=1
while [ $# -gt 0 ]; do
  case "$1" in
    --config)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage >&2; exit 2; fi
      CONFIG=$2; shift 2 ;;
    --root)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage >&2; exit 2; fi
      ROOT=${2%/}; shift 2 ;;
    --no-textfile) TEXTFILE_ON=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cert-check: error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$CONFIG" ] || { usage >&2; exit 2; }
[ -r "$CONFIG" ] || die "cannot read --config $CONFIG"
command -v openssl > /dev/null 2>&1 || die "no openssl command: install the openssl package"

NAMES=() PATHS_=() WARN=() REQUIRED=()
TEXTFILE=''
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    ''|'#'*) continue ;;
    textfile=/*) TEXTFILE=${line#textfile=}; continue ;;
    'cert '*) ;;
    *) die "$CONFIG: malformed line: $line" ;;
  esac
  name='' path='' warn='' required=''
  for field in ${line#cert }; do
    case "$field" in
      name=?*) name=${field#name=} ;;
      path=/?*) path=${field#path=} ;;
      warn-days=*) warn=${field#warn-days=} ;;
      required=[01]) required=${field#required=} ;;
      *) die "$CONFIG: malformed field $field in: $line" ;;
    esac
  done
  [[ -n $name && -n $path && $warn =~ ^[0-9]+$ && -n $required ]] \
    || die "$CONFIG: a cert line needs name, path, warn-days and required: $line"
  NAMES+=("$name") PATHS_+=("$path") WARN+=("$warn") REQUIRED+=("$required")
done < "$CONFIG"

NOW=$(date -u +%s)
PROBLEMS=0 CHECKED=0
METRICS=()
# The markers as -{5}: snapshots of this script hold no PEM marker.
DASHES=-----
BEGIN="${DASHES}BEGIN CERTIFICATE${DASHES}" END="${DASHES}END CERTIFICATE${DASHES}"

# One certificate (PEM on stdin) of entry $1, the $2-th in its file.
report() {
  local i=$1 nth=$2 out end serial subject expires days state
  if ! out=$(openssl x509 -noout -enddate -serial -subject -nameopt RFC2253 2> /dev/null); then
    say "UNREADABLE ${NAMES[i]} ${PATHS_[i]} (certificate $nth)"; PROBLEMS=$((PROBLEMS + 1)); return
  fi
  end=$(sed -n 's/^notAfter=//p' <<< "$out")
  serial=$(sed -n 's/^serial=//p' <<< "$out" | tr 'A-F' 'a-f')
  subject=$(sed -n 's/^subject=//p' <<< "$out")
  expires=$(date -u -d "$end" +%s)
  days=$(((expires - NOW) / 86400))
  [ "$expires" -ge "$NOW" ] || days=$(((expires - NOW - 86399) / 86400))
  if [ "$expires" -lt "$NOW" ]; then state=EXPIRED; PROBLEMS=$((PROBLEMS + 1))
  elif [ "$days" -lt "${WARN[i]}" ]; then state=EXPIRING; PROBLEMS=$((PROBLEMS + 1))
  else state=OK; fi
  say "$state ${NAMES[i]} ${PATHS_[i]} ($subject): $days days left, until $(date -u -d "@$expires" +%Y-%m-%dT%H:%M:%SZ); warns under ${WARN[i]}"
  CHECKED=$((CHECKED + 1))
  METRICS+=("kubesmith_certificate_expiry_timestamp_seconds{name=\"${NAMES[i]}\",path=\"${PATHS_[i]}\",serial=\"$serial\"} $expires")
}

for i in "${!NAMES[@]}"; do
  file=$ROOT${PATHS_[i]}
  if [ ! -e "$file" ]; then
    if [ "${REQUIRED[i]}" = 1 ]; then say "MISSING ${NAMES[i]} ${PATHS_[i]}"; PROBLEMS=$((PROBLEMS + 1))
    else say "ABSENT ${NAMES[i]} ${PATHS_[i]} (written by the kubelet once it has bootstrapped)"; fi
    continue
  fi
  if [ ! -r "$file" ]; then say "UNREADABLE ${NAMES[i]} ${PATHS_[i]}"; PROBLEMS=$((PROBLEMS + 1)); continue; fi
  # Every certificate of the file: a CA file can hold an old and a new CA at once.
  nth=0 block='' inside=0
  while IFS= read -r pem || [ -n "$pem" ]; do
    if [ "$pem" = "$BEGIN" ]; then inside=1; block=$pem$'\n'; continue; fi
    [ "$inside" = 1 ] || continue
    block+=$pem$'\n'
    if [ "$pem" = "$END" ]; then
      inside=0 nth=$((nth + 1))
      report "$i" "$nth" <<< "$block"
    fi
  done < "$file"
  if [ "$nth" = 0 ]; then say "UNREADABLE ${NAMES[i]} ${PATHS_[i]} (no certificate in it)"; PROBLEMS=$((PROBLEMS + 1)); fi
done

if [ "$TEXTFILE_ON" = 1 ] && [ -n "$TEXTFILE" ]; then
  dir=$ROOT$(dirname -- "$TEXTFILE")
  mkdir -p -- "$dir"
  tmp=$(mktemp "$dir/.kubesmith-cert-check.XXXXXX")
  {
    echo '# HELP kubesmith_certificate_expiry_timestamp_seconds When the certificate stops being valid (notAfter), in seconds since the epoch.'
    echo '# TYPE kubesmith_certificate_expiry_timestamp_seconds gauge'
    for m in ${METRICS[@]+"${METRICS[@]}"}; do echo "$m"; done
    echo '# HELP kubesmith_certificate_check_problems Certificates expired, expiring within their warning days, unreadable or missing at the last check.'
    echo '# TYPE kubesmith_certificate_check_problems gauge'
    echo "kubesmith_certificate_check_problems $PROBLEMS"
    echo '# HELP kubesmith_certificate_check_timestamp_seconds When the last check ran, in seconds since the epoch.'
    echo '# TYPE kubesmith_certificate_check_timestamp_seconds gauge'
    echo "kubesmith_certificate_check_timestamp_seconds $NOW"
  } > "$tmp"
  chmod 0644 -- "$tmp"
  # node-exporter reads whole files only: the new one takes the old one's place at once.
  mv -f -- "$tmp" "$ROOT$TEXTFILE"
fi

if [ "$PROBLEMS" -gt 0 ]; then
  say "$PROBLEMS problem(s). A synth re-issues the leaf certificates that are due (npm run certs -- renew NAME: any now), then roll out; the kubelet renews its client certificate itself; a CA must be rotated"
  exit 1
fi
say "no problem: $CHECKED certificate(s) valid beyond their warning days"
