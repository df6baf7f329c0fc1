/**
 * Every emitted unit through `systemd-analyze verify`, in the root its own
 * install.sh --root laid out, with the system's unit library copied in and
 * stub programs at the paths the bundle's services say to install (plus the
 * OS tools units call). A misspelled key or bad value only prints to stderr
 * (exit 0), so stderr must be empty.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ClusterDefinition } from '../../lib';
import { PATHS } from '../../lib/model';
import { LARGE } from '../support/clusters';
import { run, RunResult } from '../support/processes';
import { describeIf, requirePrograms } from '../support/programs';
import { installCluster, InstalledCluster, REAL_CLUSTER } from '../support/real-cluster';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { cleanupTempDirs } from '../support/tmp';
import { parseUnit, splitWords } from '../support/units';

const tools = requirePrograms(['systemd-analyze', 'tar', 'bash']);

/** The system's unit library (network-online.target, ...): Debian keeps it here. */
const SYSTEM_UNITS = '/usr/lib/systemd/system';
/** OS programs units may call that the bundles do not install (a real host has them). */
const OS_PROGRAMS = ['/sbin/modprobe'];

const STUB = '#!/bin/sh\nexit 0\n';

function verify(root: string, unit: string): Promise<RunResult> {
  return run([tools.path('systemd-analyze'), 'verify', `--root=${root}`, '--man=no', '--generators=no', unit], {
    timeoutMs: 30000, env: { PATH: process.env.PATH ?? '', SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '' },
  });
}

/** Unit files a host's bundle emits (names). */
function emittedUnits(c: InstalledCluster, host: string): string[] {
  const dir = PATHS.systemdUnits.slice(1);
  return [...c.s.bundles.get(host)!.keys()].filter((p) => path.posix.dirname(p) === dir).map((p) => path.posix.basename(p)).sort();
}

/** Units a registered timer starts (its [Timer] Unit=): in the bundle, not registered themselves. unit → timer. */
function timerServices(c: InstalledCluster, host: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of c.s.result.cluster.bundle(host).services.filter((x) => x.unit.endsWith('.timer'))) {
    const timer = parseUnit(fs.readFileSync(c.file(host, `${PATHS.systemdUnits}/${s.unit}`), 'utf8'));
    for (const [k, v] of timer.get('Timer') ?? []) if (k === 'Unit') out.set(v, s.unit);
  }
  return out;
}

/** Puts the stub programs and the system unit library (without replacing the bundle's units) into a host's root. */
function prepareRoot(c: InstalledCluster, host: string, root = c.root(host)): void {
  const bundle = c.s.result.cluster.bundle(host);
  for (const bin of [...bundle.services.filter((s) => !s.packaged).flatMap((s) => s.binaries), ...OS_PROGRAMS]) {
    const file = path.join(root, bin);
    if (fs.existsSync(file)) continue; // a bundle file, e.g. the flannel-network-config script
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, STUB, { mode: 0o755 });
  }
  fs.cpSync(SYSTEM_UNITS, path.join(root, SYSTEM_UNITS), { recursive: true, force: false, errorOnExist: false, verbatimSymlinks: true });
}

describeIf(tools.ok)('systemd-analyze verify', () => {
  jest.setTimeout(60000);
  afterAll(() => { removeTempDirs(); cleanupTempDirs(); });

  describe.each([['the real-component cluster', REAL_CLUSTER], ['LARGE', LARGE]] as const)('%s', (_name, def: ClusterDefinition) => {
    let c: InstalledCluster;
    beforeAll(async () => {
      c = await installCluster(def, { standIns: false });
      for (const h of c.model.hosts) prepareRoot(c, h.name);
    });

    test('every service a bundle registers (but the OS packages\' nginx and keepalived) has its unit in the bundle, and only those', () => {
      for (const h of c.model.hosts) {
        const services = c.s.result.cluster.bundle(h.name).services.filter((s) => !s.packaged).map((s) => s.unit);
        expect([h.name, emittedUnits(c, h.name)]).toEqual([h.name, [...services, ...timerServices(c, h.name).keys()].sort()]);
      }
    });

    test('every emitted unit verifies with empty stderr, and its commands are absolute paths the bundle says to install', async () => {
      for (const h of c.model.hosts) {
        const bundle = c.s.result.cluster.bundle(h.name);
        for (const unit of emittedUnits(c, h.name)) {
          const r = await verify(c.root(h.name), unit);
          expect([h.name, unit, r.code, r.stderr]).toEqual([h.name, unit, 0, '']);
          // The ExecStart binary is what install.sh checks for: a unit naming another path would never start.
          const parsed = parseUnit(fs.readFileSync(c.file(h.name, `${PATHS.systemdUnits}/${unit}`), 'utf8'));
          const exec = (parsed.get('Service') ?? []).filter(([k]) => k === 'ExecStart').map(([, v]) => splitWords(v)[0].word.replace(/^[-@:+!]+/, ''));
          const svc = bundle.services.find((s) => s.unit === (timerServices(c, h.name).get(unit) ?? unit))!;
          const known = [...svc.binaries, ...bundle.files.filter((f) => f.mode & 0o111).map((f) => `/${f.path}`)];
          expect([h.name, unit, exec.filter((b) => !known.includes(b))]).toEqual([h.name, unit, []]);
        }
      }
    });
  });

  describe('it can fail: mistakes in a unit', () => {
    let c: InstalledCluster;
    beforeAll(async () => { c = await installCluster(REAL_CLUSTER, { standIns: false }); });

    /** A copy of m1's prepared root with etcd.service edited. */
    function rootWithEtcdUnit(edit: (unit: string) => string): string {
      const root = path.join(makeTempDir('systemd-mutant'), 'root');
      fs.cpSync(c.root('m1'), root, { recursive: true, verbatimSymlinks: true });
      prepareRoot(c, 'm1', root);
      const file = path.join(root, PATHS.systemdUnits, 'etcd.service');
      const before = fs.readFileSync(file, 'utf8');
      const after = edit(before);
      expect(after).not.toBe(before);
      fs.writeFileSync(file, after);
      return root;
    }

    test.each([
      ['a misspelled key', (u: string) => u.replace('RestartSec=', 'RestartSecc='), 0, /Unknown key( name)? 'RestartSecc' in section '?\[?Service\]?'?, ignoring/],
      ['a bad value', (u: string) => u.replace('Type=notify', 'Type=notifyy'), 0, /Failed to parse service type, ignoring: notifyy/],
      ['an ExecStart binary that is not installed', (u: string) => u.replace('ExecStart=/opt/etcd/bin/etcd', 'ExecStart=/opt/etcd/bin/etcd3'), 1, /is not executable/],
    ])('%s', async (_what, edit, code, message) => {
      const r = await verify(rootWithEtcdUnit(edit), 'etcd.service');
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
    });
  });
});
