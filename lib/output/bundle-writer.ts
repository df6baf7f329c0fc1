import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { Worker } from 'worker_threads';
import * as zlib from 'zlib';
import type { Archiver } from 'archiver';
import { BundleFile } from '../components';

const gzip = promisify(zlib.gzip);

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
/** Archives packed but not yet written: bounds memory at 1000 hosts while the writer stays busy. */
const IN_FLIGHT = 16;

/** The uncompressed archive (archiver's tar): MANIFEST, then the files; fixed mtime and modes, owner root. */
async function tarOfBundle(files: readonly BundleFile[]): Promise<Buffer> {
  // Required here, so that reading bundles (tests, warm runs) does not load archiver.
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
  /** Hosts whose archive was damaged (its MANIFEST was current, the archive did not match it) and is rewritten. */
  readonly repaired: { readonly host: string; readonly problem: string }[];
}

/**
 * Writes dist/hosts/<name>.tar.gz for each bundle. An archive whose content would not change is not touched
 * (compared uncompressed, so a warm run only decompresses), and archives of hosts no longer in the cluster are
 * removed. Bundles are packed a few at a time on the thread pool: every core compresses, memory stays bounded.
 */
export async function writeBundles(
  outdir: string, bundles: readonly { name: string; files: readonly BundleFile[] }[],
  onProgress?: (message: string) => void,
  /** A writer started earlier (its thread starts while keys generate); closed here. @default one started on first write */
  writer: ArchiveWriter = new ArchiveWriter(),
): Promise<WriteResult> {
  fs.mkdirSync(outdir, { recursive: true });
  // One listing instead of an open() per host: lookups of missing names wait while the writer creates files.
  const existing = new Set(fs.readdirSync(outdir));
  const outcome: Promise<{ size: number; written: boolean }>[] = [];
  const damaged: { host: string; problem: string }[] = [];
  try {
    let done = 0;
    for (const bundle of bundles) {
      if (writer.failure) break; // Promise.all below reports it
      const file = path.join(outdir, `${bundle.name}.tar.gz`);
      const current = existing.has(path.basename(file)) ? readIfExists(file) : undefined;
      if (current) {
        const check = checkArchive(current, bundle.files);
        if (check === 'same') {
          fs.chmodSync(file, 0o600);
          outcome.push(Promise.resolve({ size: current.length, written: false }));
          continue;
        }
        if (check !== 'changed') damaged.push({ host: bundle.name, problem: check });
      }
      if (writer.pending >= IN_FLIGHT) await writer.drained(IN_FLIGHT / 2);
      const tar = await tarOfBundle(bundle.files);
      const written = writer.write(file, tar).then((size) => {
        done += 1;
        if (bundles.length >= 200 && done % 100 === 0) onProgress?.(`packed ${done}/${bundles.length} bundles`);
        return { size, written: true };
      });
      written.catch(() => undefined); // awaited below; a failure must not surface as unhandled while packing goes on
      outcome.push(written);
    }
    const results = await Promise.all(outcome);
    const result: WriteResult = { sizes: {}, written: [], unchanged: [], removed: [], repaired: damaged };
    bundles.forEach((b, i) => {
      result.sizes[b.name] = results[i].size;
      (results[i].written ? result.written : result.unchanged).push(b.name);
    });
    const wanted = new Set(bundles.map((b) => `${b.name}.tar.gz`));
    for (const f of existing) {
      if (f.endsWith('.tar.gz') && !wanted.has(f)) {
        fs.rmSync(path.join(outdir, f));
        result.removed.push(f.replace(/\.tar\.gz$/, ''));
      }
    }
    return result;
  } finally {
    await writer.close();
  }
}

/**
 * Compresses and writes archives on a worker thread (archive-writer-worker.js) while the main thread packs the next
 * ones: at 1000 hosts, packing and compressing each take a core. The thread starts on first use, or on `start()`.
 */
