import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import * as zlib from 'zlib';
import type { Archiver } from 'archiver';
import { BundleFile } from './host-bundle';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

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

/** Digests of bundle contents, which are never modified once added (hosts share one Buffer per distinct text). */
const digests = new WeakMap<Buffer, string>();

export function sha256(data: Buffer | string): string {
  if (typeof data === 'string') return crypto.createHash('sha256').update(data).digest('hex');
  let digest = digests.get(data);
  if (digest === undefined) {
    digest = crypto.createHash('sha256').update(data).digest('hex');
    digests.set(data, digest);
  }
  return digest;
}

/** gzip level of the archives: zlib's default; level 9 takes 2.7× the time for bundles 0.5% smaller. */
export const GZIP_LEVEL = 6;
/** Bundles in flight at once: enough to keep libuv's thread pool (where zlib runs) busy on every core. */
const CONCURRENCY = 4;

/** The uncompressed archive (archiver's tar): MANIFEST, then the files; fixed mtime and modes, owner root. */
async function tarOfBundle(files: readonly BundleFile[]): Promise<Buffer> {
  // Loaded on first use: synth starts key generation before the slower modules load.
  const archiver = require('archiver') as (format: string) => Archiver;
  const archive = archiver('tar');
  const chunks: Buffer[] = [];
  archive.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', () => resolve());
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  const entries = [{ path: MANIFEST_NAME, content: Buffer.from(manifestOf(files)), mode: 0o644 }, ...files];
  for (const f of entries) archive.append(f.content, { name: f.path, date: BUNDLE_MTIME, mode: f.mode });
  await archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** A reproducible .tar.gz of the files plus MANIFEST: sorted entries, fixed mtime and modes, owner root. */
export async function packBundle(files: readonly BundleFile[]): Promise<Buffer> {
  return gzip(await tarOfBundle(files), { level: GZIP_LEVEL });
}

export interface WriteResult {
  /** Archive size in bytes per host. */
  readonly sizes: Record<string, number>;
  readonly written: string[];
  readonly unchanged: string[];
  readonly removed: string[];
}

/**
 * Writes dist/hosts/<name>.tar.gz for each bundle. An archive whose content would not change is not touched
 * (compared uncompressed, so a warm run only decompresses), and archives of hosts no longer in the cluster are
 * removed. Bundles are packed a few at a time on the thread pool: every core compresses, memory stays bounded.
 */
export async function writeBundles(
  outdir: string, bundles: readonly { name: string; files: readonly BundleFile[] }[],
  onProgress?: (message: string) => void,
): Promise<WriteResult> {
  fs.mkdirSync(outdir, { recursive: true });
  const outcome: { size: number; written: boolean }[] = new Array(bundles.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < bundles.length) {
      const i = next++;
      outcome[i] = await writeBundle(path.join(outdir, `${bundles[i].name}.tar.gz`), bundles[i].files);
      done += 1;
      if (bundles.length >= 200 && done % 100 === 0) onProgress?.(`packed ${done}/${bundles.length} bundles`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  const result: WriteResult = { sizes: {}, written: [], unchanged: [], removed: [] };
  bundles.forEach((b, i) => {
    result.sizes[b.name] = outcome[i].size;
    (outcome[i].written ? result.written : result.unchanged).push(b.name);
  });
  const wanted = new Set(bundles.map((b) => `${b.name}.tar.gz`));
  for (const f of fs.readdirSync(outdir)) {
    if (f.endsWith('.tar.gz') && !wanted.has(f)) {
      fs.rmSync(path.join(outdir, f));
      result.removed.push(f.replace(/\.tar\.gz$/, ''));
    }
  }
  return result;
}

async function writeBundle(file: string, files: readonly BundleFile[]): Promise<{ size: number; written: boolean }> {
  const current = readIfExists(file);
  // MANIFEST holds the mode and sha256 of every other entry: equal manifests, equal contents.
  if (current && await manifestInArchive(current) === manifestOf(files)) return { size: current.length, written: false };
  const data = await gzip(await tarOfBundle(files), { level: GZIP_LEVEL });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.promises.writeFile(tmp, data, { mode: 0o600 }); // holds private keys
  fs.renameSync(tmp, file);
  return { size: data.length, written: true };
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * The MANIFEST of a bundle archive, or undefined when it has none or the archive is damaged (then it is rewritten).
 * The whole archive is inflated (gzip checks its CRC and length) on the thread pool; only MANIFEST, the first
 * entry, is read from the tar.
 */
async function manifestInArchive(archive: Buffer): Promise<string | undefined> {
  const tar = await gunzip(archive).catch(() => undefined);
  return tar && firstManifest(tar);
}

/** The MANIFEST entry at the start of an uncompressed tar archive, if it starts with one. */
async function firstManifest(tar: Buffer): Promise<string | undefined> {
  const { extract } = require('tar-stream') as typeof import('tar-stream');
  const reader = extract();
  return new Promise((resolve) => {
    reader.on('entry', (header, stream) => {
      if (header.name !== MANIFEST_NAME) {
        resolve(undefined);
        reader.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        resolve(Buffer.concat(chunks).toString('utf8'));
        reader.destroy();
      });
    });
    reader.on('error', () => resolve(undefined));
    reader.on('close', () => resolve(undefined)); // no-op once resolved
    reader.end(tar);
  });
}
