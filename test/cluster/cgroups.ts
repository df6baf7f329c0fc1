/**
 * The kubelets of test/cluster run with the cgroupfs driver under their own cgroupRoot
 * (definition.ts SANDBOX). Their cgroups are removed afterwards, deepest first, in every
 * mounted hierarchy. A process still inside one was started by that kubelet's containers
 * (the root is unique to this run), so it is killed first.
 */
import * as fs from 'fs';
import * as path from 'path';

const CGROUP_FS = '/sys/fs/cgroup';
const made: string[] = [];
let hookInstalled = false;

function hierarchies(): string[] {
  if (!fs.existsSync(CGROUP_FS)) return [];
  return fs.readdirSync(CGROUP_FS).map((d) => path.join(CGROUP_FS, d)).filter((d) => fs.existsSync(path.join(d, 'cgroup.procs')));
}

function removeTree(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(path.join(dir, e.name));
  for (let attempt = 0; attempt < 20; attempt++) {
    let pids: number[] = [];
    try {
      pids = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    try {
      fs.rmdirSync(dir);
      return;
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** Removes the cgroup trees `roots` (e.g. /kubesmith-boot-123-k8s3) from every hierarchy. Returns what was removed. */
export function removeCgroups(roots: readonly string[]): string[] {
  const removed: string[] = [];
  for (const root of roots) {
    if (!/^\/kubesmith-[A-Za-z0-9-]+$/.test(root)) throw new Error(`refusing to remove cgroup ${root}`);
    for (const h of hierarchies()) {
      const dir = path.join(h, root);
      if (!fs.existsSync(dir)) continue;
      removeTree(dir);
      removed.push(dir);
    }
  }
  return removed;
}

/**
 * Makes the cgroup `root` in every mounted hierarchy (the kubelet requires its cgroupRoot to exist;
 * on a real machine it would be the default root, "/"). A new cpuset cgroup starts with no CPUs and no
 * memory nodes, so those are copied from the top.
 */
export function createCgroups(roots: readonly string[]): void {
  reapStaleCgroups();
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => removeCgroups(made));
  }
  for (const root of roots) {
    made.push(root);
    if (!/^\/kubesmith-[A-Za-z0-9-]+$/.test(root)) throw new Error(`refusing to create cgroup ${root}`);
    for (const h of hierarchies()) {
      const dir = path.join(h, root);
      fs.mkdirSync(dir, { recursive: true });
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (fs.existsSync(path.join(h, f))) fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(h, f), 'utf8').trim() || '0');
      }
    }
  }
}

/** Roots /kubesmith-<label>-<pid>-<host> left by a run whose process is gone (a crashed run): removed. */
export function reapStaleCgroups(): string[] {
  const stale = new Set<string>();
  for (const h of hierarchies()) {
    for (const d of fs.readdirSync(h)) {
      const m = /^kubesmith-[a-z0-9]+-(\d+)-[A-Za-z0-9-]+$/.exec(d);
      if (!m || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') stale.add(`/${d}`);
      }
    }
  }
  if (stale.size > 0) console.warn(`cgroups: removing ${[...stale].join(', ')} left by a crashed run`);
  return removeCgroups([...stale]);
}
