import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { TEMP_FILE, removeTempFiles, tempNameFor } from '../util/temp-files';
import { PkiStateError } from './errors';

/** Temporary files of an atomic write: '<file>.tmp-<pid>-<random>'. A synth killed mid-write leaves them. */

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeDurably(file: string, data: string | Buffer): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(file, 0o600); // open's mode is masked by the umask
}

/**
 * The state directory: CA keys, issued certificates, tokens, passwords, the last synth's record.
 * Directories 0700, files 0600. A new state is built aside and published with one rename; later writes are atomic
 * per file (temp file, fsync, rename). Every read error is a PkiStateError naming the file.
 */
export class StateStore {
  constructor(public readonly dir: string) {}

  private fail(problem: string, advice?: string): never {
    throw new PkiStateError(this.dir, [problem], advice);
  }

  /** Checks that the path can be a state directory: absent, or a readable directory. True when it exists. */
  check(): boolean {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.dir);
    } catch (e) {
      if (errno(e) === 'ENOENT') {
        let link: fs.Stats | undefined;
        try {
          link = fs.lstatSync(this.dir);
        } catch { /* absent: a new cluster's state */ }
        if (link?.isSymbolicLink()) {
          this.fail(`${this.dir} is a symbolic link to ${fs.readlinkSync(this.dir)}, which does not exist`,
            'Mount or restore what the link points to, or point KUBESMITH_STATE_DIR at the state directory itself.');
        }
        return false;
      }
      if (errno(e) === 'ENOTDIR') this.fail(`a parent of ${this.dir} is a file, not a directory`, 'Point KUBESMITH_STATE_DIR at a directory.');
      return this.fail(`${this.dir} cannot be read (${errno(e)})`, 'Give the user running synth access to it, or point KUBESMITH_STATE_DIR elsewhere.');
    }
    if (!st.isDirectory()) {
      this.fail(`${this.dir} is a file, not a directory`, 'Point KUBESMITH_STATE_DIR at the state directory (it holds ca/, certs/ and secrets.json), or move the file away.');
    }
    try {
      fs.readdirSync(this.dir);
    } catch (e) {
      this.fail(`${this.dir} cannot be listed (${errno(e)})`, 'Give the user running synth access to it (the directory is 0700, owned by whoever ran the first synth).');
    }
    return true;
  }

  read(rel: string): Buffer | undefined {
    const file = path.join(this.dir, rel);
    try {
      return fs.readFileSync(file);
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      if (errno(e) === 'EISDIR') return this.fail(`${rel} is a directory, not a file`, `Move ${file} away and restore the file from the backup.`);
      return this.fail(`${rel} cannot be read (${errno(e)})`, `Give the user running synth access to ${file} (0600, owned by whoever ran the first synth).`);
    }
  }

  readText(rel: string): string | undefined {
    return this.read(rel)?.toString('utf8');
  }

  /** Whether the state holds nothing yet (temporary files of a killed synth do not count). */
  isEmpty(): boolean {
    const walk = (dir: string): boolean => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        if (errno(e) === 'ENOENT') return true;
        throw e;
      }
      return entries.every((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : TEMP_FILE.test(e.name)));
    };
    return walk(this.dir);
  }

  /**
   * Removes what killed synths left: temp files in the state, and new states that were built aside but never
   * published. Returns what it removed, relative to the state's parent.
   */
  cleanTemp(): string[] {
    const removed: string[] = [];
    const parent = path.dirname(this.dir);
    const base = path.basename(this.dir);
    removed.push(...removeTempFiles(this.dir).map((p) => path.relative(parent, p)));
    let siblings: string[] = [];
    try {
      siblings = fs.readdirSync(parent);
    } catch { /* no parent yet */ }
    for (const name of siblings) {
      const m = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.new-(\\d+)-[0-9a-f]+$`).exec(name);
      if (m && !processAlive(Number(m[1]))) {
        fs.rmSync(path.join(parent, name), { recursive: true, force: true });
        removed.push(name);
      }
    }
    return removed;
  }

  /** Writes one file atomically. */
  write(rel: string, data: string | Buffer): void {
    const file = path.join(this.dir, rel);
    this.mkdirs(path.dirname(file));
    const tmp = tempNameFor(file);
    try {
      writeDurably(tmp, data);
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    fsyncDir(path.dirname(file));
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
        const tmp = tempNameFor(file);
        const handle = await fs.promises.open(tmp, 'wx', 0o600);
        try {
          await handle.writeFile(data);
          await handle.chmod(0o600);
          await handle.sync();
        } finally {
          await handle.close();
        }
        return [tmp, file] as const;
      }));
      for (const [tmp, file] of staged) fs.renameSync(tmp, file);
      for (const dir of new Set(staged.map(([, file]) => path.dirname(file)))) fsyncDir(dir);
    }
  }

  /**
   * Publishes a whole new state at once: the files are written into a directory beside the state's path, made
   * durable, and renamed into place. A synth killed before the rename leaves no state (the next synth starts over);
   * after it, a complete one. The state's path must not exist yet, or be an empty directory.
   */
  publish(files: readonly (readonly [rel: string, data: string | Buffer])[]): void {
    const parent = path.dirname(this.dir);
    this.mkdirs(parent);
    const staging = path.join(parent, `.${path.basename(this.dir)}.new-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    fs.mkdirSync(staging, { mode: 0o700 });
    fs.chmodSync(staging, 0o700);
    try {
      for (const [rel, data] of files) {
        const file = path.join(staging, rel);
        if (!fs.existsSync(path.dirname(file))) {
          fs.mkdirSync(path.dirname(file), { mode: 0o700, recursive: true });
          fs.chmodSync(path.dirname(file), 0o700);
        }
        writeDurably(file, data);
      }
      const dirs = new Set(files.map(([rel]) => path.dirname(path.join(staging, rel))));
      for (const d of dirs) fsyncDir(d);
      fsyncDir(staging);
      if (fs.existsSync(this.dir)) fs.rmdirSync(this.dir); // empty: a non-empty one makes this throw, and nothing is published
      fs.renameSync(staging, this.dir);
    } catch (e) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw e;
    }
    fsyncDir(parent);
  }

  /**
   * An exclusive lock on the state, held until release(): '.<name>.lock' beside the state directory, holding the
   * holder's pid. A second synth waits up to `waitMs`, then refuses; a lock whose holder is gone is taken over.
   */
  async lock(waitMs: number): Promise<() => void> {
    const parent = path.dirname(this.dir);
    this.mkdirs(parent);
    const file = path.join(parent, `.${path.basename(this.dir)}.lock`);
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        const fd = fs.openSync(file, 'wx', 0o600);
        fs.writeSync(fd, `${process.pid}\n`);
        fs.closeSync(fd);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          fs.rmSync(file, { force: true });
        };
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e;
      }
      const holder = readHolder(file);
      if (holder !== undefined && !processAlive(holder)) {
        // Its holder was killed: take the lock over. Renaming first means only one waiter removes it.
        const stale = `${file}.stale-${process.pid}`;
        try {
          fs.renameSync(file, stale);
          if (readHolder(stale) === holder) fs.rmSync(stale, { force: true });
          else fs.renameSync(stale, file); // someone else's fresh lock: put it back
        } catch { /* another waiter got there first */ }
        continue;
      }
      if (Date.now() >= deadline) {
        this.fail(`another synth (pid ${holder ?? 'unknown'}) holds ${file}`,
          `Wait for it to finish and run synth again. If no synth runs, remove ${file}.`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private mkdirs(dir: string): void {
    if (fs.existsSync(dir)) return;
    this.mkdirs(path.dirname(dir));
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700); // mkdir's mode is masked by the umask
  }
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}
