import { Construct } from 'constructs';
import { Cluster } from '../lib/cluster';
import { renderKubeconfig } from '../lib/kubeconfig';
import { PATHS } from '../lib/paths';
import { certSpec } from '../lib/pki/cert-list';
import { localApiServerUrl } from './kube-apiserver';

export const ADMIN_KUBECONFIG = {
  /** On every master, for kubectl there; references the admin certificate files. */
  path: `${PATHS.k8sCfg}/admin.kubeconfig`,
  /** For the operator, written to <outdir>/admin.kubeconfig with the admin certificate embedded. */
  operatorFile: 'admin.kubeconfig',
  user: 'admin',
} as const;

export interface AdminKubeconfigProps {
  /**
   * Write <outdir>/admin.kubeconfig (mode 0600) for the operator.
   * @default true
   */
  readonly operatorFile?: boolean;
}

/** kubeconfigs of the cluster administrator (group system:masters). */
export class AdminKubeconfig extends Construct {
  constructor(scope: Construct, id: string, props: AdminKubeconfigProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;
    const cert = certSpec('admin');
    const caPem = pki.ca('kubernetes-ca').certPem;

    const onMaster = renderKubeconfig({
      clusterName: model.name,
      server: localApiServerUrl(model),
      caPem,
      user: ADMIN_KUBECONFIG.user,
      clientCert: { certPath: cert.certPath, keyPath: cert.keyPath },
    });
    for (const bundle of cluster.bundlesWithRole('master')) bundle.addFile(ADMIN_KUBECONFIG.path, onMaster, { mode: 0o600 });

    if (props.operatorFile ?? true) {
      const admin = pki.cert('admin');
      cluster.addOperatorFile(ADMIN_KUBECONFIG.operatorFile, renderKubeconfig({
        clusterName: model.name,
        server: model.apiServerEndpoint,
        caPem,
        user: ADMIN_KUBECONFIG.user,
        clientCert: { certPem: admin.certPem, keyPem: admin.keyPem },
      }), 0o600);
    }
  }
}
