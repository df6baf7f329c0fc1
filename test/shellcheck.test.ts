import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterDefinition } from '../lib/model';
import { SEED, withChanges } from './support/clusters';
import { describeIf, requirePrograms } from './support/programs';
import { synthBundles } from './support/synth-bundles';
import { cleanupTempDirs, tempDir } from './support/tmp';

afterAll(cleanupTempDirs);

/**
 * Every shell script an operator runs passes shellcheck at its default severity (style included): the repository's
 * own scripts, and the rendered ones (deploy.sh, fetch-binaries.sh, every script in every host's bundle) of the seed
 * and of an upgrade (deploy.sh then carries the waves). A finding that is intended carries a `# shellcheck disable`
 * directive with its reason, next to the line.
 */
const tools = requirePrograms(['shellcheck', 'tar']);
const ROOT = path.join(__dirname, '..');

function shellcheck(files: readonly string[]): string[] {
  const r = spawnSync(tools.path('shellcheck'), ['--format=gcc', '--external-sources', ...files], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  // 0: no finding; 1: findings (on stdout); anything else is shellcheck failing.
  if (r.status !== 0 && r.status !== 1) throw new Error(`shellcheck exited ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^.*\/rendered\//, ''));
}

/** The .sh files under dir, recursively. */
function scriptsUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile() && e.name.endsWith('.sh'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Lays the scripts of one synth out under out/<label>/: dist's own, and each host's bundle unpacked. */
async function renderedScripts(label: string, defs: readonly ClusterDefinition[], out: string): Promise<string[]> {
  const dir = tempDir();
  let s = await synthBundles(defs[0], dir);
  for (const d of defs.slice(1)) s = await synthBundles(d, dir);
  const at = path.join(out, label);
  fs.mkdirSync(at, { recursive: true });
  for (const f of ['deploy.sh', 'fetch-binaries.sh']) fs.copyFileSync(path.join(dir, 'dist', f), path.join(at, f));
  for (const h of s.result.model.hosts) {
    const hostDir = path.join(at, h.name);
    fs.mkdirSync(hostDir);
    const t = spawnSync(tools.path('tar'), ['-xzf', s.archive(h.name), '-C', hostDir], { encoding: 'utf8', timeout: 30_000 });
    expect([h.name, t.status]).toEqual([h.name, 0]);
  }
  return scriptsUnder(at);
}

describeIf(tools.ok)('shellcheck passes every script an operator runs', () => {
  test("the repository's scripts", () => {
    const files = ['scripts', 'bench'].flatMap((d) => scriptsUnder(path.join(ROOT, d)));
    // lib/output/rollout/upgrade.sh is checked as part of the deploy.sh it goes into, install-script.sh as install.sh.
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(shellcheck(files)).toEqual([]);
  });

  test('the rendered scripts of the seed and of an upgrade', async () => {
    const out = path.join(tempDir(), 'rendered');
    const ecdsa = { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' as const } };
    const seed = await renderedScripts('seed', [SEED], out);
    const upgrade = await renderedScripts('upgrade', [withChanges(SEED, { kubernetesVersion: '1.36.5', ...ecdsa }), withChanges(SEED, ecdsa)], out);
    const names = new Set([...seed, ...upgrade].map((f) => path.basename(f)));
    for (const n of ['deploy.sh', 'fetch-binaries.sh', 'install.sh', 'etcd-snapshot.sh', 'etcd-restore.sh', 'etcd-member.sh']) expect(names).toContain(n);
    // The upgrade's deploy.sh carries a target and its steps.
    expect(fs.readFileSync(path.join(out, 'upgrade', 'deploy.sh'), 'utf8')).toMatch(/^UPGRADE_TARGET='kubernetes=1\.37\.\d+ /m);
    expect(shellcheck([...seed, ...upgrade])).toEqual([]);
  });
});
