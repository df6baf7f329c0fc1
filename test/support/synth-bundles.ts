import * as path from 'path';
import { ClusterDefinition, synthesizeCluster, SynthesisResult } from '../../lib';
import { readBundle, TarEntry } from './bundle-reader';
import { tempDir } from './tmp';

export interface SynthesizedBundles {
  /** Holds dist/ and state/. */
  readonly dir: string;
  readonly result: SynthesisResult;
  /** host → archive path → entry. */
  readonly bundles: Map<string, Map<string, TarEntry>>;
  /** dist/hosts/<host>.tar.gz */
  archive(host: string): string;
  /** The text of one archive entry; throws when the host's bundle lacks it. */
  text(host: string, entryPath: string): string;
}

/** Synthesizes a definition into a temp dir (or `dir`, reusing its state) and reads every bundle back. */
export async function synthBundles(def: ClusterDefinition, dir = tempDir()): Promise<SynthesizedBundles> {
  const result = await synthesizeCluster(def, {
    outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined,
  });
  const archive = (host: string) => path.join(dir, 'dist/hosts', `${host}.tar.gz`);
  const bundles = new Map<string, Map<string, TarEntry>>();
  for (const h of result.model.hosts) bundles.set(h.name, new Map((await readBundle(archive(h.name))).map((e) => [e.path, e])));
  return {
    dir, result, bundles, archive,
    text(host, entryPath) {
      const e = bundles.get(host)?.get(entryPath);
      if (!e) throw new Error(`${host}: no ${entryPath} in the bundle`);
      return e.content.toString('utf8');
    },
  };
}

/** Two synths of one state and output: `before`, then `after`, whose result and log lines are returned. */
export async function twoSynths(before: ClusterDefinition, after: ClusterDefinition) {
  const dir = tempDir();
  const opts = { outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state') };
  await synthesizeCluster(before, { ...opts, log: () => undefined });
  const logs: string[] = [];
  const result = await synthesizeCluster(after, { ...opts, log: (l) => logs.push(l) });
  return { dir, result, logs };
}
