/**
 * Crash safety, by fault injection: a synth is killed (SIGKILL, from strace) at its Nth rename, for every N a
 * synth has, on a first synth and on a later one that re-issues certificates and rewrites bundles. After each kill
 * the next synth must succeed with the same CAs as any state that had been published, leave no temp file, and
 * make output that belongs to that state; the one after it must change nothing.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterDefinition, ClusterModel } from '../../lib';
import { caIds } from '../../lib/pki';
import { SEED, withChanges } from '../support/clusters';
import { describeIf, requirePrograms } from '../support/programs';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const tools = requirePrograms(['strace']);
const ROOT = path.join(__dirname, '../..');
const DRIVER = [process.execPath, '--require', path.join(ROOT, 'lib/typescript-loader.js'), path.join(ROOT, 'test/support/synth-driver.ts')];
const DEF: ClusterDefinition = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
// A later synth with work to do: a new master re-issues the apiserver certificate, and every bundle changes.
const GROWN: ClusterDefinition = withChanges(DEF, {
  hosts: [...DEF.hosts, { name: 'k8s5', ip: '192.168.100.60', interface: 'ens33', roles: ['master'] }],
});

interface Dirs { dir: string; outdir: string; stateDir: string }

function synth(def: ClusterDefinition, d: Dirs, inject?: number): { status: number | null; signal: NodeJS.Signals | null; stderr: string; renames: number } {
  const defFile = path.join(d.dir, `def-${crypto.randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(defFile, JSON.stringify(def));
  const trace = path.join(d.dir, 'trace');
  const strace = [tools.path('strace'), '-f', '-qq', '-o', trace, '-e', 'trace=rename',
    ...(inject ? ['-e', `inject=rename:signal=KILL:when=${inject}`] : [])];
  const r = spawnSync(strace[0], [...strace.slice(1), ...DRIVER, defFile, d.outdir, d.stateDir], { encoding: 'utf8', timeout: 120000 });
  const renames = fs.readFileSync(trace, 'utf8').split('\n').filter((l) => / rename\(/.test(l)).length;
  fs.rmSync(defFile);
  fs.rmSync(trace);
  return { status: r.status, signal: r.signal, stderr: r.stderr, renames };
}

function caFingerprints(stateDir: string): Record<string, string> | undefined {
  if (!fs.existsSync(path.join(stateDir, 'ca'))) return undefined;
  return Object.fromEntries(fs.readdirSync(path.join(stateDir, 'ca')).filter((f) => f.endsWith('.crt')).sort()
    .map((f) => [f.replace(/\.crt$/, ''), new crypto.X509Certificate(fs.readFileSync(path.join(stateDir, 'ca', f))).fingerprint256]));
}

function tempFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      if (/\.tmp-|\.new-/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** After a kill: the next synth succeeds, keeps published CAs, cleans up, and the one after changes nothing. */
function recoverAndCheck(def: ClusterDefinition, d: Dirs, label: string, casBefore: Record<string, string> | undefined): void {
  const after = synth(def, d);
  expect([label, after.status, after.stderr.split('\n').filter((l) => /error|Error/.test(l))]).toEqual([label, 0, []]);
  const cas = caFingerprints(d.stateDir)!;
  if (casBefore) expect([label, cas]).toEqual([label, casBefore]);
  expect([label, tempFiles(d.dir)]).toEqual([label, []]);
  const identity = JSON.parse(fs.readFileSync(path.join(d.outdir, 'cluster.json'), 'utf8'));
  expect([label, identity.cas]).toEqual([label, Object.fromEntries(caIds(ClusterModel.fromDefinition(def)).map((id) => [id, cas[id]]))]);
  const again = synth(def, d);
  expect([label, again.status, again.stderr.trim().split('\n').pop()]).toEqual([label, 0, 'kubesmith: cluster kubesmith: nothing changed']);
}

describeIf(tools.ok)('a synth killed at every rename', () => {
  jest.setTimeout(900000);

  test('of a first synth: the state is published whole or not at all, and the next synth recovers', () => {
    // Sanity: the driver ran a synth (a first synth renames the state into place, and writes every output file).
    const probe = tempDir();
    const clean = synth(DEF, { dir: probe, outdir: path.join(probe, 'dist'), stateDir: path.join(probe, 'state') });
    expect(clean.status).toBe(0);
    expect(clean.renames).toBeGreaterThan(10);
    for (let n = 1; n <= clean.renames; n++) {
      const dir = tempDir();
      const d = { dir, outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state') };
      const killed = synth(DEF, d, n);
      expect([n, killed.signal ?? killed.status]).toEqual([n, expect.anything()]);
      expect([n, killed.status]).not.toEqual([n, 0]);
      const published = caFingerprints(d.stateDir);
      // Nothing of the output exists before the state does.
      if (!published) expect([n, fs.existsSync(path.join(d.outdir, 'cluster.json'))]).toEqual([n, false]);
      recoverAndCheck(DEF, d, `first synth killed at rename ${n}`, published);
    }
  });

  test('of a later synth that re-issues certificates and rewrites bundles: the next synth finishes it with the same CAs', () => {
    const base = tempDir();
    const b = { dir: base, outdir: path.join(base, 'dist'), stateDir: path.join(base, 'state') };
    expect(synth(DEF, b).status).toBe(0);
    const cas = caFingerprints(b.stateDir);
    const probe = tempDir();
    fs.cpSync(base, probe, { recursive: true });
    const clean = synth(GROWN, { dir: probe, outdir: path.join(probe, 'dist'), stateDir: path.join(probe, 'state') });
    expect(clean.status).toBe(0);
    expect(clean.renames).toBeGreaterThan(5);
    for (let n = 1; n <= clean.renames; n++) {
      const dir = tempDir();
      fs.cpSync(base, dir, { recursive: true });
      const d = { dir, outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state') };
      const killed = synth(GROWN, d, n);
      expect([n, killed.status]).not.toEqual([n, 0]);
      recoverAndCheck(GROWN, d, `later synth killed at rename ${n}`, cas);
    }
  });
});
