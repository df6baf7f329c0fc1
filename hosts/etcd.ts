import { Construct } from 'constructs';
import {
  Cluster, ETCDCTL_TLS, ETCD_FILES, componentSpec, localEtcdctlCommand, renderEnvironmentFile, renderUnit,
} from '../lib/components';
import { Host, PATHS, PORTS } from '../lib/model';
import { certPath, keyPath } from '../lib/pki';

export { ETCDCTL_TLS, ETCD_FILES };

/**
 * etcd members: the ETCD_* environment file (no flags: etcd 3.5 refuses a setting given both ways),
 * etcd.service and an etcdctl environment for operators. Only the members and the apiservers hold certificates
 * etcd trusts: flannel uses the Kubernetes API (hosts/flannel.ts).
 */
export class Etcd extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const members = model.etcdMembers;
    // Keeps members of different clusters from joining each other.
    const token = `${model.name}-etcd`;
    const initialCluster = members.map((m) => `${m.name}=${peerUrl(m)}`).join(',');

    for (const bundle of cluster.placeComponent('etcd')) {
      const host = bundle.host;
      bundle.addFile(ETCD_FILES.environment, renderEnvironmentFile([
        {
          comment: '[Member]',
          variables: [
            ['ETCD_NAME', host.name],
            ['ETCD_DATA_DIR', PATHS.etcdData],
            ['ETCD_LISTEN_PEER_URLS', peerUrl(host)],
            ['ETCD_LISTEN_CLIENT_URLS', `${clientUrl(host.ip)},${clientUrl('127.0.0.1')}`],
          ],
        },
        {
          comment: '[Clustering]',
          variables: [
            ['ETCD_INITIAL_ADVERTISE_PEER_URLS', peerUrl(host)],
            ['ETCD_ADVERTISE_CLIENT_URLS', clientUrl(host.ip)],
            ['ETCD_INITIAL_CLUSTER', initialCluster],
            ['ETCD_INITIAL_CLUSTER_TOKEN', token],
            // 'existing' for a member that joins a running cluster (after `member add`); ignored once it has data.
            ['ETCD_INITIAL_CLUSTER_STATE', cluster.membership.etcd[host.name].state],
          ],
        },
        {
          comment: '[Security]',
          variables: [
            ['ETCD_CERT_FILE', certPath('etcd-server')],
            ['ETCD_KEY_FILE', keyPath('etcd-server')],
            ['ETCD_TRUSTED_CA_FILE', certPath('etcd-ca')],
            ['ETCD_CLIENT_CERT_AUTH', 'true'],
            ['ETCD_PEER_CERT_FILE', certPath('etcd-peer')],
            ['ETCD_PEER_KEY_FILE', keyPath('etcd-peer')],
            ['ETCD_PEER_TRUSTED_CA_FILE', certPath('etcd-ca')],
            ['ETCD_PEER_CLIENT_CERT_AUTH', 'true'],
          ],
        },
        {
          // 3.4 defaults to capnslog (gone in 3.5): log the same way on both.
          comment: '[Logging]',
          variables: [['ETCD_LOGGER', 'zap']],
        },
      ]));
      bundle.addFile(ETCD_FILES.unit, renderUnit({
        unit: {
          Description: componentSpec('etcd').description,
          Documentation: 'https://etcd.io/docs/v3.5/',
          After: 'network-online.target',
          Wants: 'network-online.target',
        },
        service: {
          // READY comes once the member has joined a quorum: start members together.
          Type: 'notify',
          // The rejoin file, when a rebuild wrote it, overrides the environment file's initial cluster state.
          EnvironmentFile: [ETCD_FILES.environment, `-${ETCD_FILES.rejoin}`],
          ExecStart: ETCD_FILES.etcd,
          Restart: 'on-failure',
          RestartSec: '5s',
          LimitNOFILE: '65536',
        },
      }));
      bundle.addFile(ETCD_FILES.etcdctlEnvironment, renderEnvironmentFile([{
        comment: ` etcdctl settings; use: set -a; . ${ETCD_FILES.etcdctlEnvironment}; set +a; ${ETCD_FILES.etcdctl} endpoint health`,
        variables: [
          ['ETCDCTL_API', '3'],
          ['ETCDCTL_ENDPOINTS', model.etcdEndpoints.join(',')],
          ...ETCDCTL_TLS.map(([flag, file]) => [`ETCDCTL_${flag.toUpperCase()}`, file] as const),
        ],
      }]));
      bundle.addFile(ETCD_FILES.restore, RESTORE_SCRIPT, { mode: 0o755 });
      bundle.addFile(ETCD_FILES.member, MEMBER_SCRIPT, { mode: 0o755 });
    }

  }
}

/** etcdctl with this member's own credentials, against its local endpoint. */
const LOCAL_ETCDCTL = localEtcdctlCommand();

/** How far a restore moves revisions on: past any a watcher holds (Kubernetes' guide suggests a billion). */
export const RESTORE_REVISION_BUMP = 1_000_000_000;

/**
 * Restores this member from a snapshot with the name, peer URLs, cluster and token of its own environment file (the
 * installed bundle's: after a re-address, the new ones), into a fresh data directory; the old one is kept aside.
 * Refuses while etcd holds its database (bbolt's lock), so it never pulls the data from under a running member.
 */
