import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fetchedBinariesByRole, fetchedBinariesOn } from '../../../lib/components';
import { healthChecks, stagedVersions } from '../../../lib/output';
import { SEED, withChanges } from '../../support/clusters';
import { fakeProgram } from '../../support/release-archives';
import { SynthesizedBundles, synthBundles } from '../../support/synth-bundles';
import { DeployStubs, deployStubs, runDeploy } from '../../support/deploy-stubs';
import { cleanupTempDirs } from '../../support/tmp';

afterAll(cleanupTempDirs);

const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });

const stubs = deployStubs;
const deploy = (s: SynthesizedBundles, args: string[], st: DeployStubs, env: Record<string, string> = {}) => runDeploy(path.join(s.dir, 'dist'), args, st, env);

describe('deploy.sh', () => {
  let s: SynthesizedBundles;
  beforeAll(async () => { s = await synthBundles(ecdsa); });

  test('is valid bash and executable', () => {
    expect(spawnSync('bash', ['-n', path.join(s.dir, 'dist/deploy.sh')]).status).toBe(0);
    expect(fs.statSync(path.join(s.dir, 'dist/deploy.sh')).mode & 0o777).toBe(0o755);
  });

  test('without --yes it prints the plan and touches no machine', () => {
    const st = stubs();
    const r = deploy(s, [], st);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('deploy.sh:   etcd: copy hosts/k8s1.tar.gz to root@192.168.100.10 and run its install.sh');
    expect(r.stdout).toContain('deploy.sh:   master: k8s1 (installed above)');
    expect(r.stdout).toContain('nothing done: run again with --yes');
    expect(fs.existsSync(st.log)).toBe(false);
  });

  test('with --yes it installs each host once, in the safe order, waiting where it must', () => {
    const st = stubs();
    const r = deploy(s, ['--yes'], st);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n');
    const summary = calls.map((c) => {
      if (c.startsWith('scp')) return `copy ${c.split(' ')[1]}`;
      if (c.includes('install.sh')) return `install ${c.split(' ')[1]}`;
      if (c.includes('endpoint health')) return `etcd-health ${c.split(' ')[1]}`;
      if (c.includes('/readyz')) return `readyz ${c.split(' ')[1]}`;
      if (c.includes('/dev/tcp/127.0.0.1/6444')) return `l4 ${c.split(' ')[1]}`;
      return undefined;
    }).filter(Boolean);
    expect(summary).toEqual([
      'copy hosts/k8s1.tar.gz', 'install root@192.168.100.10',
      'copy hosts/k8s2.tar.gz', 'install root@192.168.100.20',
      'copy hosts/k8s3.tar.gz', 'install root@192.168.100.30',
      'etcd-health root@192.168.100.10',
      'readyz root@192.168.100.10', 'readyz root@192.168.100.20',
      'l4 root@192.168.100.10', 'l4 root@192.168.100.20',
      'copy hosts/k8s4.tar.gz', 'install root@192.168.100.40',
    ]);
  });

  test('after the roll-out each registered Node gets the labels of its roles and loses the others; one not registered is named; a failing kubectl only warns', () => {
    const st = stubs();
    // Registered: every Node but k8s4's; each call logged.
    const kubectl = path.join(st.dir, 'kubectl-nodes');
    fs.writeFileSync(kubectl, `#!/bin/bash\necho "$*" >> ${st.dir}/labels.log\n`
      + `if [ "$3" = get ] && [ "$5" != k8s4 ]; then echo "node/$5"; fi\nif [ "$3" = label ]; then echo "node/$5 labeled"; fi\n`, { mode: 0o755 });
    const r = deploy(s, ['--yes'], st, { KUBECTL: kubectl });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const labelled = fs.readFileSync(path.join(st.dir, 'labels.log'), 'utf8').trim().split('\n').filter((l) => l.includes(' label '));
    expect(labelled).toEqual([
      '--kubeconfig admin.kubeconfig label node k8s1 --overwrite node-role.kubernetes.io/control-plane= node-role.kubernetes.io/node-',
      '--kubeconfig admin.kubeconfig label node k8s2 --overwrite node-role.kubernetes.io/control-plane= node-role.kubernetes.io/node-',
      '--kubeconfig admin.kubeconfig label node k8s3 --overwrite node-role.kubernetes.io/control-plane- node-role.kubernetes.io/node=',
    ]);
    expect(r.stdout).toContain('deploy.sh:   node/k8s3 labeled\ndeploy.sh:   node/k8s4 not registered yet: the next roll-out labels it\n');
    expect(r.stdout).toMatch(/done; check the cluster with/);
    // No kubectl, or an API that does not answer: the hosts are rolled out, and the labels left for the next run, said so.
    const down = deploy(s, ['--yes'], stubs(), { KUBECTL: 'false' });
    expect([down.status, down.stderr]).toEqual([0, '']);
    expect(down.stdout).toContain('deploy.sh:   the Nodes were not labelled (no kubectl here, or the API did not answer): run deploy.sh --yes again once it does\n');
  });

  test('on a running cluster it waits, after each host, until every service that ran there is healthy, before the next host', () => {
    const st = stubs();
    const { model, cluster } = s.result;
    for (const h of model.hosts) {
      const units = healthChecks(model).filter((c) => cluster.runs(h, c.component)).map((c) => c.unit);
      fs.writeFileSync(path.join(st.dir, `running-${h.ip}`), units.map((u) => `${u}\n`).join(''));
    }
    const r = deploy(s, ['--yes'], st);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n');
    const host = (c: string) => model.hosts.find((h) => c.includes(`@${h.ip} `))?.name;
    const summary = calls.map((c) => {
      if (c.startsWith('scp') && c.includes('.tar.gz')) return undefined;
      if (c.includes('install.sh')) return `install ${host(c)}`;
      if (c.includes('endpoint health')) return c.includes('127.0.0.1:2379') ? `etcd-member ${host(c)}` : `etcd-cluster ${host(c)}`;
      if (c.includes('/readyz')) return `readyz ${host(c)}`;
      if (c.includes('/dev/tcp/127.0.0.1/6444')) return `l4 ${host(c)}`;
      if (c.includes(':10248/healthz')) return `kubelet ${host(c)}`;
      return undefined;
    }).filter(Boolean);
    expect(summary).toEqual([
      // k8s1 and k8s2 each run etcd, an apiserver, nginx and a kubelet: all healthy again before the next host.
      'install k8s1', 'etcd-member k8s1', 'readyz k8s1', 'l4 k8s1', 'kubelet k8s1',
      'install k8s2', 'etcd-member k8s2', 'readyz k8s2', 'l4 k8s2', 'kubelet k8s2',
      'install k8s3', 'etcd-member k8s3', 'kubelet k8s3',
      'etcd-cluster k8s1',
      'readyz k8s1', 'readyz k8s2', 'l4 k8s1', 'l4 k8s2',
      'install k8s4', 'kubelet k8s4',
    ]);
    expect(r.stdout).toContain('deploy.sh:   k8s1 kube-apiserver /readyz, then 11 s for nginx to use it again (it ran before this install): ok');
  });

  test('a restarted service that never gets healthy again stops the roll-out before the next host', () => {
    const st = stubs();
    fs.writeFileSync(path.join(st.dir, 'running-192.168.100.10'), 'etcd.service\nkube-apiserver.service\n');
    const r = deploy(s, ['--yes'], st, { FAIL_MATCH: '127.0.0.1:2379' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('k8s1 etcd member health (it ran before this install): not ready after 2 tries');
    expect(fs.readFileSync(st.log, 'utf8')).not.toContain('k8s2.tar.gz');
  });

  test('an unknown --only host, an unknown argument or two modes at once are errors that touch no machine', () => {
    const st = stubs();
    for (const args of [['--only', 'k8s9', '--yes'], ['--only', 'k8s9', '--check'], ['--only', 'k8s9', '--snapshot'], ['--only', 'k8s9']]) {
      const r = deploy(s, args, st);
      expect([args, r.status, r.stderr]).toEqual([args, 2, 'deploy.sh: error: --only k8s9: no such host in cluster kubesmith; the hosts are k8s1 k8s2 k8s3 k8s4\n']);
    }
    const typo = deploy(s, ['--yse'], st);
    expect([typo.status, typo.stderr]).toEqual([2, expect.stringMatching(/^deploy.sh: error: unknown argument --yse\nusage: deploy.sh /)]);
    expect(deploy(s, ['--check', '--snapshot'], st).stderr).toBe('deploy.sh: error: --check, --snapshot, --restore, --rebuild-member and --secret-keys are separate modes: give one\n');
    expect(deploy(s, ['--check', '--yes'], st).stderr).toBe('deploy.sh: error: --check changes nothing, --yes rolls out: give one\n');
    expect(fs.existsSync(st.log)).toBe(false);
  });

  test('--only HOST is honoured by the roll-out and by --check: that host alone', () => {
    const st = stubs();
    const r = deploy(s, ['--only', 'k8s3', '--yes'], st);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const hosts = (log: string) => [...new Set(fs.readFileSync(log, 'utf8').trim().split('\n').map((c) => /root@(192\.168\.100\.\d+)/.exec(c)?.[1]))];
    expect(hosts(st.log)).toEqual(['192.168.100.30']);
    const check = stubs();
    expect(deploy(s, ['--check', '--only', 'k8s4'], check).stdout).toContain('no drift on 1 host(s)');
    expect(hosts(check.log)).toEqual(['192.168.100.40']);
  });

  test('--check stages every bundle, runs install.sh --check once per host, and exits 3 naming the hosts that drifted', () => {
    const st = stubs();
    const r = deploy(s, ['--check'], st, { DRIFT_MATCH: '192.168.100.30' });
    expect(r.status).toBe(3);
    const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n');
    expect(calls.filter((c) => c.includes('install.sh')).map((c) => c.split(' ').slice(1).join(' '))).toEqual([
      'root@192.168.100.10 /root/kubesmith/bundle/install.sh --check',
      'root@192.168.100.20 /root/kubesmith/bundle/install.sh --check',
      'root@192.168.100.30 /root/kubesmith/bundle/install.sh --check',
      'root@192.168.100.40 /root/kubesmith/bundle/install.sh --check',
    ]);
    expect(r.stdout).toContain('deploy.sh: drift on: k8s3; roll out again (deploy.sh --yes) to put the files back');
    const clean = deploy(s, ['--check'], stubs());
    expect([clean.status, clean.stdout]).toEqual([0, expect.stringContaining('no drift on 4 host(s)')]);
  });

  test('with binaries/ from fetch-binaries.sh, it copies each host the programs of its roles before its install.sh; stale ones stop it', () => {
    const staged = path.join(s.dir, 'dist/binaries');
    const { model } = s.result;
    try {
      for (const [role, binaries] of fetchedBinariesByRole(model)) {
        for (const b of binaries) {
          fs.mkdirSync(path.join(staged, role, path.dirname(b.path)), { recursive: true });
          fs.writeFileSync(path.join(staged, role, b.path), fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
        }
      }
      fs.writeFileSync(path.join(staged, 'VERSIONS'), stagedVersions(model));
      const plan = deploy(s, [], stubs());
      expect(plan.stdout).toContain('deploy.sh:   etcd: copy hosts/k8s1.tar.gz and the programs of binaries/{master,etcd} to root@192.168.100.10 and run its install.sh');
      expect(plan.stdout).toContain('deploy.sh:   node: copy hosts/k8s4.tar.gz and the programs of binaries/{node} to root@192.168.100.40 and run its install.sh');

      const st = stubs();
      const r = deploy(s, ['--yes'], st);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n');
      const received = new Map<string, string[]>();
      calls.forEach((c, i) => {
        if (!c.includes('tar -xzf - -C /')) return;
        const host = c.split(' ')[1];
        const list = spawnSync('tar', ['-tzf', path.join(st.dir, `received-${i + 1}.tgz`)], { encoding: 'utf8' }).stdout;
        received.set(host, [...received.get(host) ?? [], ...list.split('\n').filter((l) => l && !l.endsWith('/')).map((l) => l.slice(1))]);
        // Before that host's install.sh.
        expect(calls.findIndex((x, j) => j > i && x.includes(host) && x.includes('install.sh'))).toBeGreaterThan(i);
      });
      for (const h of model.hosts) {
        const want = [...new Set(fetchedBinariesOn(h, model).map((b) => b.path))].sort();
        expect([h.name, [...new Set(received.get(`root@${h.ip}`))].sort()]).toEqual([h.name, want]);
      }

      // A second roll-out: every program compares equal by sha256 on its host, so none is copied (none restarts).
      const before = fs.readFileSync(st.log, 'utf8').trim().split('\n').length;
      const again = deploy(s, ['--yes'], st);
      expect([again.status, again.stderr]).toEqual([0, '']);
      const later = fs.readFileSync(st.log, 'utf8').trim().split('\n').slice(before);
      expect(later.filter((c) => c.includes('tar -xzf - -C /'))).toEqual([]);
      expect(later.filter((c) => c.includes('while read -r sum p')).length).toBe(model.hosts.length);
      for (const h of model.hosts) expect(again.stdout).toMatch(new RegExp(`deploy.sh:   ${h.name}: programs as staged \\(\\d+ compared by sha256, none copied\\)`));

      // binaries/ of another definition: nothing is copied, nothing installed.
      const etcd = `etcd ${model.releaseOf('etcd').version}`;
      fs.writeFileSync(path.join(staged, 'VERSIONS'), stagedVersions(model).replace(etcd, 'etcd 3.5.14'));
      const stale = stubs();
      const r2 = deploy(s, ['--yes'], stale);
      expect(r2.status).toBe(1);
      expect(r2.stderr).toContain(`deploy.sh: error: binaries/VERSIONS is not what this synth's fetch-binaries.sh stages (kubernetes ${model.kubernetesVersion} ${etcd} `);
      expect(fs.existsSync(stale.log)).toBe(false);
    } finally {
      fs.rmSync(staged, { recursive: true, force: true });
    }
  });

  test('a master whose apiserver never becomes ready stops the roll-out before the next host', () => {
    const st = stubs();
    const r = deploy(s, ['--yes'], st, { FAIL_MATCH: '/readyz' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('k8s1 kube-apiserver /readyz, then 11 s for nginx to use it again: not ready after 2 tries');
    expect(fs.readFileSync(st.log, 'utf8')).not.toContain('k8s4.tar.gz');
  });
});
