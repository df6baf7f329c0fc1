/**
 * Background processes for tests: start a real program the way a systemd unit
 * would (argv + a clean environment + an optional EnvironmentFile), capture its
 * output, and stop it again.
 *
 * Safety rules this module keeps:
 *  - It only ever signals processes it started itself (by PID, or the process
 *    group it created for that PID). Never by name: no pkill, no killall.
 *  - Every child is started in its own process group (detached), so a daemon's
 *    own children (nginx workers, keepalived's VRRP child) can be stopped with
 *    it and never outlive the test.
 *  - Every wait is bounded.
 *  - Started PIDs are recorded (with their kernel start time) in a registry file
 *    under os.tmpdir(); a later run reaps what a crashed run left behind,
 *    checking the start time so a reused PID is never hit.
 *
 * Typical use:
 *
 *   const p = start(['etcd'], { name: 'etcd1', environmentFile: envPath });
 *   await waitForPort('127.0.0.1', 2379, { proc: p });
 *   ...
 *   afterAll(() => stopAll());
 *
 * In a network namespace (see netns.ts): start(argv, { netns: ns }) runs
 * `ip netns exec NS argv...`. ip execs the program, so the PID tracked is the
 * program's own PID (harness.test.ts proves it).
 */
import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The PATH systemd gives services: units get no environment from the caller. */
export const SYSTEMD_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Label used in messages and log file names. Default: basename of argv[0]. */
  name?: string;
  /** Variables to set, applied after environmentFile (like Environment= after EnvironmentFile=). */
  env?: Record<string, string>;
  /** Path of a systemd EnvironmentFile whose variables are set. */
  environmentFile?: string;
  /** Also pass this process's environment (default false: a clean env with PATH only, as systemd does). */
  inheritEnv?: boolean;
  cwd?: string;
  /** Run inside this network namespace via `ip netns exec`. */
  netns?: string;
  /**
   * Where output goes. With a directory, stdout/stderr are written to
   * `<dir>/<name>.stdout.log` / `.stderr.log` (good for chatty daemons);
   * otherwise they are kept in memory (last 4 MiB each).
   */
  logDir?: string;
}

export interface StopOptions {
  /** How long to wait after the first signal before SIGKILL. Default 5000 ms. */
  graceMs?: number;
  /** First signal. Default SIGTERM. */
  signal?: NodeJS.Signals;
}

export interface Proc {
  readonly name: string;
  /** PID of the program (also its process group id). */
  readonly pid: number;
  /** argv as executed (with the `ip netns exec NS` prefix when netns is set). */
  readonly argv: readonly string[];
  readonly netns?: string;
  readonly stdoutPath?: string;
  readonly stderrPath?: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Set once the process has exited. */
  exitInfo(): ExitInfo | undefined;
  isRunning(): boolean;
  stdout(): string;
  stderr(): string;
  /** Last `lines` lines of stdout+stderr, for error messages. */
  tail(lines?: number): string;
}

const MAX_BUFFER = 4 * 1024 * 1024;

class TrackedProc implements Proc {
  private out = '';
  private err = '';
  private info: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  constructor(
    readonly name: string,
    readonly pid: number,
    readonly argv: readonly string[],
    readonly child: ChildProcess,
    readonly starttime: string,
    readonly netns?: string,
    readonly stdoutPath?: string,
    readonly stderrPath?: string,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.out = cap(this.out + s)));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.err = cap(this.err + s)));
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        this.info = { code, signal };
        resolve(this.info);
      });
    });
  }

  exitInfo(): ExitInfo | undefined {
    return this.info;
  }
  isRunning(): boolean {
    return this.info === undefined;
  }
  stdout(): string {
    return this.stdoutPath ? readOrEmpty(this.stdoutPath) : this.out;
  }
  stderr(): string {
    return this.stderrPath ? readOrEmpty(this.stderrPath) : this.err;
  }
  tail(lines = 30): string {
    const all = `${this.stdout()}\n${this.stderr()}`.split('\n').filter((l) => l.trim() !== '');
    return all.slice(-lines).join('\n');
  }
}

