import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The temp file an atomic write renames into place: FILE.tmp-<pid>-<hex> (the archive worker's: FILE.tmp-<pid>). */
export const TEMP_FILE = /\.tmp-\d+(-[0-9a-f]+)?$/;

export function tempNameFor(file: string): string {
  return `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

/** Removes the temp files a stopped writer left anywhere under `dir`; returns their paths. */
export function removeTempFiles(dir: string): string[] {
  const removed: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (TEMP_FILE.test(e.name)) {
        fs.rmSync(p, { force: true });
        removed.push(p);
      }
    }
  };
  walk(dir);
  return removed;
}
