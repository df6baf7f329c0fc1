/**
 * Network namespaces as stand-in hosts, joined by veth pairs and a bridge that
 * all live in namespaces of their own. Needs root (CAP_NET_ADMIN/SYS_ADMIN).
 *
 *   const br = createBridge('lan');                       // a namespace holding bridge br0
 *   const a = createNamespace('cp1'), b = createNamespace('cp2');
 *   attachToBridge(br, a, 'ens33', '10.99.0.1/24');       // the caller names the interface
 *   attachToBridge(br, b, 'ens33', '10.99.0.2/24');
 *   exec(a, ['ping', '-c1', '-W1', '10.99.0.2']);          // only ever via ip netns exec
 *   afterAll(() => { cleanupAll(); });
 *
 * Isolation rules this module keeps:
 *  - No interface is ever created in, or moved to, the host's namespace: veth
 *    pairs are created inside the bridge's (or a test) namespace with
 *    `ip -n NS link add ... peer name X netns OTHER`. So nothing in the host
 *    namespace can route to namespace addresses; they are reached only with
 *    `ip netns exec`.
 *  - Names are `ks-<pid>-<random>-<label>`, so parallel runs never clash.
 *  - cleanupAll() deletes everything this process made (safe to call twice)
 *    and also runs on process exit; namespaces left by a crashed run (whose
 *    pid is gone) are deleted on the next run's first createNamespace().
 *  - Deleting a namespace name does not end the processes inside it, so
 *    cleanup first SIGKILLs the processes still inside namespaces that this
 *    process created (they can only have been started by this test run).
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import { ipBinary, pidExists } from './processes';

export interface Bridge {
  /** Namespace holding the bridge. */
  readonly ns: string;
  /** Bridge device name inside that namespace. */
  readonly dev: string;
}

export interface ExecResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const created = new Set<string>();
const peerCount = new Map<string, number>();
let hookInstalled = false;
let staleReaped = false;

const PREFIX = 'ks-';

