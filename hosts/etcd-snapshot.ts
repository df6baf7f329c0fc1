import { Construct } from 'constructs';
import {
  Cluster, ETCD_FILES, ETCD_SNAPSHOT, componentSpec, localEtcdctlCommand, renderScheduledJob, unitOf,
} from '../lib/components';
import { sq } from '../lib/util/shell';

export { ETCD_SNAPSHOT };

/**
 * The snapshot script every member runs: `etcdctl snapshot save` with the member's own client credentials from its
 * local endpoint, `etcdutl snapshot status` on the result before it gets its final name, pruning of this member's
 * snapshots to the newest `keep`, then the definition's afterSnapshot command with SNAPSHOT set. The path of the
 * snapshot is the last line on stdout (deploy.sh and Ansible fetch it from there); everything else goes to stderr.
 */
export function renderSnapshotScript(keep: number, afterSnapshot?: string): string {
  const etcdctl = `${localEtcdctlCommand()} --command-timeout=300s`;
  return [
    '#!/bin/sh',
    `# kubesmith: saves a snapshot of this etcd member into ${ETCD_SNAPSHOT.dir}, verifies it, keeps the newest ${keep}`,
    '# and runs the after-snapshot command. Run by etcd-snapshot.service (etcd-snapshot.timer), or by hand as root.',
    '# Prints the snapshot\'s path as the last line of stdout.',
    'set -eu',
    'umask 077',
    'export LC_ALL=C',
    'log() { echo "etcd-snapshot: $*" >&2; }',
    `DIR=${ETCD_SNAPSHOT.dir}`,
    `KEEP=${keep}`,
    `AFTER_SNAPSHOT=${sq(afterSnapshot ?? '')}`,
    '# Flags only: an ETCDCTL_* variable from a sourced etcdctl.env would shadow or contradict them.',
    'for v in $(env | sed -n \'s/^\\(ETCDCTL_[A-Z_]*\\)=.*/\\1/p\'); do unset "$v"; done',
    '# shellcheck source=/dev/null # the member\'s environment file, on the host',
    `ETCD_NAME=$(. ${ETCD_FILES.environment} && echo "$ETCD_NAME")`,
    'mkdir -p "$DIR" && chmod 0700 "$DIR"',
    'FILE=$DIR/$ETCD_NAME-$(date -u +%Y%m%dT%H%M%SZ).db',
    'rm -f -- "$DIR"/*.part',
    `${etcdctl} snapshot save "$FILE.part" >&2`,
    '# A damaged file fails here, before it takes the place of a good one.',
    `${ETCD_FILES.etcdutl} snapshot status "$FILE.part" -w table >&2`,
    'mv -f -- "$FILE.part" "$FILE"',
    'log "saved and verified $FILE"',
    '# Names sort by time: keep the newest $KEEP of this member\'s.',
    'set -- "$DIR/$ETCD_NAME"-*Z.db',
    'while [ "$#" -gt "$KEEP" ]; do rm -f -- "$1"; log "removed $1 (keeping $KEEP)"; shift; done',
    'if [ -n "$AFTER_SNAPSHOT" ]; then',
    '  log "running the after-snapshot command"',
    '  rc=0; SNAPSHOT=$FILE sh -c "$AFTER_SNAPSHOT" >&2 || rc=$?',
    '  [ "$rc" = 0 ] || { log "the after-snapshot command failed (exit $rc); $FILE stays"; exit "$rc"; }',
    'fi',
    'echo "$FILE"',
    '',
  ].join('\n');
}

/** etcd-snapshot.timer and .service on every member, when the definition keeps snapshots (the default). */
export class EtcdSnapshot extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { snapshots } = cluster.model.etcd;
    if (!snapshots.enabled) return;
    const script = renderSnapshotScript(snapshots.keep, snapshots.afterSnapshot);
    const { service, timer } = renderScheduledJob({
      description: componentSpec('etcd-snapshot').description,
      schedule: snapshots.schedule,
      service: ETCD_SNAPSHOT.service,
      execStart: ETCD_SNAPSHOT.script,
      unit: { Documentation: 'https://etcd.io/docs/v3.5/op-guide/recovery/', After: unitOf('etcd') },
    });
    for (const bundle of cluster.placeComponent('etcd-snapshot')) {
      bundle.addFile(ETCD_SNAPSHOT.script, script, { mode: 0o755 });
      bundle.addFile(ETCD_SNAPSHOT.serviceUnit, service);
      bundle.addFile(ETCD_SNAPSHOT.timerUnit, timer);
    }
  }
}
