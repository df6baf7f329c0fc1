import * as fs from 'fs';
import * as path from 'path';
import { ClusterModel } from '../model';
import { ClusterPki, caIds } from '../pki';

/**
 * Which cluster made an output directory: its name and the fingerprints of its CAs, in <outdir>/cluster.json. Synth
 * compares it with the state before it writes: a state with no CAs, or other CAs, next to another cluster's output
 * means the state is missing or wrong, never a reason to mint new CAs over bundles hosts already run.
 */
export const IDENTITY_FILE = 'cluster.json';

export interface ClusterIdentity {
  readonly cluster: string;
  /** CA id → SHA-256 fingerprint of its certificate, as openssl x509 -fingerprint -sha256 prints it. */
  readonly cas: Readonly<Record<string, string>>;
}

export function identityOf(model: ClusterModel, pki: ClusterPki): ClusterIdentity {
  return { cluster: model.name, cas: Object.fromEntries(caIds(model).map((id) => [id, pki.ca(id).certificate.fingerprint256])) };
}

export function renderIdentity(identity: ClusterIdentity): string {
  return `${JSON.stringify(identity, null, 2)}\n`;
}

/** What an output directory says of the cluster that made it: its record, and the bundles in it. */
export interface OutputOwner {
  readonly identity?: ClusterIdentity;
  readonly bundles: readonly string[];
}

export function outputOwner(outdir: string): OutputOwner {
  let identity: ClusterIdentity | undefined;
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(outdir, IDENTITY_FILE), 'utf8'));
    if (typeof parsed?.cluster === 'string' && typeof parsed?.cas === 'object' && parsed.cas !== null) identity = parsed;
  } catch { /* none, or unreadable: the bundles still tell */ }
  let bundles: string[] = [];
  try {
    bundles = fs.readdirSync(path.join(outdir, 'hosts'), { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.tar.gz')).map((e) => e.name).sort();
  } catch { /* no bundles */ }
  return { identity, bundles };
}

/** A line naming the cluster that made the output, for messages. */
export function describeOwner(owner: OutputOwner, outdir: string): string {
  if (owner.identity) {
    return `cluster "${owner.identity.cluster}" with ${Object.entries(owner.identity.cas).map(([id, fp]) => `${id} ${fp}`).join(', ')}`;
  }
  return `a cluster whose bundles are there (${owner.bundles.slice(0, 5).map((b) => path.join(outdir, 'hosts', b)).join(', ')}`
    + `${owner.bundles.length > 5 ? `, and ${owner.bundles.length - 5} more` : ''})`;
}
