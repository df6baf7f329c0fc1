# Upgrade waves and program copies for deploy.sh (lib/output/rollout/deploy-script.ts puts this below its data and
# helpers: say, die, remote, wait_for, stage, HEALTH, HEALTH_WHAT, BINARY_ROLES, KUBECTL_CMD, and the UPGRADE_* data).
# shellcheck shell=bash

# field NAME ENTRY: the value of NAME=VALUE in an entry of named fields (values hold no spaces).
field() {
  local w
  for w in $2; do case $w in "$1="*) printf '%s' "${w#*=}"; return 0 ;; esac; done
  die "no field $1 in: $2"
}

# PREVIOUS: where a host keeps the programs a roll-out replaced; REACHED: where it records each upgrade step it
# finished, with the versions reached (read back to resume). Both from lib/output/rollout/upgrade-commands.ts.
# On the host: reads "sha256 path" lines, prints the paths whose file is missing or differs.
# shellcheck disable=SC2016 # expanded on the host
DIFFER_CMD='while read -r sum p; do [ -n "$p" ] || continue; if [ ! -f "$p" ] || [ "$(sha256sum < "$p" | cut -d" " -f1)" != "$sum" ]; then echo "$p"; fi; done'
# On the host: reads paths, keeps a copy of each existing one under $PREVIOUS.
# shellcheck disable=SC2016
KEEP_CMD='while read -r p; do [ -f "$p" ] || continue; mkdir -p "'$PREVIOUS'$(dirname "$p")" && cp -p "$p" "'$PREVIOUS'$p"; done'

