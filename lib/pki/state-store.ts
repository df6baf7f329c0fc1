import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The PKI state directory: CA keys, issued certificates, tokens, passwords.
 * Directories 0700, files 0600, every write atomic (temp file, fsync, rename).
 */
export class StateStore {
  constructor(public readonly dir: string) {}

  read(rel: string): Buffer | undefined {
    try {
      return fs.readFileSync(path.join(this.dir, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  readText(rel: string): string | undefined {
    return this.read(rel)?.toString('utf8');
  }

  /** True when the directory holds no state at all (a new cluster). */
  isEmpty(): boolean {
    try {
      return fs.readdirSync(this.dir).length === 0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw e;
    }
  }

  write(rel: string, data: string | Buffer): void {
    const file = path.join(this.dir, rel);
    this.mkdirs(path.dirname(file));
    const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    const dirFd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }

  /**
   * Writes the files atomically like write(), but concurrently: the temp files are written and fsynced on the thread
   * pool at once (the file system commits them together), then renamed in order, then each directory is fsynced once.
   * Files of a later batch appear only after the earlier batch is durable.
   */
  async writeAll(batches: readonly (readonly (readonly [rel: string, data: string | Buffer])[])[]): Promise<void> {
    for (const batch of batches) {
      const staged = await Promise.all(batch.map(async ([rel, data]) => {
        const file = path.join(this.dir, rel);
        this.mkdirs(path.dirname(file));
        const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
        const handle = await fs.promises.open(tmp, 'wx', 0o600);
        try {
          await handle.writeFile(data);
          await handle.sync();
        } finally {
          await handle.close();
        }
        return [tmp, file] as const;
      }));
      for (const [tmp, file] of staged) fs.renameSync(tmp, file);
      await Promise.all([...new Set(staged.map(([, file]) => path.dirname(file)))].map(async (dir) => {
        const handle = await fs.promises.open(dir, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }));
    }
  }

  private mkdirs(dir: string): void {
    if (fs.existsSync(dir)) return;
    this.mkdirs(path.dirname(dir));
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700); // mkdir's mode is masked by the umask
  }
}
