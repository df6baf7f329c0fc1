import { ClusterPki, ClusterModel } from '../../lib';
import { sha256 } from '../../lib/output';
import { ClusterSecrets, caIds, certInstances } from '../../lib/pki';
import { TarEntry } from './bundle-reader';

/** Maps the bytes of every PKI file to a label, e.g. 'key etcd-server@k8s1' or 'ca-cert etcd-ca'. */
export function pkiLabels(model: ClusterModel, pki: ClusterPki): Map<string, string> {
  const labels = new Map<string, string>();
  for (const id of caIds(model)) {
    labels.set(pki.ca(id).certPem, `ca-cert ${id}`);
    labels.set(pki.ca(id).keyPem, `ca-key ${id}`);
  }
  for (const i of certInstances(model)) {
    const m = pki.cert(i.id, i.scope);
    labels.set(m.certPem, `cert ${i.name}`);
    if (!i.spec.sharesKeyWith) labels.set(m.keyPem, `key ${i.name}`);
  }
  labels.set(pki.serviceAccount.privatePem, 'key service-account');
  labels.set(pki.serviceAccount.publicPem, 'public-key service-account');
  return labels;
}

/**
 * Replacements for PKI material and secrets embedded in other files (kubeconfigs embed PEM as base64,
 * the bootstrap kubeconfig holds the token), so those files hash the same on every fresh PKI.
 */
export function secretMasks(labels: Map<string, string>, secrets: ClusterSecrets): [string, string][] {
  const masks: [string, string][] = [...labels].flatMap(([pem, label]): [string, string][] => [
    [Buffer.from(pem).toString('base64'), `<base64 ${label}>`],
    [pem, `<${label}>`],
  ]);
  masks.push([secrets.bootstrapToken.token, '<bootstrap-token>']);
  masks.push([secrets.keepalivedAuthPass, '<keepalived-auth-pass>']);
  // Key names carry the day and a random suffix; secrets are random.
  secrets.encryptionKeys.forEach((k, i) => masks.push([k.secret, `<encryption-key-${i}>`], [k.name, `<encryption-key-name-${i}>`]));
  return masks.sort((a, b) => b[0].length - a[0].length);
}

export function maskSecrets(text: string, masks: readonly [string, string][]): string {
  return masks.reduce((t, [secret, placeholder]) => t.split(secret).join(placeholder), text);
}

/**
 * One line per entry: mode, owner, path, and either the PKI label (certificates and keys differ
 * on every fresh PKI) or the size and sha256 of the content, with embedded PKI material and secrets
 * masked (marked '(masked)'). Holds no secret bytes.
 */
export function listing(entries: readonly TarEntry[], labels: Map<string, string>, masks: readonly [string, string][] = []): string[] {
  return entries.map((e) => {
    const text = e.content.toString('utf8');
    const label = labels.get(text);
    let what: string;
    if (label) what = label;
    else if (e.path === 'MANIFEST') what = '(manifest)';
    else {
      const masked = maskSecrets(text, masks);
      what = masked === text
        ? `${e.content.length}B sha256:${sha256(e.content).slice(0, 16)}`
        : `${Buffer.byteLength(masked)}B sha256:${sha256(Buffer.from(masked)).slice(0, 16)} (masked)`;
    }
    return `${e.mode.toString(8).padStart(4, '0')} ${e.uid}:${e.gid} ${e.path}  ${what}`;
  });
}
