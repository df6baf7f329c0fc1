import * as path from 'path';
import { parse } from 'yaml';
import { ClusterDefinition, SynthesisResult, synthesizeCluster } from '../../lib';
import { maskSecrets, pkiLabels, secretMasks } from './bundle-listing';
import { withChanges } from './clusters';
import { tempDir } from './tmp';

export interface Synthesized {
  readonly dir: string;
  readonly result: SynthesisResult;
}

/** Synthesizes into a temp dir (clean it with cleanupTempDirs in afterAll). */
export async function synth(def: ClusterDefinition): Promise<Synthesized> {
  const dir = tempDir();
  const result = await synthesizeCluster(def, {
    outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined,
  });
  return { dir, result };
}

/** The definition with ECDSA keys: same files, faster key generation. */
export function ecdsa(def: ClusterDefinition): ClusterDefinition {
  return withChanges(def, { certificates: { ...def.certificates, keyAlgorithm: 'ecdsa' } });
}

/** Text of a bundle file by absolute install path; undefined when absent. */
export function fileText(result: SynthesisResult, host: string, installPath: string): string | undefined {
  const f = result.cluster.bundle(host).files.find((x) => `/${x.path}` === installPath);
  return f?.content.toString('utf8');
}

export function mustFileText(result: SynthesisResult, host: string, installPath: string): string {
  const t = fileText(result, host, installPath);
  if (t === undefined) throw new Error(`${host} has no ${installPath}`);
  return t;
}

/** Text with embedded PEM/base64 PKI material and secrets replaced by labels. */
export function masked(result: SynthesisResult, text: string): string {
  return maskSecrets(text, secretMasks(pkiLabels(result.model, result.pki), result.cluster.secrets));
}

/**
 * Snapshot material: for every host, the given install paths that exist there, as
 * '<mode>\n<masked content>'; hosts without any of them are left out.
 */
export function snapshotFiles(result: SynthesisResult, installPaths: readonly string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const bundle of result.cluster.bundles) {
    const files = bundle.files.filter((f) => installPaths.includes(`/${f.path}`));
    if (files.length === 0) continue;
    out[bundle.host.name] = Object.fromEntries(files.map((f) => [
      `/${f.path}`, `${f.mode.toString(8).padStart(4, '0')}\n${masked(result, f.content.toString('utf8'))}`,
    ]));
  }
  return out;
}

/** '--name=value' lines of a `VAR="--a=b \` option file, as [name, value] ('true' for bare flags). */
export function parseOptionFile(text: string): { variable: string; flags: [string, string][] } {
  const m = /^([A-Z_]+)="([\s\S]*)"\n$/.exec(text);
  if (!m) throw new Error(`not an option file:\n${text}`);
  const flags = m[2].split(/ \\\n/).map((l): [string, string] => {
    const f = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(l);
    if (!f) throw new Error(`not a flag: ${l}`);
    return [f[1], f[2] ?? 'true'];
  });
  return { variable: m[1], flags };
}

export function flagMap(text: string): Map<string, string> {
  const { flags } = parseOptionFile(text);
  const map = new Map<string, string>();
  for (const [k, v] of flags) {
    if (map.has(k)) throw new Error(`flag --${k} given twice`);
    map.set(k, v);
  }
  return map;
}

export interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: { name: string; user: Record<string, string> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

export function parseKubeconfig(text: string): Kubeconfig {
  return parse(text) as Kubeconfig;
}

export function decodeBase64(data: string): string {
  return Buffer.from(data, 'base64').toString('utf8');
}
