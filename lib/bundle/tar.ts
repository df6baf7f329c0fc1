/**
 * A POSIX ustar archive of regular files, in memory: what host bundles need and nothing more
 * (no directories, links or pax headers). Owner root:root (uid/gid 0).
 */
export interface TarFile {
  /** Relative path, '/'-separated. */
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  readonly mtime: Date;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit a ${width}-byte header field`);
  return `${digits.padStart(width - 1, '0')}\0`;
}

/** ustar keeps names up to 100 bytes, or 255 when split at a '/' into a prefix (≤ 155) and a name (≤ 100). */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  throw new Error(`tar: path ${name} is too long for a ustar header`);
}

function header(file: TarFile): Buffer {
  const h = Buffer.alloc(BLOCK);
  const { prefix, name } = splitName(file.path);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(file.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(file.content.length, 12), 124, 'ascii');
  h.write(octal(Math.floor(file.mtime.getTime() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum is computed with its own field as spaces
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\x0000', 257, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** The archive's bytes: each file's header and content padded to 512 bytes, then two zero blocks. */
export function tarOf(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(header(f), f.content);
    const pad = (BLOCK - (f.content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