function ip(args: readonly string[], timeoutMs = 10000): ExecResult {
  const r = spawnSync(ipBinary(), args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function ipOk(args: readonly string[]): string {
  const r = ip(args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Linux interface names: 1-15 chars, no '/', ':' or whitespace. */
export function assertIfname(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new Error(`invalid interface name ${JSON.stringify(name)} (1-15 chars of [A-Za-z0-9_.-])`);
}

/**
 * Creates an empty network namespace named `ks-<pid>-<rand>-<label>` with `lo`
 * up, and returns its name.
 */
export function createNamespace(label = 'host'): string {
  installHook();
  if (!staleReaped) {
    staleReaped = true;
    reapStaleNamespaces();
  }
  const safe = label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 24);
  const name = `${PREFIX}${process.pid}-${crypto.randomBytes(3).toString('hex')}-${safe}`;
  ipOk(['netns', 'add', name]);
  created.add(name);
  ipOk(['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

/** Creates a namespace holding a bridge device (default `br0`, up): the shared L2 segment. */
export function createBridge(label = 'lan', dev = 'br0'): Bridge {
  assertIfname(dev);
  const ns = createNamespace(`br-${label}`);
  ipOk(['-n', ns, 'link', 'add', dev, 'type', 'bridge']);
  ipOk(['-n', ns, 'link', 'set', dev, 'up']);
  return { ns, dev };
}

/**
 * Plugs namespace `ns` into the bridge with an interface named `ifname`
 * (e.g. `ens33`), brings it up and assigns the given CIDR addresses. The
 * veth pair is made inside the bridge's namespace, its end moved straight
 * into `ns`; the host namespace never sees either end.
 */
export function attachToBridge(bridge: Bridge, ns: string, ifname: string, cidrs: string | readonly string[] = []): void {
  assertIfname(ifname);
  const n = (peerCount.get(bridge.ns) ?? 0) + 1;
  peerCount.set(bridge.ns, n);
  const port = `p${n}`;
  ipOk(['-n', bridge.ns, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
  ipOk(['-n', bridge.ns, 'link', 'set', port, 'master', bridge.dev]);
  ipOk(['-n', bridge.ns, 'link', 'set', port, 'up']);
  ipOk(['-n', ns, 'link', 'set', ifname, 'up']);
  for (const c of typeof cidrs === 'string' ? [cidrs] : cidrs) addAddress(ns, ifname, c);
}

/** A direct veth cable between two namespaces (no bridge), both ends up. */
export function connectPair(nsA: string, ifA: string, nsB: string, ifB: string): void {
  assertIfname(ifA);
  assertIfname(ifB);
  ipOk(['-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
  ipOk(['-n', nsA, 'link', 'set', ifA, 'up']);
  ipOk(['-n', nsB, 'link', 'set', ifB, 'up']);
}

/** `ip -n NS addr add CIDR dev IFNAME`. */
export function addAddress(ns: string, ifname: string, cidr: string): void {
  if (!/^[0-9A-Fa-f.:]+\/\d{1,3}$/.test(cidr)) throw new Error(`addAddress: ${cidr} is not ADDRESS/PREFIX`);
  ipOk(['-n', ns, 'addr', 'add', cidr, 'dev', ifname]);
}

/** IPv4 addresses (without prefix) currently on an interface in `ns`. */
export function addressesOf(ns: string, ifname: string): string[] {
  const out = ipOk(['-n', ns, '-4', '-o', 'addr', 'show', 'dev', ifname]);
  return [...out.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}

/** Interface names in `ns`. */
export function linksOf(ns: string): string[] {
  return ipOk(['-n', ns, '-o', 'link', 'show']).split('\n').filter(Boolean).map((l) => l.split(': ')[1].split('@')[0]);
}

/**
 * Runs argv inside `ns` (`ip netns exec ns argv...`) to completion, bounded by
 * timeoutMs (default 10 s, then SIGKILL). Synchronous: for short commands.
 */
export function exec(ns: string, argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): ExecResult {
  const r = spawnSync(ipBinary(), ['netns', 'exec', ns, ...argv], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 10000,
    killSignal: 'SIGKILL',
    input: opts.input,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Like exec, but throws (with stderr) unless it exits 0; returns stdout. */
export function execOk(ns: string, argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): string {
  const r = exec(ns, argv, opts);
  if (r.status !== 0) throw new Error(`in ${ns}: ${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Namespaces that exist now (all of them, not only ours). */
export function listNamespaces(): string[] {
  return ip(['netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

/** Namespaces made by this process and not yet deleted. */
export function ownNamespaces(): string[] {
  return [...created];
}

/** PIDs of processes inside `ns`. */
export function pidsIn(ns: string): number[] {
  return ip(['netns', 'pids', ns]).stdout.split('\n').filter(Boolean).map(Number);
}

/** Deletes one namespace this process made, killing processes left inside it first. */
export function deleteNamespace(ns: string): void {
  if (!created.has(ns)) throw new Error(`deleteNamespace: ${ns} was not made by this process`);
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const r = ip(['netns', 'del', ns]);
  if (r.status !== 0 && listNamespaces().includes(ns)) throw new Error(`ip netns del ${ns}: ${r.stderr.trim()}`);
  created.delete(ns);
  peerCount.delete(ns);
}

/**
 * Deletes every namespace this process made (bridges last, which also removes
 * the veth pairs). Safe to call more than once; also runs on process exit.
 * Returns the names it deleted.
 */
export function cleanupAll(): string[] {
  const all = [...created].sort((a, b) => Number(a.includes('-br-')) - Number(b.includes('-br-')));
  const errors: string[] = [];
  for (const ns of all) {
    try {
      deleteNamespace(ns);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new Error(`netns cleanup: ${errors.join('; ')}`);
  return all;
}

/**
 * Deletes `ks-<pid>-...` namespaces whose creating process no longer exists
 * (left by a crashed run). Processes still inside them are not touched here;
 * processes.ts reaps the ones a crashed run started. Returns the names deleted.
 */
export function reapStaleNamespaces(): string[] {
  const gone: string[] = [];
  for (const ns of listNamespaces()) {
    const m = /^ks-(\d+)-[0-9a-f]{6}-/.exec(ns);
    if (!m || Number(m[1]) === process.pid || pidExists(Number(m[1]))) continue;
    if (ip(['netns', 'del', ns]).status === 0) gone.push(ns);
  }
  if (gone.length > 0) console.warn(`netns: deleted ${gone.length} namespace(s) left by a crashed run: ${gone.join(', ')}`);
  return gone;
}

function installHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    try {
      cleanupAll();
    } catch (e) {
      console.error(String(e));
    }
  });
}
