import { CA_LIST, ClusterPki, certInstances, ClusterModel, sha256 } from '../../lib';
import { TarEntry } from './bundle-reader';

/** Maps the bytes of every PKI file to a label, e.g. 'key etcd-server@k8s1' or 'ca-cert etcd-ca'. */
export function pkiLabels(model: ClusterModel, pki: ClusterPki): Map<string, string> {
  const labels = new Map<string, string>();
  for (const ca of CA_LIST) {
    labels.set(pki.ca(ca.id).certPem, `ca-cert ${ca.id}`);
    labels.set(pki.ca(ca.id).keyPem, `ca-key ${ca.id}`);
  }
  for (const i of certInstances(model)) {
    const m = pki.cert(i.spec.id, i.host?.name);
    labels.set(m.certPem, `cert ${i.name}`);
    labels.set(m.keyPem, `key ${i.name}`);
  }
  labels.set(pki.serviceAccount.privatePem, 'key service-account');
  labels.set(pki.serviceAccount.publicPem, 'public-key service-account');
  return labels;
}

/**
 * One line per entry: mode, owner, path, and either the PKI label (certificates and keys differ
 * on every fresh PKI) or the size and sha256 of the content. Holds no secret bytes.
 */
export function listing(entries: readonly TarEntry[], labels: Map<string, string>): string[] {
  return entries.map((e) => {
    const label = labels.get(e.content.toString('utf8'));
    const what = label ?? (e.path === 'MANIFEST' ? '(manifest)' : `${e.content.length}B sha256:${sha256(e.content).slice(0, 16)}`);
    return `${e.mode.toString(8).padStart(4, '0')} ${e.uid}:${e.gid} ${e.path}  ${what}`;
  });
}
