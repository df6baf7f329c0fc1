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
 * The random secrets of a PKI state, longest first, each with a placeholder, so files that embed
 * them (keepalived.conf, token files) have a stable hash. Secrets have fixed lengths.
 */
export function secretMasks(pki: ClusterPki): [string, string][] {
  const { bootstrapToken: t, keepalivedAuthPass } = pki.secrets;
  const named: [string, string][] = [
    [t.token, 'bootstrapToken'], [t.secret, 'bootstrapSecret'], [keepalivedAuthPass, 'keepalivedAuthPass'], [t.id, 'bootstrapId'],
  ];
  return named
    .sort((a, b) => b[0].length - a[0].length)
    .map(([value, name]) => [value, `<${name}>`]);
}

/** The text with every secret replaced by its placeholder. */
export function maskSecrets(text: string, masks: readonly [string, string][]): string {
  return masks.reduce((t, [value, placeholder]) => t.split(value).join(placeholder), text);
}

/**
 * One line per entry: mode, owner, path, and either the PKI label (certificates and keys differ
 * on every fresh PKI) or the size and sha256 of the content. Holds no secret bytes.
 */
export function listing(entries: readonly TarEntry[], labels: Map<string, string>, masks: readonly [string, string][] = []): string[] {
  return entries.map((e) => {
    const label = labels.get(e.content.toString('utf8'));
    const masked = Buffer.from(maskSecrets(e.content.toString('utf8'), masks));
    const secret = masked.equals(e.content) ? '' : ' (secrets masked)';
    const what = label ?? (e.path === 'MANIFEST' ? '(manifest)' : `${e.content.length}B sha256:${sha256(masked).slice(0, 16)}${secret}`);
    return `${e.mode.toString(8).padStart(4, '0')} ${e.uid}:${e.gid} ${e.path}  ${what}`;
  });
}
