import * as fs from 'fs';
import * as path from 'path';
import { tempNameFor } from '../util/temp-files';

/** Modes of the output's folders, whatever the umask: bundles hold private keys. */
export const OUTPUT_DIR_MODES: Readonly<Record<string, number>> = {
  '.': 0o755,
  hosts: 0o700,
  addons: 0o755,
  ansible: 0o755,
};

/** Makes the output's folders and gives each its mode. */
export function prepareOutput(outdir: string): void {
  for (const [rel, mode] of Object.entries(OUTPUT_DIR_MODES)) {
    const dir = path.join(outdir, rel);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, mode);
  }
}

/**
 * Writes the file atomically with exactly this mode, unless it already holds these bytes with this mode; true when
 * written (a mode alone that differs is fixed in place, and counts).
 */
export function writeIfChanged(file: string, content: string | Buffer, mode: number): boolean {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
  let same = false;
  try {
    same = fs.readFileSync(file).equals(data);
  } catch { /* absent */ }
  if (same) {
    if ((fs.statSync(file).mode & 0o7777) === mode) return false;
    fs.chmodSync(file, mode);
    return true;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempNameFor(file);
  try {
    fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
    fs.chmodSync(tmp, mode); // writeFile's mode is masked by the umask
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return true;
}

/** A manifest file holding a Secret with data (a token, a key, a password) is for its owner's eyes only. */
export function manifestMode(yamlText: string): number {
  if (!/^kind: Secret$/m.test(yamlText)) return 0o644;
  const { parseAllDocuments } = require('yaml') as typeof import('yaml');
  const secretWithData = parseAllDocuments(yamlText).some((doc) => {
    const o = doc.toJS() as { kind?: string; data?: object; stringData?: object } | null;
    return o?.kind === 'Secret' && Object.values({ ...o.data, ...o.stringData }).some((v) => v !== '' && v !== null);
  });
  return secretWithData ? 0o600 : 0o644;
}

/**
 * Makes `to` hold exactly the .yaml files of `from`: each written atomically, with its mode, only when its bytes or
 * mode differ; files `from` no longer has are removed. Returns what changed.
 */
export function syncDirectory(from: string, to: string): string[] {
  const changed: string[] = [];
  const names = new Set(fs.readdirSync(from).filter((f) => f.endsWith('.yaml')));
  for (const name of [...names].sort()) {
    const data = fs.readFileSync(path.join(from, name));
    if (writeIfChanged(path.join(to, name), data, manifestMode(data.toString('utf8')))) changed.push(name);
  }
  for (const name of fs.readdirSync(to)) {
    if (name.endsWith('.yaml') && !names.has(name)) {
      fs.rmSync(path.join(to, name));
      changed.push(name);
    }
  }
  return changed;
}
