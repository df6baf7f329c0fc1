/**
 * One stand-in machine: a network namespace (netns.ts) plus ONE mount namespace
 * that every program of that host shares, in which the host's bundle root
 * (laid out by its own install.sh --root) is bind-mounted at the install paths.
 *
 * test/real gives each program its own private view (inRootView); a whole node
 * needs one shared view, as on a real machine: the kubelet talks to containerd
 * through /run/containerd/containerd.sock, flanneld writes /run/flannel/subnet.env
 * for the CNI plugin that containerd runs, and the kubelet's volume mounts must
 * be seen by runc.
 *
 * How: a holder process (`sleep`) is started with
 *   nsenter --net=/run/netns/NS -- unshare --mount --propagation private -- sh -c 'mount --bind ROOT/P P ...; exec sleep'
 * and every program of the host runs as
 *   nsenter --net=/run/netns/NS --mount=/proc/HOLDER/ns/mnt -- ARGV
 * (nsenter execs, so the tracked PID is the program's). nsenter rather than
 * `ip netns exec`: ip remounts /sys for the namespace, which drops the
 * /sys/fs/cgroup hierarchies the kubelet, containerd and runc need.
 *
 * The mounts exist only inside that mount namespace and go away with its last
 * process. A mount point missing on this machine (e.g. /var/lib/kubelet) is
 * created as an empty directory and removed again by cleanupHostViews()
 * (also on process exit), only if this module created it and it is empty.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Proc, start, StartOptions } from './processes';
import { waitFor } from './wait';

/**
 * What may be bind-mounted over: these paths and anything below them, or anything strictly below /etc, /var/lib
 * or /var/log. Anything wider would hide the machine's own files from the host's programs.
 */
const ALLOWED = ['/opt', '/run', '/usr/local/bin', '/usr/local/sbin'];
const ALLOWED_BELOW = ['/etc', '/var/lib', '/var/log'];

function mayMountOver(p: string): boolean {
  return ALLOWED.some((a) => p === a || p.startsWith(`${a}/`)) || ALLOWED_BELOW.some((a) => p.startsWith(`${a}/`));
}

const createdDirs: string[] = [];
let hookInstalled = false;

export interface HostView {
  readonly host: string;
  readonly netns: string;
  readonly root: string;
  readonly holder: Proc;
  /** argv that runs `argv` on this host (its network and mount namespaces). */
  wrap(argv: readonly string[]): string[];
  /** Starts a program on this host (tracked by processes.ts). */
  start(argv: readonly string[], opts?: Omit<StartOptions, 'netns'>): Proc;
}

function ensureMountPoint(p: string): void {
  if (!mayMountOver(p)) throw new Error(`host view: refusing to mount over ${p}`);
  if (fs.existsSync(p)) return;
  const missing: string[] = [];
  for (let q = p; !fs.existsSync(q); q = path.dirname(q)) missing.unshift(q);
  fs.mkdirSync(p, { recursive: true });
  createdDirs.push(...missing);
  installHook();
}

/**
 * Starts the holder of a host's mount namespace, with ROOT/P bind-mounted on P for every P in
 * `mountPoints` (directories or files; made under ROOT when missing there), and waits until
 * the mounts are in place.
 */
export async function startHostView(host: string, netns: string, root: string, mountPoints: readonly string[], logDir: string): Promise<HostView> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['set -e'];
  for (const p of [...new Set(mountPoints)].sort()) {
    if (!path.isAbsolute(p) || path.normalize(p) !== p) throw new Error(`${p} is not a normalized absolute path`);
    const src = path.join(root, p);
    // A file is mounted over a file (e.g. /etc/nginx/nginx.conf from the OS package), a directory over a directory.
    const srcIsFile = fs.existsSync(src) && fs.statSync(src).isFile();
    const hostIsFile = fs.existsSync(p) && fs.statSync(p).isFile();
    if (srcIsFile !== hostIsFile && fs.existsSync(p)) throw new Error(`${host}: ${src} and ${p} are not both files or both directories`);
    if (srcIsFile && !fs.existsSync(p)) throw new Error(`${host}: ${p} does not exist on this machine (its package is missing?)`);
    ensureMountPoint(p);
    if (!fs.existsSync(src)) fs.mkdirSync(src, { recursive: true });
    lines.push(`mount --bind ${q(src)} ${q(p)}`);
  }
  const ready = path.join(root, 'run', '.host-view-ready');
  lines.push(`: > /run/.host-view-ready`, 'exec sleep 86400');
  if (!mountPoints.includes('/run')) throw new Error('a host view needs a private /run');
  const argv = ['nsenter', `--net=/run/netns/${netns}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', lines.join('\n')];
  const holder = start(argv, { name: `${host}-view`, logDir });
  await waitFor(() => fs.existsSync(ready), { what: `${host}'s mount namespace`, timeoutMs: 10000, proc: holder });
  const wrap = (a: readonly string[]) => ['nsenter', `--net=/run/netns/${netns}`, `--mount=/proc/${holder.pid}/ns/mnt`, '--', ...a];
  return {
    host, netns, root, holder, wrap,
    start: (a, opts = {}) => start(wrap(a), { logDir, ...opts }),
  };
}

/** Removes the mount-point directories this module created (deepest first), when empty. */
export function cleanupHostViews(): void {
  for (const d of [...createdDirs].reverse()) {
    try {
      fs.rmdirSync(d);
    } catch {
      /* not empty or gone */
    }
  }
  createdDirs.length = 0;
}

function installHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => cleanupHostViews());
}