function cap(s: string): string {
  return s.length > MAX_BUFFER ? s.slice(s.length - MAX_BUFFER) : s;
}
function readOrEmpty(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

const procs = new Set<TrackedProc>();

/** Absolute path of iproute2's `ip` (root's PATH may lack /usr/sbin). */
export function ipBinary(): string {
  for (const p of ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']) if (fs.existsSync(p)) return p;
  return 'ip';
}

/** argv prefixed with `ip netns exec NS` when ns is given. */
export function inNetns(ns: string | undefined, argv: readonly string[]): string[] {
  return ns ? [ipBinary(), 'netns', 'exec', ns, ...argv] : [...argv];
}

/**
 * Parses a systemd EnvironmentFile: `KEY=VALUE` lines, `#`/`;` comment lines,
 * blank lines, optional `export `, values in single or double quotes, and
 * backslash line continuation. A line that is none of these throws (systemd
 * would log and skip it; a test should notice).
 */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.replace(/\\\n/g, '').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`EnvironmentFile line ${i + 1} is not KEY=VALUE: ${JSON.stringify(raw)}`);
    let value = m[2];
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    env[m[1]] = value;
  });
  return env;
}

/** The environment a child gets for these options (exported for tests). */
export function buildEnv(opts: StartOptions): Record<string, string> {
  const base: Record<string, string> = opts.inheritEnv
    ? Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined))
    : { PATH: SYSTEMD_DEFAULT_PATH };
  const fromFile = opts.environmentFile ? parseEnvironmentFile(fs.readFileSync(opts.environmentFile, 'utf8')) : {};
  return { ...base, ...fromFile, ...(opts.env ?? {}) };
}

/**
 * Starts argv[0] with arguments argv[1..] as a background child in its own
 * process group, and tracks it for stop()/stopAll(). Throws if it cannot be
 * spawned at all (e.g. program not found). A program that starts and then
 * exits at once is reported by waitFor(..., { proc }) or `exited`.
 */
export function start(argv: readonly string[], opts: StartOptions = {}): Proc {
  if (argv.length === 0) throw new Error('start: empty argv');
  reapStaleOnce();
  const name = opts.name ?? path.basename(argv[0]);
  const full = inNetns(opts.netns, argv);
  const env = buildEnv(opts);
  // Node looks argv[0] up in the child's PATH (systemd's by default, which has /usr/sbin).
  let stdoutPath: string | undefined;
  let stderrPath: string | undefined;
  let stdio: ('pipe' | 'ignore' | number)[] = ['ignore', 'pipe', 'pipe'];
  const fds: number[] = [];
  if (opts.logDir) {
    const safe = name.replace(/[^A-Za-z0-9_.-]/g, '-');
    stdoutPath = path.join(opts.logDir, `${safe}.stdout.log`);
    stderrPath = path.join(opts.logDir, `${safe}.stderr.log`);
    fds.push(fs.openSync(stdoutPath, 'a'), fs.openSync(stderrPath, 'a'));
    stdio = ['ignore', fds[0], fds[1]];
  }
  const child = spawn(full[0], full.slice(1), {
    cwd: opts.cwd,
    env: { ...env, PATH: env.PATH ?? SYSTEMD_DEFAULT_PATH },
    stdio,
    detached: true, // own process group: pgid == pid
  });
  for (const fd of fds) fs.closeSync(fd);
  if (child.pid === undefined) {
    // spawn failed synchronously (ENOENT etc.); the error event follows.
    child.on('error', () => undefined);
    throw new Error(`start ${name}: could not spawn ${JSON.stringify(full[0])} (not found or not executable)`);
  }
  child.on('error', () => undefined); // reported through `exited`
  const p = new TrackedProc(name, child.pid, full, child, readStarttime(child.pid) ?? '', opts.netns, stdoutPath, stderrPath);
  procs.add(p);
  writeRegistry();
  installExitHook();
  void p.exited.then(() => {
    procs.delete(p);
    writeRegistry();
  });
  return p;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* group already gone */
  }
}
/** PIDs whose process group is `pgid` (field 5 of /proc/PID/stat). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/**
 * SIGKILLs what is left of a process group whose leader has exited. Only when
 * members remain: while they live the kernel keeps the number reserved, so the
 * signal cannot reach an unrelated group that reused it.
 */
