import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fetchedBinariesByRole, fetchedBinariesOn } from '../../../lib/components';
import { parse } from 'yaml';
import { healthChecks, runningUnitsCommand, stagedVersions } from '../../../lib/output';
import { requirePrograms } from '../../support/programs';
import { fakeProgram } from '../../support/release-archives';
import { SEED, withChanges } from '../../support/clusters';
import { SynthesizedBundles, synthBundles } from '../../support/synth-bundles';
import { cleanupTempDirs } from '../../support/tmp';

afterAll(cleanupTempDirs);

const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
const tools = requirePrograms(['ansible-playbook']);

function ansible(s: SynthesizedBundles, args: string[]) {
  const dist = path.join(s.dir, 'dist');
  const r = spawnSync('ansible-playbook', args, {
    cwd: path.join(dist, 'ansible'),
    encoding: 'utf8',
    timeout: 240_000,
    env: {
      ...process.env,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
      ANSIBLE_LOCAL_TEMP: path.join(s.dir, 'ansible-tmp'),
      ANSIBLE_REMOTE_TEMP: path.join(s.dir, 'ansible-tmp'),
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    },
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** PLAY RECAP lines: host → counters. */
function recap(out: string): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {};
  for (const m of out.matchAll(/^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$/gm)) {
    result[m[1]] = Object.fromEntries([...m[2].matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]));
  }
  return result;
}

(tools.ok ? describe : describe.skip)('ansible roll-out (ansible-core from Debian)', () => {
  let s: SynthesizedBundles;
  let local: string;
  beforeAll(async () => {
    s = await synthBundles(ecdsa);
    // Every host on this machine: its own root and staging directory, no ssh.
    local = path.join(s.dir, 'local.yml');
    const hosts = Object.fromEntries(s.result.model.hosts.map((h) => [h.name, {
      ansible_connection: 'local',
      install_root: path.join(s.dir, 'roots', h.name),
      kubesmith_staging: path.join(s.dir, 'staging', h.name),
    }]));
    fs.writeFileSync(local, JSON.stringify({ all: { hosts } }));
    // What fetch-binaries.sh stages (test/output/rollout/fetch-script.test.ts runs it): stand-ins stating their versions.
    for (const [role, binaries] of fetchedBinariesByRole(s.result.model)) {
      for (const b of binaries) {
        const file = path.join(s.dir, 'dist/binaries', role, b.path);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
      }
    }
    fs.writeFileSync(path.join(s.dir, 'dist/binaries/VERSIONS'), stagedVersions(s.result.model));
  });

  test('the inventory groups hosts by role', () => {
    const inv = fs.readFileSync(path.join(s.dir, 'dist/ansible/inventory.ini'), 'utf8');
    expect(inv).toMatch(/\[etcd\]\nk8s1 ansible_host=192.168.100.10 .*\nk8s2 .*\nk8s3 /);
    expect(inv).toMatch(/\[node\]\nk8s3 .*\nk8s4 ansible_host=192.168.100.40/);
    expect(inv).toMatch(/\[lb\]\nk8s1 .*\nk8s2 /);
  });

  test('live, each host waits after its install.sh for every service that ran on it before (the checks deploy.sh runs), so no role loses two members', () => {
    const tasks = parse(fs.readFileSync(path.join(s.dir, 'dist/ansible/install-bundle.yml'), 'utf8')) as { name?: string; when?: string; 'ansible.builtin.shell'?: string; 'ansible.builtin.command'?: string }[];
    const at = (pred: (t: typeof tasks[number]) => boolean) => tasks.findIndex(pred);
    const running = at((t) => t['ansible.builtin.shell'] === runningUnitsCommand(s.result.model));
    const install = at((t) => t.name === 'install.sh');
    expect(running).toBeGreaterThan(-1);
    expect(running).toBeLessThan(install);
    for (const c of healthChecks(s.result.model)) {
      const wait = at((t) => t['ansible.builtin.command'] === c.command && (t.when ?? '').includes(`'${c.unit}' in kubesmith_running.stdout_lines`));
      expect([c.unit, wait > install]).toEqual([c.unit, true]);
      expect(tasks[wait].when).toMatch(/^\(install_root \| default\('\/'\)\) == '\/' and /);
    }
  });

  test('syntax check passes', () => {
    const r = ansible(s, ['--syntax-check', '-i', 'inventory.ini', 'site.yml']);
    expect([r.status, r.out]).toEqual([0, expect.stringContaining('playbook: site.yml')]);
  });

  test('a run installs every bundle into its host root in the safe order, and a second run changes nothing', () => {
    const first = ansible(s, ['-i', 'inventory.ini', '-i', local, 'site.yml']);
    expect([first.status, first.out]).toEqual([0, expect.anything()]);
    for (const [host, counters] of Object.entries(recap(first.out))) {
      expect([host, counters.failed, counters.unreachable]).toEqual([host, 0, 0]);
    }
    // Each host got the programs of its roles from binaries/ before install.sh checked their versions, and no other.
    const { model } = s.result;
    for (const h of model.hosts) {
      const root = path.join(s.dir, 'roots', h.name);
      for (const b of fetchedBinariesOn(h, model)) {
        const file = path.join(root, b.path);
        expect([h.name, b.path, fs.readFileSync(file, 'utf8'), fs.statSync(file).mode & 0o777]).toEqual([h.name, b.path, fakeProgram(b.program.name, b.release.version), 0o755]);
      }
      if (!h.has('master')) expect([h.name, fs.existsSync(path.join(root, 'opt/kubernetes/bin/kube-apiserver'))]).toEqual([h.name, false]);
      if (!h.has('etcd')) expect([h.name, fs.existsSync(path.join(root, 'opt/etcd/bin/etcd'))]).toEqual([h.name, false]);
    }
    expect(first.out).not.toContain('warning: missing /opt');
    for (const h of s.result.model.hosts) {
      const manifest = s.text(h.name, 'MANIFEST').trim().split('\n').map((l) => l.split(' ')[2]).filter((p) => p.includes('/'));
      for (const p of manifest) expect(fs.existsSync(path.join(s.dir, 'roots', h.name, p))).toBe(true);
    }
    // Plays run in the safe order; each serial batch prints its own PLAY header: one per etcd member,
    // master and lb host (one at a time), nodes in batches of 25% (one each of two).
    const plays = [...first.out.matchAll(/^PLAY \[(.+?)\]/gm)].map((m) => m[1]);
    expect(plays).toEqual([
      'etcd members', 'etcd members', 'etcd members',
      'etcd cluster health',
      'masters', 'masters', 'load balancers', 'load balancers', 'nodes', 'nodes',
    ]);

    const second = ansible(s, ['-i', 'inventory.ini', '-i', local, 'site.yml']);
    expect(second.status).toBe(0);
    const counters = recap(second.out);
    expect(Object.keys(counters).sort()).toEqual(['k8s1', 'k8s2', 'k8s3', 'k8s4']);
    for (const [host, c] of Object.entries(counters)) expect([host, c.changed, c.failed]).toEqual([host, 0, 0]);
  });

  test('check.yml passes on hosts as installed, and fails a host whose files drifted, saying which', () => {
    const clean = ansible(s, ['-i', 'inventory.ini', '-i', local, 'check.yml']);
    expect([clean.status, clean.out]).toEqual([0, expect.anything()]);
    fs.appendFileSync(path.join(s.dir, 'roots', 'k8s2', 'etc/nginx/nginx.conf'), '# edited\n');
    const drifted = ansible(s, ['-i', 'inventory.ini', '-i', local, 'check.yml']);
    expect(drifted.status).not.toBe(0);
    expect(drifted.out).toMatch(/DRIFT content {2}\/etc\/nginx\/nginx\.conf/);
    expect(drifted.out).toContain('k8s2 differs from its bundle');
    const counters = recap(drifted.out);
    expect(Object.entries(counters).filter(([, c]) => c.failed > 0).map(([h]) => h)).toEqual(['k8s2']);
  });

  test("binaries/ of another synth stops the roll-out before its first host, saying so", () => {
    const versions = path.join(s.dir, 'dist/binaries/VERSIONS');
    const good = fs.readFileSync(versions, 'utf8');
    const runc = `runc ${s.result.model.releaseOf('runc').version}`;
    expect(good).toContain(runc);
    fs.writeFileSync(versions, good.replace(runc, 'runc 1.1.12'));
    try {
      const stale = ansible(s, ['-i', 'inventory.ini', '-i', local, 'site.yml', '--limit', 'k8s1']);
      expect(stale.status).not.toBe(0);
      expect(stale.out).toContain("binaries/VERSIONS is not what this synth's fetch-binaries.sh stages");
      expect(stale.out).not.toContain('TASK [install.sh]');
    } finally {
      fs.writeFileSync(versions, good);
    }
  });
});
