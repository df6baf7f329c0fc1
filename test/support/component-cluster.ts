import * as path from 'path';
import { App } from 'cdk8s';
import { ClusterDefinition, ClusterModel, ClusterPki } from '../../lib';
import { PKI_TABLE, StateStore, loadSecrets } from '../../lib/pki';
import { Cluster, HostBundle } from '../../lib/components';
import { Certificates } from '../../hosts/certificates';
import { SEED, withChanges } from './clusters';
import { tempDir } from './tmp';
import { maskSecrets, pkiLabels, secretMasks } from './bundle-listing';

/** Install paths of every file of the certificate table. */
export const PKI_PATHS: ReadonlySet<string> = new Set(PKI_TABLE.flatMap((row) => [row.certPath, row.keyPath]));

/**
 * A Cluster holding the certificates plus only the components `add` creates, on a fresh PKI,
 * so a component's output can be looked at alone.
 */
export async function componentCluster(def: ClusterDefinition, add: (cluster: Cluster) => void): Promise<Cluster> {
  const model = ClusterModel.fromDefinition(def);
  const stateDir = path.join(tempDir(), 'state');
  const { secrets } = loadSecrets(new StateStore(stateDir), { fresh: true, now: new Date(), tokenTtlHours: model.addons.bootstrapToken.ttlHours });
  const pki = await ClusterPki.load(model, { stateDir });
  const cluster = new Cluster(new App({ outdir: tempDir() }), 'cluster', { model, pki, secrets });
  new Certificates(cluster, 'certificates');
  add(cluster);
  return cluster;
}

/**
 * The bundle's files that are not from the certificate table: absolute path → mode and text, with embedded PKI
 * material (a kubeconfig's CA data) and secrets replaced by labels, so snapshots hold none and stay stable.
 */
export function emittedFiles(bundle: HostBundle): Record<string, { mode: string; content: string }> {
  const cluster = Cluster.of(bundle);
  const masks = secretMasks(pkiLabels(cluster.model, cluster.pki), cluster.secrets);
  return Object.fromEntries(bundle.files
    .filter((f) => !PKI_PATHS.has(`/${f.path}`))
    .map((f) => [`/${f.path}`, { mode: f.mode.toString(8).padStart(4, '0'), content: maskSecrets(f.content.toString('utf8'), masks) }]));
}

/** The text of a file in the bundle; fails the test when it is missing. */
export function fileText(bundle: HostBundle, installPath: string): string {
  const f = bundle.files.find((x) => `/${x.path}` === installPath);
  if (!f) throw new Error(`${bundle.host.name} has no ${installPath}`);
  return f.content.toString('utf8');
}

/** NAME="value" lines of an environment file, in order (comments and blank lines skipped). */
export function parseEnvironmentFile(text: string): Array<[string, string]> {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"$/.exec(l);
    if (!m) throw new Error(`not a NAME="value" line: ${l}`);
    return [m[1], m[2]];
  });
}

/** Key=value entries of one section of a systemd unit, in order. */
export function unitEntries(unit: string, section: string): Array<[string, string]> {
  const lines = unit.split('\n');
  const start = lines.indexOf(`[${section}]`);
  if (start < 0) return [];
  const out: Array<[string, string]> = [];
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith('[')) break;
    const i = l.indexOf('=');
    if (i > 0) out.push([l.slice(0, i), l.slice(i + 1)]);
  }
  return out;
}

export function unitValue(unit: string, section: string, key: string): string[] {
  return unitEntries(unit, section).filter(([k]) => k === key).map(([, v]) => v);
}

/** SEED with ECDSA keys: the same component files, a faster PKI. */
export const SEED_ECDSA: ClusterDefinition = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