const RESTORE_SCRIPT = `#!/bin/sh
# kubesmith: restores this etcd member from a snapshot (etcdutl snapshot restore) with its own name and peer URLs from
# ${ETCD_FILES.environment}, into a fresh data directory; the old one is moved aside, never removed.
# Stop kube-apiserver on every master and etcd on every member first; then start etcd everywhere.
# Usage: etcd-restore.sh SNAPSHOT.db
set -eu
umask 077
log() { echo "etcd-restore: $*" >&2; }
die() { echo "etcd-restore: error: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: etcd-restore.sh SNAPSHOT.db"
SNAPSHOT=$1
[ -f "$SNAPSHOT" ] || die "no snapshot file $SNAPSHOT"
# shellcheck source=/dev/null # the member's environment file, on the host
. ${ETCD_FILES.environment}
DATA=$ETCD_DATA_DIR
# A running etcd holds an exclusive lock on its database.
if [ -e "$DATA/member/snap/db" ] && ! flock -n "$DATA/member/snap/db" true; then
  die "etcd is running (it holds $DATA/member/snap/db): stop etcd.service on every member first"
fi
${ETCD_FILES.etcdutl} snapshot status "$SNAPSHOT" -w table >&2 || die "$SNAPSHOT is not a snapshot etcdutl can read"
rm -rf -- "$DATA.restoring"
# Revisions jump past any a client has seen, marked compacted: every watch from before the restore (the apiservers',
# and through them kube-proxy's, flanneld's, CoreDNS's, ingress-nginx's) ends with "compacted" and relists instead of
# missing what changed (Kubernetes' restore guide). An etcdutl without the flags restores without them, and says so.
set --
if ${ETCD_FILES.etcdutl} snapshot restore --help 2>&1 | grep -q -- --bump-revision; then
  set -- --bump-revision ${RESTORE_REVISION_BUMP} --mark-compacted
else
  log "warning: this etcdutl has no --bump-revision: watchers keep their old revisions; restart them after the restore"
fi
${ETCD_FILES.etcdutl} snapshot restore "$SNAPSHOT" --name "$ETCD_NAME" --initial-cluster "$ETCD_INITIAL_CLUSTER" \\
  --initial-cluster-token "$ETCD_INITIAL_CLUSTER_TOKEN" --initial-advertise-peer-urls "$ETCD_INITIAL_ADVERTISE_PEER_URLS" \\
  --data-dir "$DATA.restoring" "$@" >&2
if [ -e "$DATA" ]; then
  ASIDE=$DATA.before-restore-$(date -u +%Y%m%dT%H%M%SZ)
  mv -- "$DATA" "$ASIDE"
  log "the old data directory is now $ASIDE; remove it once the cluster is healthy"
fi
mv -- "$DATA.restoring" "$DATA"
log "restored member $ETCD_NAME ($ETCD_INITIAL_ADVERTISE_PEER_URLS) from $SNAPSHOT into $DATA"
`;

/**
 * Membership changes, run on a running member with its own credentials; each is a no-op once done, so a roll-out
 * can be repeated. A member added but not yet started has no name in \`member list\`: it is found by its peer URL.
 */
const MEMBER_SCRIPT = `#!/bin/sh
# kubesmith: etcd membership, idempotent. Run as root on a running etcd member.
#   etcd-member.sh remove NAME        member remove, when a member of that name is listed
#   etcd-member.sh add NAME PEER_URL  member add, unless a member has that peer URL
#   etcd-member.sh update NAME PEER_URL  member update, unless the member of that name has that peer URL already
set -eu
for v in $(env | sed -n 's/^\\(ETCDCTL_[A-Z_]*\\)=.*/\\1/p'); do unset "$v"; done
ETCDCTL="${LOCAL_ETCDCTL}"
members() { $ETCDCTL member list; } # id, status, name, peer URLs, client URLs, is learner
# etcd refuses a reconfiguration ("unhealthy cluster") until its leader has been in touch with a quorum for a few
# seconds (strict reconfig check), e.g. right after a member restarted: try again, bounded.
reconfigure() {
  i=1
  while :; do
    if out=$($ETCDCTL "$@" 2>&1); then echo "$out"; return 0; fi
    case "$out" in *"unhealthy cluster"*) [ "$i" -lt 12 ] || { echo "$out" >&2; return 1; } ;; *) echo "$out" >&2; return 1 ;; esac
    i=$((i + 1)); sleep 5
  done
}
case "\${1-}" in
  remove)
    [ $# -eq 2 ] || { echo "usage: etcd-member.sh remove NAME" >&2; exit 2; }
    id=$(members | awk -F', ' -v n="$2" '$3 == n { print $1 }')
    if [ -z "$id" ]; then echo "etcd-member: $2 is not a member: nothing to remove"; exit 0; fi
    reconfigure member remove "$id" ;;
  add)
    [ $# -eq 3 ] || { echo "usage: etcd-member.sh add NAME PEER_URL" >&2; exit 2; }
    if members | awk -F', ' -v u="$3" '$4 == u { found = 1 } END { exit !found }'; then
      echo "etcd-member: $3 is a member already: nothing to add"; exit 0
    fi
    reconfigure member add "$2" --peer-urls="$3" ;;
  update)
    [ $# -eq 3 ] || { echo "usage: etcd-member.sh update NAME PEER_URL" >&2; exit 2; }
    line=$(members | awk -F', ' -v n="$2" '$3 == n')
    if [ -z "$line" ]; then echo "etcd-member: $2 is not a member: nothing to update" >&2; exit 1; fi
    if [ "$(echo "$line" | awk -F', ' '{ print $4 }')" = "$3" ]; then echo "etcd-member: $2 has $3 already: nothing to update"; exit 0; fi
    reconfigure member update "$(echo "$line" | awk -F', ' '{ print $1 }')" --peer-urls="$3" ;;
  *) echo "usage: etcd-member.sh remove NAME | add NAME PEER_URL | update NAME PEER_URL" >&2; exit 2 ;;
esac
`;

function peerUrl(host: Host): string {
  return `https://${host.ip}:${PORTS.etcdPeer}`;
}

function clientUrl(ip: string): string {
  return `https://${ip}:${PORTS.etcdClient}`;
}