export class ArchiveWriter {
  private worker?: Worker;
  private exited?: Promise<void>;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (size: number) => void; reject: (e: Error) => void }>();
  /** Where each archive goes once the thread has written its temp file. */
  private readonly files = new Map<number, string>();
  private readonly drainWaiters: { below: number; resolve: () => void }[] = [];
  private error?: Error;

  /** Why the thread failed, if it did; every later write is refused with it. */
  get failure(): Error | undefined {
    return this.error;
  }

  get pending(): number {
    return this.waiting.size;
  }

  /** Starts the thread now (about 30 ms), e.g. while keys generate, rather than on the first write. */
  start(): this {
    this.worker ??= this.startWorker();
    return this;
  }

  write(file: string, tar: Buffer): Promise<number> {
    if (this.error) return Promise.reject(this.error);
    const worker = this.worker ??= this.startWorker();
    const id = this.nextId++;
    this.files.set(id, file);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, file, tar, level: GZIP_LEVEL });
    });
  }

  /** Resolves once fewer than `below` archives wait to be written. */
  drained(below: number): Promise<void> {
    if (this.waiting.size < below) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ below, resolve }));
  }

  /** Lets the thread finish the archives it has and exit; idempotent. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    worker?.postMessage('close'); // not terminate(): stopping it inside gzipSync aborts the process (Node 20)
    await this.exited;
  }

  private startWorker(): Worker {
    const worker = new Worker(path.join(__dirname, 'archive-writer-worker.js'), { execArgv: [] });
    worker.on('message', ({ id, size, tmp, error }: { id: number; size?: number; tmp?: string; error?: string }) => {
      const w = this.waiting.get(id)!;
      this.waiting.delete(id);
      if (error !== undefined) {
        w.reject(new Error(`writing a bundle archive: ${error}`));
      } else {
        try {
          fs.renameSync(tmp!, this.files.get(id)!);
          w.resolve(size!);
        } catch (e) {
          fs.rmSync(tmp!, { force: true });
          w.reject(new Error(`writing a bundle archive: ${(e as Error).message}`));
        }
      }
      this.files.delete(id);
      this.wake();
    });
    worker.on('error', (e) => this.failAll(e));
    this.exited = new Promise((resolve) => worker.on('exit', (code) => {
      this.failAll(new Error(`the archive writer thread exited (code ${code})`));
      resolve();
    }));
    return worker;
  }

  private failAll(e: Error): void {
    this.error ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.wake();
  }

  private wake(): void {
    for (let i = this.drainWaiters.length - 1; i >= 0; i--) {
      if (this.waiting.size < this.drainWaiters[i].below) this.drainWaiters.splice(i, 1)[0].resolve();
    }
  }
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** One entry of an uncompressed tar archive, as the checks need it. */
interface TarEntry {
  readonly name: string;
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly content: Buffer;
}

const octalField = (h: Buffer, start: number, length: number) => parseInt(h.subarray(start, start + length).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
const textField = (h: Buffer, start: number, length: number) => h.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');

/** The entries of a ustar archive (pax path records included); throws on a bad header checksum or a cut archive. */
function tarEntries(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let paxPath: string | undefined;
  let off = 0;
  for (;;) {
    if (off + 512 > tar.length) throw new Error('the archive ends inside an entry, before its end-of-archive blocks');
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) {
      if (!tar.subarray(off).every((b) => b === 0)) throw new Error('data follows the end-of-archive block');
      return entries;
    }
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== octalField(h, 148, 8)) throw new Error(`a header at byte ${off} has a bad checksum`);
    const size = octalField(h, 124, 12);
    const type = String.fromCharCode(h[156] || 48);
    const end = off + 512 + size;
    if (end > tar.length) throw new Error('the archive is cut off inside an entry');
    const content = tar.subarray(off + 512, end);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'))?.[1];
      continue;
    }
    const prefix = textField(h, 345, 155);
    const name = paxPath ?? (prefix ? `${prefix}/${textField(h, 0, 100)}` : textField(h, 0, 100));
    paxPath = undefined;
    entries.push({ name, type, mode: octalField(h, 100, 8) & 0o7777, uid: octalField(h, 108, 8), gid: octalField(h, 116, 8), mtime: octalField(h, 136, 12), content });
  }
}

/**
 * Whether an existing archive is exactly the bundle synth would write: 'same'; 'changed' when its MANIFEST is not
 * the current one (the definition or the PKI changed); otherwise what is damaged: it inflates and parses to its end,
 * holds MANIFEST and every file in order, each with its mode, owner root, the fixed mtime and its bytes.
 * Inflated synchronously: a bundle inflates in a tenth of a millisecond, less than a trip to the thread pool costs.
 */
export function checkArchive(archive: Buffer, files: readonly BundleFile[]): 'same' | 'changed' | string {
  let entries: TarEntry[];
  try {
    entries = tarEntries(zlib.gunzipSync(archive));
  } catch (e) {
    return `unreadable: ${(e as Error).message}`;
  }
  const manifest = manifestOf(files);
  if (entries[0]?.name !== MANIFEST_NAME) return 'MANIFEST is not its first entry';
  if (entries[0].content.toString('utf8') !== manifest) return 'changed';
  const want = [{ path: MANIFEST_NAME, content: Buffer.from(manifest), mode: 0o644 }, ...files];
  if (entries.length !== want.length) return `it holds ${entries.length - 1} files, MANIFEST lists ${files.length}`;
  const mtime = BUNDLE_MTIME.getTime() / 1000;
  for (let i = 0; i < want.length; i++) {
    const e = entries[i];
    const w = want[i];
    if (e.name !== w.path) return `entry ${i} is ${e.name}, MANIFEST lists ${w.path}`;
    if (e.type !== '0') return `${e.name} is not a regular file`;
    if (e.mode !== w.mode || e.uid !== 0 || e.gid !== 0 || e.mtime !== mtime) return `${e.name} has another mode, owner or time`;
    if (!e.content.equals(w.content)) return `${e.name} does not hold what MANIFEST says`;
  }
  return 'same';
}