function killLeftovers(pgid: number): void {
  if (groupMembers(pgid).length > 0) signalGroup(pgid, 'SIGKILL');
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Stops a process started by start(): sends `signal` (SIGTERM) to its PID,
 * waits up to graceMs, then SIGKILLs its whole process group and waits up to
 * 5 s more. Afterwards any member of its process group still alive (children
 * the program forked) gets SIGKILL. Returns how it exited; throws only if it
 * survived SIGKILL.
 */
export async function stop(proc: Proc, opts: StopOptions = {}): Promise<ExitInfo> {
  const p = proc as TrackedProc;
  const graceMs = opts.graceMs ?? 5000;
  if (p.isRunning()) {
    signalPid(p.pid, opts.signal ?? 'SIGTERM');
    if ((await within(p.exited, graceMs)) === 'timeout') {
      signalGroup(p.pid, 'SIGKILL');
      if ((await within(p.exited, 5000)) === 'timeout') {
        throw new Error(`stop ${p.name} (pid ${p.pid}): still running 5 s after SIGKILL`);
      }
    }
  }
  killLeftovers(p.pid); // children it forked and left behind

  procs.delete(p);
  writeRegistry();
  return (await p.exited) as ExitInfo;
}

/** Stops every process this module started and that is still tracked, in parallel. */
export async function stopAll(opts: StopOptions = {}): Promise<void> {
  const all = [...procs];
  const results = await Promise.allSettled(all.map((p) => stop(p, opts)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) throw new Error(failed.map((f) => String(f.reason)).join('\n'));
}

/** Processes started and not yet stopped or exited. */
export function running(): Proc[] {
  return [...procs].filter((p) => p.isRunning());
}

/** True if a process with this PID exists (a zombie counts as existing). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The name the kernel has for a PID (/proc/PID/comm), or undefined. */
export function pidComm(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a short command to completion (bounded: SIGKILL to its group after
 * timeoutMs, default 10 s). Environment is this process's unless `env` is given.
 */
export function run(
  argv: readonly string[],
  opts: { timeoutMs?: number; input?: string; env?: Record<string, string>; cwd?: string; netns?: string } = {},
): Promise<RunResult> {
  const full = inNetns(opts.netns, argv);
  return new Promise((resolve) => {
    const child = spawn(full[0], full.slice(1), {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout = cap(stdout + s)));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = cap(stderr + s)));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killLeftovers(child.pid);
    }, opts.timeoutMs ?? 10000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: stderr + String(e), timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (child.pid !== undefined) killLeftovers(child.pid); // stray children
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

// ---- crash safety: exit hook and a registry of started PIDs ----

let exitHook = false;
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of procs) if (p.isRunning()) signalGroup(p.pid, 'SIGKILL');
    procs.clear();
    try {
      fs.rmSync(registryFile(), { force: true });
    } catch {
      /* ignore */
    }
  });
}

/** Kernel start time of a PID (field 22 of /proc/PID/stat), to tell a reused PID apart. */
export function readStarttime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const REGISTRY_DIR = path.join(os.tmpdir(), 'ks-harness-pids');
function registryFile(): string {
  return path.join(REGISTRY_DIR, `${process.pid}-${readStarttime(process.pid) ?? '0'}.json`);
}
function writeRegistry(): void {
  try {
    fs.mkdirSync(REGISTRY_DIR, { recursive: true });
    const entries = [...procs].map((p) => ({ pid: p.pid, starttime: p.starttime, argv: p.argv }));
    if (entries.length === 0) fs.rmSync(registryFile(), { force: true });
    else fs.writeFileSync(registryFile(), JSON.stringify(entries));
  } catch {
    /* best effort */
  }
}

let reaped = false;
function reapStaleOnce(): void {
  if (reaped) return;
  reaped = true;
  reapStaleProcesses();
}

/**
 * Kills processes that an earlier, crashed test run of this harness started
 * and left behind: only PIDs recorded in its registry file whose kernel start
 * time still matches (so a reused PID is never touched), and only when the
 * run that recorded them is gone. Called automatically by the first start().
 * Returns the PIDs killed.
 */
export function reapStaleProcesses(): number[] {
  const killed: number[] = [];
  let files: string[] = [];
  try {
    files = fs.readdirSync(REGISTRY_DIR);
  } catch {
    return killed;
  }
  for (const f of files) {
    const m = /^(\d+)-(\d+)\.json$/.exec(f);
    if (!m) continue;
    const ownerPid = Number(m[1]);
    if (ownerPid === process.pid || readStarttime(ownerPid) === m[2]) continue; // owner alive
    const file = path.join(REGISTRY_DIR, f);
    try {
      const entries = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; starttime: string }[];
      for (const e of entries) {
        if (e.starttime !== '' && readStarttime(e.pid) === e.starttime) {
          signalGroup(e.pid, 'SIGKILL');
          signalPid(e.pid, 'SIGKILL');
          killed.push(e.pid);
        }
      }
    } catch {
      /* unreadable: just drop it */
    }
    fs.rmSync(file, { force: true });
  }
  if (killed.length > 0) console.warn(`processes: killed ${killed.length} process(es) left by a crashed run: ${killed.join(', ')}`);
  return killed;
}
