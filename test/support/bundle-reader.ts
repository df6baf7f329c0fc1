import * as fs from 'fs';
import * as zlib from 'zlib';
import * as tar from 'tar-stream';

export interface TarEntry {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Date;
  readonly content: Buffer;
}

/** Reads a .tar.gz into its entries, in archive order. */
export async function readBundle(file: string): Promise<TarEntry[]> {
  const extract = tar.extract();
  const entries: TarEntry[] = [];
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      entries.push({
        path: header.name, mode: header.mode ?? 0, uid: header.uid ?? -1, gid: header.gid ?? -1,
        mtime: header.mtime ?? new Date(0), content: Buffer.concat(chunks),
      });
      next();
    });
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
  });
  extract.end(zlib.gunzipSync(fs.readFileSync(file)));
  await done;
  return entries;
}
