import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import archiver from 'archiver';
import { BundleFile } from './host-bundle';

/** Every entry gets this mtime, so the same files always make the same archive. */
export const BUNDLE_MTIME = new Date('2000-01-01T00:00:00Z');
export const MANIFEST_NAME = 'MANIFEST';

/**
 * MANIFEST lines: '<mode> <sha256> <path>' for every other archive entry, sorted by path. install.sh
 * verifies them all and installs those in a directory (paths without '/' are the bundle's own files).
 */
export function manifestOf(files: readonly BundleFile[]): string {
  return files.map((f) => `${f.mode.toString(8).padStart(4, '0')} ${sha256(f.content)} ${f.path}\n`).join('');
}

export function sha256(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** A reproducible .tar.gz of the files plus MANIFEST: sorted entries, fixed mtime and modes, owner root. */
export async function packBundle(files: readonly BundleFile[]): Promise<Buffer> {
  const archive = archiver('tar', { gzip: true, gzipOptions: { level: 9 } });
  const chunks: Buffer[] = [];
  archive.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', () => resolve());
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  const entries: BundleFile[] = [
    { path: MANIFEST_NAME, content: Buffer.from(manifestOf(files)), mode: 0o644 },
    ...files,
  ];
  for (const f of entries) archive.append(f.content, { name: f.path, date: BUNDLE_MTIME, mode: f.mode });
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface WriteResult {
  /** Archive size in bytes per host. */
  readonly sizes: Record<string, number>;
  readonly written: string[];
  readonly unchanged: string[];
  readonly removed: string[];
}

/**
 * Writes dist/hosts/<name>.tar.gz for each bundle. An archive whose bytes would not change is
 * not touched, and archives of hosts no longer in the cluster are removed.
 */
export async function writeBundles(
  outdir: string, bundles: readonly { name: string; files: readonly BundleFile[] }[],
  onProgress?: (message: string) => void,
): Promise<WriteResult> {
  fs.mkdirSync(outdir, { recursive: true });
  const result: WriteResult = { sizes: {}, written: [], unchanged: [], removed: [] };
  const wanted = new Set(bundles.map((b) => `${b.name}.tar.gz`));
  for (const b of bundles) {
    const file = path.join(outdir, `${b.name}.tar.gz`);
    const data = await packBundle(b.files);
    result.sizes[b.name] = data.length;
    const done = Object.keys(result.sizes).length;
    if (bundles.length >= 200 && done % 100 === 0) onProgress?.(`packed ${done}/${bundles.length} bundles`);
    let current: Buffer | undefined;
    try {
      current = fs.readFileSync(file);
    } catch {
      current = undefined;
    }
    if (current?.equals(data)) {
      result.unchanged.push(b.name);
      continue;
    }
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data, { mode: 0o600 }); // holds private keys
    fs.renameSync(tmp, file);
    result.written.push(b.name);
  }
  for (const f of fs.readdirSync(outdir)) {
    if (f.endsWith('.tar.gz') && !wanted.has(f)) {
      fs.rmSync(path.join(outdir, f));
      result.removed.push(f.replace(/\.tar\.gz$/, ''));
    }
  }
  return result;
}
