import { Construct } from 'constructs';
import {
  Cluster, componentSpec, renderUnit, unitOf,
} from '../lib/components';
import { PATHS } from '../lib/model';
import { KUBELET } from './kubelet';

export const KUBELET_BOOTSTRAP_CLEANUP = {
  script: `${PATHS.k8sBin}/kubelet-bootstrap-cleanup.sh`,
  unit: `${PATHS.systemdUnits}/${unitOf('kubelet-bootstrap-cleanup')}`,
  /** The kubelet has 15 minutes (450 checks, 2 s apart) to bootstrap after the unit starts. */
  checks: 450,
} as const;

/**
 * As kubeadm join does: once the kubelet has written its own kubeconfig (its client certificate was signed), the
 * bootstrap kubeconfig, which holds the bootstrap token, is removed from the node. install.sh leaves it out from
 * then on (AddFileOptions.obsoleteWhen); this unit removes it right after the join.
 */
export class KubeletBootstrapCleanup extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const script = [
      '#!/bin/sh',
      '# kubesmith: removes the bootstrap kubeconfig (it holds the bootstrap token) once the kubelet has its own kubeconfig.',
      'set -eu',
      `KUBECONFIG=${KUBELET.kubeconfig}`,
      `BOOTSTRAP=${KUBELET.bootstrapKubeconfig}`,
      'i=0',
      'while [ ! -s "$KUBECONFIG" ]; do',
      '  i=$((i + 1))',
      `  if [ "$i" -gt ${KUBELET_BOOTSTRAP_CLEANUP.checks} ]; then`,
      '    echo "the kubelet has no $KUBECONFIG yet; $BOOTSTRAP stays until it has" >&2',
      '    exit 1',
      '  fi',
      '  sleep 2',
      'done',
      'if [ -e "$BOOTSTRAP" ]; then',
      '  rm -f "$BOOTSTRAP"',
      '  echo "removed $BOOTSTRAP: the kubelet has its own credentials"',
      'fi',
      '',
    ].join('\n');
    const unit = renderUnit({
      unit: {
        Description: componentSpec('kubelet-bootstrap-cleanup').description,
        After: unitOf('kubelet'),
      },
      service: {
        Type: 'oneshot',
        // Active once done, so install.sh --check sees it ran.
        RemainAfterExit: 'yes',
        ExecStart: KUBELET_BOOTSTRAP_CLEANUP.script,
        TimeoutStartSec: `${Math.ceil((KUBELET_BOOTSTRAP_CLEANUP.checks * 2) / 60) + 1}min`,
      },
    });
    for (const bundle of cluster.placeComponent('kubelet-bootstrap-cleanup')) {
      bundle.addFile(KUBELET_BOOTSTRAP_CLEANUP.script, script, { mode: 0o755 });
      bundle.addFile(KUBELET_BOOTSTRAP_CLEANUP.unit, unit);
    }
  }
}
