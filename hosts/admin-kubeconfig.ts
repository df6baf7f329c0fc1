import { Construct } from 'constructs';
import { Cluster, kubeconfigFor } from '../lib/components';
import { PATHS } from '../lib/model';

export const ADMIN_KUBECONFIG = {
  /** On every master, for kubectl there; references the admin certificate files. */
  path: `${PATHS.k8sCfg}/admin.kubeconfig`,
  /** For the operator, written to <outdir>/admin.kubeconfig with the admin certificate embedded. */
  operatorFile: 'admin.kubeconfig',
} as const;

/** kubeconfigs of the cluster administrator (group system:masters). */
export class AdminKubeconfig extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;
    const caPem = pki.ca('kubernetes-ca').certPem;

    // Its own master's apiserver, as for the controller-manager and scheduler.
    const onMaster = kubeconfigFor(model, caPem, { identity: 'admin', server: 'local' });
    for (const bundle of cluster.bundlesRunning('kube-apiserver')) bundle.addFile(ADMIN_KUBECONFIG.path, onMaster, { mode: 0o600 });
    cluster.addOperatorFile(ADMIN_KUBECONFIG.operatorFile, kubeconfigFor(model, caPem, { identity: 'admin', server: 'endpoint', embed: true, pki }), 0o600);
  }
}