# sync_programs HOST ADDRESS [PATH...]: copies the staged programs (of the host's roles, or only PATHs) that differ on
# the host, by sha256, keeping the ones they replace. A program that matches is never copied, so nothing restarts.
sync_programs() {
  local host=$1 ip=$2 role p rel list='' sum differ
  shift 2
  local -A from=()
  for role in ${BINARY_ROLES[$host]-}; do
    [ -d "$BINARIES_DIR/$role" ] || die "missing $BINARIES_DIR/$role: run fetch-binaries.sh again"
    while IFS= read -r rel; do
      p=/${rel#./}
      if [ -z "${from[$p]-}" ]; then from[$p]=$role; fi
    done < <(cd "$BINARIES_DIR/$role" && find . -type f | LC_ALL=C sort)
  done
  local wanted=("$@")
  if [ ${#wanted[@]} -eq 0 ]; then wanted=("${!from[@]}"); fi
  if [ ${#wanted[@]} -eq 0 ]; then return 0; fi
  for p in "${wanted[@]}"; do
    [ -n "${from[$p]-}" ] || die "$host: $p is not staged under $BINARIES_DIR/ (this host's roles: ${BINARY_ROLES[$host]:-none}); run fetch-binaries.sh again"
    sum=$(sha256sum < "$BINARIES_DIR/${from[$p]}$p")
    list+="${sum%% *} $p"$'\n'
  done
  differ=$(remote "$ip" "$DIFFER_CMD" <<< "$list") || die "$host: cannot compare its programs with $BINARIES_DIR/"
  if [ -z "$differ" ]; then say "  $host: programs as staged (${#wanted[@]} compared by sha256, none copied)"; return 0; fi
  remote "$ip" "$KEEP_CMD" <<< "$differ" || die "$host: cannot keep its previous programs in $PREVIOUS"
  for role in ${BINARY_ROLES[$host]-}; do
    local files=()
    while IFS= read -r p; do if [ -n "$p" ] && [ "${from[$p]-}" = "$role" ]; then files+=(".$p"); fi; done <<< "$differ"
    if [ ${#files[@]} -eq 0 ]; then continue; fi
    # tar unlinks a running program's file, never writes into it.
    tar -C "$BINARIES_DIR/$role" -czf - "${files[@]}" | remote "$ip" "tar -xzf - -C / --no-same-owner --no-overwrite-dir" \
      || die "$host: copying its programs failed"
  done
  say "  $host: copied $(grep -c . <<< "$differ") program(s) that differed: $(tr '\n' ' ' <<< "$differ")(the replaced ones kept in $PREVIOUS)"
}

kubectl_() { "${KUBECTL:-kubectl}" --kubeconfig admin.kubeconfig --request-timeout=30s "$@"; }

# The minor of a version string like v1.37.2 or 1.37.2.
minor_of() { local v=${1#v}; v=${v#1.}; printf '%s' "${v%%.*}"; }

# Every apiserver's version (its /version) and every Node's kubelet: "name version" lines.
apiserver_versions() {
  local m host ip out
  for m in "${MASTERS[@]}"; do
    host=$(field host "$m") ip=$(field ip "$m")
    out=$(remote "$ip" "$VERSION_CMD" 2> /dev/null) || out=''
    out=$(sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' <<< "$out")
    echo "$host ${out:-unreachable}"
  done
}
kubelet_versions() {
  kubectl_ get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion}{"\n"}{end}'
}

# The version-skew policy on the live cluster: no kubelet newer than the oldest apiserver, apiservers at most one
# minor apart. Prints the versions; dies naming what breaks it.
check_skew() {
  local apis kubelets lo=999 hi=0 name v n bad=''
  apis=$(apiserver_versions)
  kubelets=$(kubelet_versions) || die "skew: cannot list the Nodes"
  while read -r name v; do
    [ "$v" != unreachable ] || die "skew: the apiserver on $name does not answer /version"
    n=$(minor_of "$v")
    if [ "$n" -lt "$lo" ]; then lo=$n; fi
    if [ "$n" -gt "$hi" ]; then hi=$n; fi
  done <<< "$apis"
  if [ $((hi - lo)) -gt 1 ]; then bad+="apiservers more than one minor apart; "; fi
  while read -r name v; do
    if [ -n "$name" ] && [ "$(minor_of "$v")" -gt "$lo" ]; then bad+="the kubelet of $name ($v) is newer than the oldest apiserver (1.$lo); "; fi
  done <<< "$kubelets"
  say "  skew: apiservers $(tr '\n' ' ' <<< "$apis")| kubelets $(tr '\n' ' ' <<< "$kubelets")"
  [ -z "$bad" ] || die "the version-skew policy no longer holds: ${bad%; }"
}

reached() { remote "$2" "cat $REACHED/$1 2> /dev/null || true"; } # step, address

upgrade_plan() {
  local e
  say "upgrade: $UPGRADE_SUMMARY, in waves (each host's finished steps are recorded in $REACHED and skipped on a re-run):"
  say "  preflight (here): every apiserver and kubelet at $UPGRADE_FROM_KUBERNETES or $UPGRADE_TO_KUBERNETES; kubectl within one minor; an etcd snapshot to snapshots/; APIs removed by 1.$UPGRADE_TO_MINOR still requested; PodDisruptionBudgets that allow no disruption; certificates expiring within 30 days"
  for e in "${UPGRADE_STEPS[@]}"; do
    local drain=''
    if [ "$(field drain "$e")" = 1 ]; then drain=", drained first (at most ${DRAIN_TIMEOUT}s)"; fi
    say "  $(field wave "$e")/$(field step "$e") on $(field host "$e"): programs $(field programs "$e" | tr , ' '); restart $(field units "$e" | tr , ' ')$drain"
  done
  say "  addons (here): kubectl apply -f addons"
  say "  rollback: $UPGRADE_ROLLBACK"
}

# Stops the roll-out, naming the pods that keep a node from draining.
drain_node() {
  local host=$1 pods
  kubectl_ cordon "$host" > /dev/null || die "$host: kubectl cordon failed"
  say "  $host: cordoned; draining (at most ${DRAIN_TIMEOUT}s)"
  if ! kubectl_ drain "$host" "${DRAIN_FLAGS[@]}" > /dev/null; then
    pods=$(kubectl_ get pods --all-namespaces --field-selector "spec.nodeName=$host" \
      -o jsonpath='{range .items[?(@.metadata.ownerReferences[0].kind!="DaemonSet")]}{.metadata.namespace}/{.metadata.name} {end}' 2> /dev/null || true)
    die "$host: the drain did not finish within ${DRAIN_TIMEOUT}s; still on it: ${pods:-(could not list)}. A PodDisruptionBudget that allows no disruption, or a pod that ignores its termination, holds it. $host stays cordoned; fix that and run deploy.sh --yes again (finished hosts are skipped)"
  fi
}

# The kubelet of a host registered again at the target version, and Ready.
node_ready() {
  local host=$1 ip=$2 i got
  for ((i = 1; i <= TRIES; i++)); do
    got=$(kubectl_ get node "$host" -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status}' 2> /dev/null || true)
    if [ "$got" = "v$UPGRADE_TO_KUBERNETES True" ]; then say "  $host: Node Ready, kubelet v$UPGRADE_TO_KUBERNETES"; return 0; fi
    sleep "$DELAY"
  done
  die "$host: its Node is not Ready at kubelet v$UPGRADE_TO_KUBERNETES after $TRIES tries, $DELAY s apart (it says: ${got:-nothing}); see journalctl -u kubelet on $host ($ip)"
}

preflight() {
  local v m out pdbs certs removed e
  say "preflight"
  # The hosts run what this upgrade starts from, or already what it goes to (a resumed roll-out).
  local apis kubelets
  apis=$(apiserver_versions)
  kubelets=$(kubelet_versions) || die "preflight: kubectl cannot list the Nodes"
  while read -r m v; do
    [ "$v" = "v$UPGRADE_FROM_KUBERNETES" ] || [ "$v" = "v$UPGRADE_TO_KUBERNETES" ] \
      || die "preflight: the apiserver on $m is $v; this roll-out goes from $UPGRADE_FROM_KUBERNETES to $UPGRADE_TO_KUBERNETES: roll out the synth of $UPGRADE_FROM_KUBERNETES first"
  done <<< "$apis"
  while read -r m v; do
    [ -n "$m" ] || continue
    [ "$v" = "v$UPGRADE_FROM_KUBERNETES" ] || [ "$v" = "v$UPGRADE_TO_KUBERNETES" ] \
      || die "preflight: the kubelet of $m is $v; this roll-out goes from $UPGRADE_FROM_KUBERNETES to $UPGRADE_TO_KUBERNETES: roll out the synth of $UPGRADE_FROM_KUBERNETES first"
  done <<< "$kubelets"
  say "  versions: apiservers and kubelets at $UPGRADE_FROM_KUBERNETES or $UPGRADE_TO_KUBERNETES"
  out=$("${KUBECTL:-kubectl}" version --client -o json 2> /dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1 || true)
  [ -n "$out" ] || die "preflight: '${KUBECTL:-kubectl} version --client' says no minor; set KUBECTL to a kubectl of 1.$((UPGRADE_TO_MINOR - 1)) to 1.$((UPGRADE_TO_MINOR + 1))"
  if [ $((out - UPGRADE_TO_MINOR)) -gt 1 ] || [ $((UPGRADE_TO_MINOR - out)) -gt 1 ]; then
    die "preflight: kubectl is 1.$out, outside the skew window of 1.$UPGRADE_TO_MINOR (1.$((UPGRADE_TO_MINOR - 1)) to 1.$((UPGRADE_TO_MINOR + 1))); set KUBECTL to one inside it"
  fi
  say "  kubectl 1.$out: within one minor of 1.$UPGRADE_TO_MINOR"
  # Clients still asking for an API the target removes (the apiserver counts them: apiserver_requested_deprecated_apis).
  local metrics labels r
  metrics=$(kubectl_ get --raw /metrics 2> /dev/null || true)
  removed=''
  while read -r labels; do
    r=$(sed -n 's/.*removed_release="1\.\([0-9]*\)".*/\1/p' <<< "$labels")
    if [ -n "$r" ] && [ "$r" -le "$UPGRADE_TO_MINOR" ]; then
      removed+="$(sed -n 's/.*group="\([^"]*\)".*resource="\([^"]*\)".*version="\([^"]*\)".*/\2.\3.\1/p' <<< "$labels") (requested) "
    fi
  done < <(sed -n 's/^apiserver_requested_deprecated_apis{\(.*\)} .*/\1/p' <<< "$metrics")
  for e in ${REMOVED_APIS[@]+"${REMOVED_APIS[@]}"}; do
    local api res
    api=$(field api "$e")
    for res in $(field resources "$e" | tr , ' '); do
      out=$(kubectl_ get --raw "/apis/$api/$res" 2> /dev/null | grep -c '"name"' || true)
      [ "${out:-0}" = 0 ] || removed+="$res.$api (objects served) "
    done
  done
  [ -z "$removed" ] || die "preflight: APIs Kubernetes 1.$UPGRADE_TO_MINOR no longer serves are still in use: $removed; move their clients and manifests to the current APIs first (https://kubernetes.io/docs/reference/using-api/deprecation-guide/)"
  say "  removed APIs: none in use"
  if [ "$UPGRADE_DRAINS" = 1 ]; then
    pdbs=$(kubectl_ get pdb --all-namespaces -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.disruptionsAllowed} {.status.expectedPods}{"\n"}{end}') \
      || die "preflight: kubectl cannot list the PodDisruptionBudgets"
    out=$(while read -r m a x; do [ -n "$m" ] && [ "${a:-0}" = 0 ] && [ "${x:-0}" -gt 0 ] && printf '%s ' "$m"; done <<< "$pdbs" || true)
    [ -z "$out" ] || die "preflight: these PodDisruptionBudgets allow no disruption now, so a drain would wait on them until it times out: $out; scale their workloads up or relax them first"
    say "  PodDisruptionBudgets: each allows a disruption"
  fi
  certs=''
  for m in "${MASTERS[@]}" "${OTHERS[@]}"; do
    [ -n "$m" ] || continue
    out=$(remote "$(field ip "$m")" "$CERT_CMD") || die "preflight: cannot read the certificates on $(field host "$m")"
    if [ "$out" = no-openssl ]; then say "  warning: $(field host "$m") has no openssl: its certificates' lifetimes are not checked"; continue; fi
    if [ -n "$out" ]; then certs+="$(field host "$m"): $out "; fi
  done
  [ -z "$certs" ] || die "preflight: certificates that expire within 30 days (a restart in the upgrade would fail on them): $certs; renew them (npm run certs -- renew), synth and roll out first"
  say "  certificates: none expires within 30 days"
  # The snapshot a minor rollback restores.
  take_snapshot "$FIRST_ETCD_HOST" "$FIRST_ETCD_IP"
  say "  etcd snapshot: $SNAPSHOT_FILE (deploy.sh --restore $SNAPSHOT_FILE rolls a minor back)"
}

# The waves: each step on each host, skipped where the host recorded it done at these versions.
upgrade_run() {
  local e wave step host ip units programs drain done=0 todo=0
  for e in "${UPGRADE_STEPS[@]}"; do
    if [ "$(reached "$(field step "$e")" "$(field ip "$e")")" != "$UPGRADE_TARGET" ]; then todo=$((todo + 1)); fi
  done
  declare -gA STAGED=()
  if [ "$todo" = 0 ]; then say "upgrade to $UPGRADE_TARGET: every step is recorded done on its host"; return 0; fi
  preflight
  local previous_wave=''
  for e in "${UPGRADE_STEPS[@]}"; do
    wave=$(field wave "$e") step=$(field step "$e") host=$(field host "$e") ip=$(field ip "$e")
    units=$(field units "$e") programs=$(field programs "$e") drain=$(field drain "$e")
    [ "$wave" = "$previous_wave" ] || say "wave $wave"
    previous_wave=$wave
    if [ "$(reached "$step" "$ip")" = "$UPGRADE_TARGET" ]; then say "  $host $step: done before ($UPGRADE_TARGET)"; done=$((done + 1)); continue; fi
    say "  $host $step"
    if [ "$drain" = 1 ]; then drain_node "$host"; fi
    if [ -z "${STAGED[$host]-}" ]; then stage "$host" "$ip"; STAGED[$host]=1; fi
    # shellcheck disable=SC2046 # programs: comma-separated paths without spaces
    sync_programs "$host" "$ip" $(tr , ' ' <<< "$programs")
    remote "$ip" "$STAGING/bundle/install.sh --units $units" || die "$host: install.sh --units $units failed"
    local u
    for u in $(tr , ' ' <<< "$units"); do
      if [ -n "${HEALTH[$u]-}" ]; then wait_for "$ip" "$host ${HEALTH_WHAT[$u]}" "${HEALTH[$u]}"; fi
    done
    case "$wave" in
      etcd) wait_for "$FIRST_ETCD_IP" "etcd cluster health (from $FIRST_ETCD_HOST)" "$ETCD_HEALTH_CMD" ;;
      node) node_ready "$host" "$ip" ;;
    esac
    if [ "$drain" = 1 ]; then kubectl_ uncordon "$host" > /dev/null || die "$host: kubectl uncordon failed"; say "  $host: uncordoned"; fi
    remote "$ip" "mkdir -p $REACHED && echo '$UPGRADE_TARGET' > $REACHED/$step.new && mv $REACHED/$step.new $REACHED/$step" \
      || die "$host: cannot record step $step"
    check_skew
  done
  say "upgrade waves done ($done step(s) were done before)"
}
