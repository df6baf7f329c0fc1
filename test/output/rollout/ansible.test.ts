import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fetchedBinariesByRole, fetchedBinariesOn } from '../../../lib/components';
import { parse } from 'yaml';
import {
  UPGRADE_PATHS, healthChecks, renderPlaybook, runningUnitsCommand, stagedVersions,
} from '../../../lib/output';
import { ClusterModel } from '../../../lib/model';
import { UpgradePlan, upgradePlan, versionsOf } from '../../../lib/upgrade';
import { requirePrograms } from '../../support/programs';
import { fakeProgram } from '../../support/release-archives';
import { SEED, withChanges } from '../../support/clusters';
import { SynthesizedBundles, synthBundles } from '../../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../../support/tmp';

afterAll(cleanupTempDirs);

const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
const tools = requirePrograms(['ansible-playbook']);

function ansible(s: SynthesizedBundles, args: string[], env: Record<string, string> = {}) {
  const dist = path.join(s.dir, 'dist');
  const r = spawnSync('ansible-playbook', args, {
    cwd: path.join(dist, 'ansible'),
    encoding: 'utf8',
    // A bound, not a measure: four hosts of ansible tasks take several minutes on a 2-core machine.
    timeout: 600_000,
    env: {
      ...process.env,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
      ANSIBLE_LOCAL_TEMP: path.join(s.dir, 'ansible-tmp'),
      ANSIBLE_REMOTE_TEMP: path.join(s.dir, 'ansible-tmp'),
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
      ANSIBLE_PIPELINING: 'true',
      ...env,
    },
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** Every host on this machine: its own root and staging directory, no ssh (with `live`, no root: the live system). */
function localInventory(s: SynthesizedBundles, name = 'local.yml', live = false): string {
  const file = path.join(s.dir, name);
  const hosts = Object.fromEntries(s.result.model.hosts.map((h) => [h.name, {
    ansible_connection: 'local',
    ...(live ? {} : { install_root: path.join(s.dir, 'roots', h.name) }),
    kubesmith_staging: path.join(s.dir, 'staging', h.name),
  }]));
  fs.writeFileSync(file, JSON.stringify({ all: { hosts } }));
  return file;
}

/** What fetch-binaries.sh stages (test/output/rollout/fetch-script.test.ts runs it): stand-ins stating their versions. */
function stageBinaries(s: SynthesizedBundles): void {
  fs.rmSync(path.join(s.dir, 'dist/binaries'), { recursive: true, force: true });
  for (const [role, binaries] of fetchedBinariesByRole(s.result.model)) {
    for (const b of binaries) {
      const file = path.join(s.dir, 'dist/binaries', role, b.path);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
    }
  }
  fs.writeFileSync(path.join(s.dir, 'dist/binaries/VERSIONS'), stagedVersions(s.result.model));
}

interface Play { name: string; hosts: string; vars?: Record<string, unknown>; tasks: Record<string, unknown>[] }
const playsOf = (s: SynthesizedBundles): Play[] => parse(fs.readFileSync(path.join(s.dir, 'dist/ansible/site.yml'), 'utf8')) as Play[];

/** PLAY headers of a run, in order. */
const playHeaders = (out: string) => [...out.matchAll(/^PLAY \[(.+?)\]/gm)].map((m) => m[1]);

/** The tasks of a run under each PLAY header whose name starts with `prefix`, and whether each ran (not skipped) there. */
function tasksByPlay(out: string, prefix: string): [string, { name: string; ran: boolean }[]][] {
  return out.split(/^(?=PLAY \[)/m).filter((b) => b.startsWith(`PLAY [${prefix}`)).map((b) => [
    b.match(/^PLAY \[(.+?)\]/)![1],
    b.split(/^(?=TASK \[)/m).slice(1).map((t) => ({ name: t.match(/^TASK \[(.+?)\]/)![1], ran: /^(ok|changed|failed|fatal): \[/m.test(t) })),
  ]);
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
    local = localInventory(s);
    stageBinaries(s);
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
      // The shell module: a check may be a command line ("curl ... && sleep 11", which the command module would pass to curl).
      const wait = at((t) => t['ansible.builtin.shell'] === c.command && (t.when ?? '').includes(`'${c.unit}' in kubesmith_running.stdout_lines`));
      expect([c.unit, wait > install]).toEqual([c.unit, true]);
      expect(tasks[wait].when).toMatch(/^\(install_root \| default\('\/'\)\) == '\/' and /);
    }
  });

  test('without an upgrade, site.yml has the ordinary plays only: no preflight, no step, no addons play', () => {
    const plays = playsOf(s);
    expect(plays.map((p) => p.name)).toEqual(['etcd members', 'etcd cluster health', 'masters', 'load balancers', 'nodes', 'node-role labels on the registered Nodes (a Node not registered yet is labelled by the next run)']);
    const site = fs.readFileSync(path.join(s.dir, 'dist/ansible/site.yml'), 'utf8');
    expect(site).not.toContain('--units');
    expect(site).not.toContain(UPGRADE_PATHS.reached);
    expect(site).toBe(renderPlaybook(s.result.model, s.result.cluster.membership));
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
      'node-role labels on the registered Nodes (a Node not registered yet is labelled by the next run)',
    ]);
    // Hosts laid out under an install_root have no Nodes: the labels are not asked of any cluster.
    expect(first.out).toMatch(/TASK \[label each registered Node[^\]]*\] \**\nskipping: \[localhost\]/);

    const second = ansible(s, ['-i', 'inventory.ini', '-i', local, 'site.yml']);
    expect(second.status).toBe(0);
    const counters = recap(second.out);
    expect(Object.keys(counters).sort()).toEqual(['k8s1', 'k8s2', 'k8s3', 'k8s4', 'localhost']);
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

(tools.ok ? describe : describe.skip)('ansible roll-out of an upgrade (1.36.5, then 1.37.2 into the same state)', () => {
  const at = (kubernetesVersion: string) => withChanges(ecdsa, { kubernetesVersion });
  let before: SynthesizedBundles;
  let after: SynthesizedBundles;
  let plan: UpgradePlan;
  let local: string;
  let steps: UpgradePlan['waves'][number]['steps'][number][];
  const root = (host: string, p: string) => path.join(after.dir, 'roots', host, p);
  const fake = (model: ClusterModel, p: string) => {
    const b = [...fetchedBinariesByRole(model).values()].flat().find((x) => x.path === p)!;
    return fakeProgram(b.program.name, b.release.version);
  };

  beforeAll(async () => {
    const dir = tempDir();
    // The hosts run 1.36.5: each host's programs of that synth in its root, and its bundle's install.sh run there
    // (what site.yml does per host; the run above covers site.yml itself).
    before = await synthBundles(at('1.36.5'), dir);
    local = localInventory(before);
    for (const h of before.result.model.hosts) {
      const root = path.join(dir, 'roots', h.name);
      for (const b of fetchedBinariesOn(h, before.result.model)) {
        fs.mkdirSync(path.dirname(path.join(root, b.path)), { recursive: true });
        fs.writeFileSync(path.join(root, b.path), fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
      }
      const bundle = tempDir();
      const unpacked = spawnSync('tar', ['-xzf', before.archive(h.name), '-C', bundle], { encoding: 'utf8' });
      const installed = spawnSync(path.join(bundle, 'install.sh'), ['--root', root], { encoding: 'utf8' });
      if (unpacked.status !== 0 || installed.status !== 0) throw new Error(`${h.name}: the 1.36.5 install failed:\n${unpacked.stderr}${installed.stdout}${installed.stderr}`);
    }
    // Then 1.37.2 into the same state and output, with its programs fetched; the plan as lib/synth makes it.
    after = await synthBundles(at('1.37.2'), dir);
    stageBinaries(after);
    plan = upgradePlan(versionsOf(before.result.model), after.result.model, versionsOf(after.result.model))!;
    steps = plan.waves.flatMap((w) => w.steps);
  }, 600_000);

  test('the plan moves Kubernetes a minor (and etcd with it), and drains the node wave only', () => {
    expect([plan.kind, plan.target]).toEqual(['minor', `kubernetes=1.37.2 etcd=${after.result.model.releaseOf('etcd').version}`]);
    expect([...new Set(steps.map((st) => st.wave))]).toEqual(['etcd', 'control-plane', 'node']);
    expect(steps.filter((st) => st.drain).map((st) => st.wave)).toEqual(after.result.model.hosts.map(() => 'node'));
  });

  test('syntax check passes', () => {
    const r = ansible(after, ['--syntax-check', '-i', 'inventory.ini', 'site.yml']);
    expect([r.status, r.out]).toEqual([0, expect.stringContaining('playbook: site.yml')]);
  });

  test("site.yml: the preflight, then one play per step in the plan's order (each install.sh --units with its step's units, drained only where the plan drains, recorded as deploy.sh records), the ordinary plays, the addons", () => {
    const plays = playsOf(after);
    const names = plays.map((p) => p.name);
    const preflight = names.findIndex((n) => n.startsWith('upgrade preflight'));
    const stepPlays = plays.filter((p) => p.vars?.kubesmith_upgrade !== undefined);
    const firstStep = plays.indexOf(stepPlays[0]);
    expect(plays[preflight]).toMatchObject({ hosts: 'localhost', connection: 'local' });
    expect(preflight).toBeGreaterThan(-1);
    expect(preflight).toBeLessThan(firstStep);
    expect(plays.indexOf(stepPlays[stepPlays.length - 1])).toBeLessThan(names.indexOf('etcd members'));
    expect(names.slice(firstStep + stepPlays.length)).toEqual(['etcd members', 'etcd cluster health', 'masters', 'load balancers', 'nodes', expect.stringMatching(/^upgrade: the addons/), 'node-role labels on the registered Nodes (a Node not registered yet is labelled by the next run)']);
    // Exactly the plan's steps, in its order, each on its host.
    expect(stepPlays.map((p) => [p.hosts, (p.vars!.kubesmith_upgrade as { wave: string; step: string }).wave, (p.vars!.kubesmith_upgrade as { step: string }).step]))
      .toEqual(steps.map((st) => [st.host.name, st.wave, st.step]));
    const argv = (t: Record<string, unknown>): unknown => (t['ansible.builtin.command'] as { argv?: unknown } | undefined)?.argv ?? '';
    const argvText = (t: Record<string, unknown>) => { const a = argv(t); return typeof a === 'string' ? a : ''; };
    stepPlays.forEach((p, i) => {
      const st = steps[i];
      const units = p.tasks.map(argvText).filter((a) => a.includes("'--units'"));
      expect([st.host.name, st.step, units]).toEqual([st.host.name, st.step, [expect.stringContaining(`'/bundle/install.sh', '--units', '${st.units.join(',')}']`)]]);
      const kubectl = (verb: string) => p.tasks.filter((t) => argvText(t).startsWith(`{{ kubesmith_kubectl + ['${verb}'`));
      expect([st.host.name, st.step, kubectl('cordon').length, kubectl('drain').length, kubectl('uncordon').length])
        .toEqual([st.host.name, st.step, ...(st.drain ? [1, 1, 1] : [0, 0, 0])]);
      // The record: read first, written last (content the plan's target, as deploy.sh's echo writes it), then moved into place.
      const record = `{{ kubesmith_root }}${UPGRADE_PATHS.reached}/${st.step}`;
      expect(p.tasks[0]).toMatchObject({ 'ansible.builtin.slurp': { src: record } });
      expect(p.tasks[1]).toMatchObject({ 'ansible.builtin.meta': 'end_host', when: expect.stringContaining(`== "${plan.target}"`) });
      const write = p.tasks.findIndex((t) => (t['ansible.builtin.copy'] as { dest?: string } | undefined)?.dest === `${record}.new`);
      expect((p.tasks[write]['ansible.builtin.copy'] as { content: string }).content).toBe(`${plan.target}\n`);
      expect(argv(p.tasks[write + 1])).toEqual(['mv', `${record}.new`, record]);
    });
  });

  test("a run upgrades the host roots step by step in the plan's order: each step's programs replaced (the old kept), its units' install.sh, and deploy.sh's record", () => {
    const r = ansible(after, ['-i', 'inventory.ini', '-i', local, 'site.yml']);
    expect([r.status, r.out]).toEqual([0, expect.anything()]);
    for (const [host, c] of Object.entries(recap(r.out))) expect([host, c.failed, c.unreachable]).toEqual([host, 0, 0]);
    const headers = playHeaders(r.out);
    expect(headers.filter((h) => h.startsWith('upgrade'))).toEqual([
      expect.stringMatching(/^upgrade preflight/),
      ...steps.map((st, i) => `upgrade ${i + 1}/${steps.length}: ${st.wave} wave, ${st.step} on ${st.host.name}`),
      expect.stringMatching(/^upgrade: the addons/),
    ]);
    expect(headers.indexOf(`upgrade ${steps.length}/${steps.length}: node wave, node on k8s4`)).toBeLessThan(headers.indexOf('etcd members'));
    // Laid out under install_root, nothing is asked of a cluster (no kubectl, no health waits).
    expect(r.out).toMatch(/install_root on k8s1, k8s2, k8s3, k8s4: the preflight skipped/);
    const stepPlays = tasksByPlay(r.out, 'upgrade ').filter(([play]) => /^upgrade \d/.test(play));
    expect(stepPlays.length).toBe(steps.length);
    for (const [play, tasks] of stepPlays) {
      const ran = tasks.filter((t) => t.ran).map((t) => t.name);
      expect([play, ran.filter((t) => /^(cordon|drain|uncordon|wait for|every apiserver|every Node)/.test(t))]).toEqual([play, []]);
      expect([play, ran.filter((t) => t.startsWith('install.sh --units ')).length]).toEqual([play, 1]);
      expect([play, ran.includes('copy them to /var/lib/kubesmith/previous')]).toEqual([play, true]);
    }
    for (const st of steps) {
      const record = root(st.host.name, `${UPGRADE_PATHS.reached}/${st.step}`);
      expect([st.host.name, st.step, fs.readFileSync(record, 'utf8')]).toEqual([st.host.name, st.step, `${plan.target}\n`]);
      expect(fs.existsSync(`${record}.new`)).toBe(false);
      for (const p of st.programs) {
        expect([st.host.name, p.path, fs.readFileSync(root(st.host.name, p.path), 'utf8')]).toEqual([st.host.name, p.path, fake(after.result.model, p.path)]);
        const kept = root(st.host.name, path.join(UPGRADE_PATHS.previous, p.path));
        expect([st.host.name, p.path, fs.readFileSync(kept, 'utf8'), fs.statSync(kept).mode & 0o777]).toEqual([st.host.name, p.path, fake(before.result.model, p.path), 0o755]);
      }
    }
  });

  test('a second run, every step recorded done: the preflight stops at the records, each step play ends its host at once, and nothing changes', () => {
    const keptBefore = steps.flatMap((st) => st.programs.map((p) => fs.readFileSync(root(st.host.name, path.join(UPGRADE_PATHS.previous, p.path)), 'utf8')));
    const r = ansible(after, ['-i', 'inventory.ini', '-i', local, 'site.yml']);
    expect([r.status, r.out]).toEqual([0, expect.anything()]);
    for (const [host, c] of Object.entries(recap(r.out))) expect([host, c.changed, c.failed]).toEqual([host, 0, 0]);
    const byPlay = tasksByPlay(r.out, 'upgrade ').filter(([play]) => /^upgrade \d/.test(play));
    expect(byPlay.map(([play]) => play)).toEqual(steps.map((st, i) => `upgrade ${i + 1}/${steps.length}: ${st.wave} wave, ${st.step} on ${st.host.name}`));
    byPlay.forEach(([play, tasks], i) => {
      expect([play, tasks.map((t) => t.name)]).toEqual([play, [`is ${steps[i].step} recorded done here`, `${steps[i].step} done before (${plan.target})`]]);
    });
    const [[, preflight]] = tasksByPlay(r.out, 'upgrade preflight');
    expect(preflight[preflight.length - 1].name).toBe(`every step is recorded done on its host (${plan.target}): no preflight`);
    expect(steps.flatMap((st) => st.programs.map((p) => fs.readFileSync(root(st.host.name, path.join(UPGRADE_PATHS.previous, p.path)), 'utf8')))).toEqual(keptBefore);
  });

  describe('the preflight, live from this machine: kubectl (KUBECTL) and the apiservers\' curl stubbed, no step runs when it fails', () => {
    let stub: string;
    let live: string;
    const nodes = (versions: Record<string, string>) => JSON.stringify({
      items: Object.entries(versions).map(([name, v]) => ({ metadata: { name }, status: { nodeInfo: { kubeletVersion: v } } })),
    });
    const allAt = (v: string) => Object.fromEntries(SEED.hosts.map((h) => [h.name, v]));
    const healthy = {
      'client.json': JSON.stringify({ clientVersion: { major: '1', minor: '37' } }),
      'nodes.json': nodes(allAt('v1.36.5')),
      'metrics.txt': '# TYPE apiserver_requested_deprecated_apis gauge\napiserver_request_total{code="200"} 7\n',
      'pdbs.json': JSON.stringify({ items: [{ metadata: { namespace: 'default', name: 'spare' }, status: { disruptionsAllowed: 1, expectedPods: 3 } }] }),
    };
    beforeAll(() => {
      stub = tempDir();
      // The kubectl the roll-out runs (KUBECTL): answers from the files of the case; logs every call.
      fs.writeFileSync(path.join(stub, 'kubectl'), `#!/bin/bash
echo "$*" >> ${stub}/kubectl.log
a=()
while [ $# -gt 0 ]; do case "$1" in --kubeconfig) shift 2 ;; --request-timeout=*) shift ;; *) a+=("$1"); shift ;; esac; done
case "\${a[*]}" in
  'version --client -o json') cat ${stub}/client.json ;;
  'get nodes -o json') cat ${stub}/nodes.json ;;
  'get --raw /metrics') cat ${stub}/metrics.txt ;;
  'get pdb --all-namespaces -o json') cat ${stub}/pdbs.json ;;
  *) echo "stub kubectl: unexpected: \${a[*]}" >&2; exit 1 ;;
esac
`, { mode: 0o755 });
      // The masters' /version (apiserverVersionCommand runs curl on each master: here, this machine).
      fs.mkdirSync(path.join(stub, 'bin'));
      fs.writeFileSync(path.join(stub, 'bin/curl'), `#!/bin/sh
case "$*" in *"/version") echo '{"major": "1", "minor": "36", "gitVersion": "v1.36.5"}' ;; *) exit 7 ;; esac
`, { mode: 0o755 });
      live = localInventory(after, 'live.yml', true);
    });
    const preflight = (files: Partial<typeof healthy>) => {
      for (const [name, text] of Object.entries({ ...healthy, ...files })) fs.writeFileSync(path.join(stub, name), text);
      fs.rmSync(path.join(stub, 'kubectl.log'), { force: true });
      const r = ansible(after, ['-i', 'inventory.ini', '-i', live, 'site.yml'], {
        KUBECTL: path.join(stub, 'kubectl'), PATH: `${path.join(stub, 'bin')}:${process.env.PATH}`,
      });
      expect(r.status).not.toBe(0);
      // It stopped in the preflight: no step, no host touched.
      expect(playHeaders(r.out)).toEqual([expect.stringMatching(/^upgrade preflight/)]);
      return r.out;
    };

    test('a kubelet at neither version of the upgrade', () => {
      const out = preflight({ 'nodes.json': nodes({ ...allAt('v1.36.5'), k8s4: 'v1.35.9' }) });
      expect(out).toContain('preflight: the kubelet of k8s4 is v1.35.9; this roll-out goes from 1.36.5 to 1.37.2: roll out the synth of 1.36.5 first');
      // kubectl ran with the cluster's admin kubeconfig.
      expect(fs.readFileSync(path.join(stub, 'kubectl.log'), 'utf8')).toMatch(/^--kubeconfig \S+\/dist\/ansible\/\.\.\/admin\.kubeconfig --request-timeout=30s get nodes -o json$/m);
    });

    test('a kubectl more than one minor from the target', () => {
      expect(preflight({ 'client.json': JSON.stringify({ clientVersion: { major: '1', minor: '35' } }) }))
        .toContain('preflight: kubectl is 1.35, outside the skew window of 1.37 (1.36 to 1.38)');
    });

    test('a kubectl that states no version', () => {
      expect(preflight({ 'client.json': 'error: unknown flag: --client\n' }))
        .toMatch(/preflight: '\S+\/kubectl version --client' says no minor; set KUBECTL to a kubectl of 1\.36 to 1\.38/);
    });

    test('a client still requesting an API removed by the target minor (and not one removed later)', () => {
      const out = preflight({
        'metrics.txt': `${healthy['metrics.txt']}apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1\n`
          + 'apiserver_requested_deprecated_apis{group="example.io",removed_release="1.40",resource="widgets",subresource="",version="v1beta1"} 1\n',
      });
      expect(out).toContain('preflight: APIs Kubernetes 1.37 no longer serves are still in use: flowschemas.v1beta3.flowcontrol.apiserver.k8s.io (requested);');
      expect(out).not.toContain('widgets');
    });

    test('a PodDisruptionBudget that allows no disruption, named (the node wave drains)', () => {
      const pdbs = JSON.parse(healthy['pdbs.json']);
      pdbs.items.push({ metadata: { namespace: 'shop', name: 'web' }, status: { disruptionsAllowed: 0, expectedPods: 2 } });
      pdbs.items.push({ metadata: { namespace: 'shop', name: 'idle' }, status: { disruptionsAllowed: 0, expectedPods: 0 } });
      const out = preflight({ 'pdbs.json': JSON.stringify(pdbs) });
      expect(out).toContain('these PodDisruptionBudgets allow no disruption now, so a drain would wait on them until it times out: shop/web;');
    });

    (fs.existsSync('/opt/etcd/bin/etcd-snapshot.sh') ? test.skip : test)('every check passing, it goes on to the etcd snapshot on the first member (here: none, so it stops there)', () => {
      const out = preflight({});
      const [[, tasks]] = tasksByPlay(out, 'upgrade preflight');
      const failed = out.split(/^(?=TASK \[)/m).filter((b) => /^fatal: \[/m.test(b)).map((b) => b.match(/^TASK \[(.+?)\]/)![1]);
      expect(failed).toEqual([`an etcd snapshot on ${after.result.model.etcdMembers[0].name} (what a minor rollback restores)`]);
      expect(tasks.filter((t) => t.ran).map((t) => t.name)).toEqual(expect.arrayContaining([
        'every apiserver and kubelet at 1.36.5 or 1.37.2', 'kubectl within one minor of 1.37', 'no API that 1.37 removed is in use',
        'each PodDisruptionBudget allows a disruption (a drain would wait on it until it times out)',
        'no certificate expires within 30 days (a restart in the upgrade would fail on it)',
      ]));
    });
  });
});
