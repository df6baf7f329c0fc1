/**
 * Bounded polling. Every wait here has a hard time limit and fails with an
 * error that names what was awaited, how long, and the last thing seen.
 *
 *   await waitFor(() => fs.existsSync(pidFile), { what: 'nginx pid file', timeoutMs: 5000 });
 *   await waitForPort('127.0.0.1', 2379, { proc: etcd });        // loopback only
 *   await waitForPortInNetns(ns, '10.99.0.1', 6443);              // via ip netns exec
 *
 * Network safety: waitForPort connects only to loopback (127.0.0.0/8, ::1,
 * localhost) and throws for any other address; addresses inside a test network
 * namespace are reached only from inside it (waitForPortInNetns).
 */
import * as net from 'net';
import type { Proc } from './processes';
import { run } from './processes';

export interface WaitOptions {
  /** What is awaited, for the error message, e.g. "etcd1 client port 127.0.0.1:2379". */
  what: string;
  /** Hard bound. Default 10000 ms. */
  timeoutMs?: number;
  /** Pause between checks. Default 100 ms. */
  intervalMs?: number;
  /** Fail at once (with its output) if this process exits while waiting. */
  proc?: Proc;
}

export class WaitTimeoutError extends Error {}

/**
 * Calls `check` until it returns a truthy value (which is returned), or throws
 * WaitTimeoutError after timeoutMs. A check that throws counts as "not yet";
 * its last error is included in the message. A single slow check is also cut
 * off at the deadline.
 */
export async function waitFor<T>(check: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 10000;
  const intervalMs = opts.intervalMs ?? 100;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let last = 'no check completed';
  for (let attempt = 1; ; attempt++) {
    exitedCheck(opts);
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const r = await raceDeadline(Promise.resolve().then(check), left);
      if (r.done) {
        if (r.value) return r.value as Exclude<T, false | 0 | '' | null | undefined>;
        last = `check returned ${JSON.stringify(r.value)}`;
      } else {
        last = 'last check still running at the deadline';
      }
    } catch (e) {
      last = `check threw: ${(e as Error).message ?? String(e)}`;
    }
    exitedCheck(opts);
    const pause = Math.min(intervalMs, deadline - Date.now());
    if (pause <= 0) {
      last += ` (after ${attempt} attempt(s))`;
      break;
    }
    await sleep(pause);
  }
  throw new WaitTimeoutError(
    `Timed out after ${Date.now() - started} ms (limit ${timeoutMs} ms) waiting for ${opts.what}; ${last}` +
      (opts.proc ? `\n--- ${opts.proc.name} (pid ${opts.proc.pid}) output tail ---\n${opts.proc.tail()}` : ''),
  );
}

function exitedCheck(opts: WaitOptions): void {
  const info = opts.proc?.exitInfo();
  if (opts.proc && info) {
    throw new Error(
      `${opts.proc.name} (pid ${opts.proc.pid}) exited (code ${info.code}, signal ${info.signal}) while waiting for ${opts.what}` +
        `\n--- output tail ---\n${opts.proc.tail()}`,
    );
  }
}

async function raceDeadline<T>(p: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<{ done: false }>((resolve) => (timer = setTimeout(() => resolve({ done: false }), ms)));
  try {
    return await Promise.race([p.then((value) => ({ done: true as const, value })), t]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True for 127.0.0.0/8, ::1 and localhost: the only addresses the host side may connect to. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** One TCP connect attempt to a loopback address, bounded by timeoutMs. Resolves true if accepted. */
export function tcpConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  if (!isLoopback(host)) {
    return Promise.reject(new Error(`refusing to connect to ${host}: only loopback addresses may be reached from the host namespace`));
  }
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Waits until a TCP port on a loopback address accepts connections. */
export async function waitForPort(
  host: string,
  port: number,
  opts: Partial<WaitOptions> = {},
): Promise<void> {
  if (!isLoopback(host)) throw new Error(`waitForPort: ${host} is not loopback; use waitForPortInNetns for namespace addresses`);
  await waitFor(() => tcpConnect(host, port, 1000), { what: `TCP ${host}:${port} to accept connections`, ...opts });
}

/**
 * Waits until a TCP port accepts connections, connecting from inside network
 * namespace `ns` (`ip netns exec ns bash -c 'exec 3<>/dev/tcp/HOST/PORT'`),
 * so the address is only ever reached within the namespaces' own network.
 */
export async function waitForPortInNetns(
  ns: string,
  host: string,
  port: number,
  opts: Partial<WaitOptions> = {},
): Promise<void> {
  if (!/^[0-9A-Fa-f.:]+$/.test(host) || !Number.isInteger(port)) throw new Error(`waitForPortInNetns: bad address ${host}:${port}`);
  await waitFor(
    async () => {
      const r = await run(['timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], { netns: ns, timeoutMs: 3000 });
      if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
      return true;
    },
    { what: `TCP ${host}:${port} in netns ${ns} to accept connections`, intervalMs: 200, ...opts },
  );
}

/** Waits until something in `ns` listens on TCP `port` (checked with `ss` inside the namespace; sends no traffic). */
export async function waitForListenInNetns(ns: string, port: number, opts: Partial<WaitOptions> = {}): Promise<void> {
  await waitFor(
    async () => {
      const r = await run(['ss', '-Hltn', `sport = :${port}`], { netns: ns, timeoutMs: 3000 });
      return r.code === 0 && r.stdout.trim() !== '';
    },
    { what: `a TCP listener on port ${port} in netns ${ns}`, intervalMs: 200, ...opts },
  );
}
