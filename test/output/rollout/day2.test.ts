/**
 * Day-2 etcd operations as generated: the definition's snapshot settings, the change plan's membership steps, and
 * deploy.sh / Ansible running them (ssh and scp stubs that log; ansible-playbook --syntax-check). The same steps
 * run on real etcd 3.5 in test/real/etcd-day2.test.ts.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  ClusterDefinitionError, ClusterModel, synthesizeCluster, validateDefinition,
} from '../../../lib';
import { ETCD_FILES, ETCD_SNAPSHOT } from '../../../hosts';
import { RESTORE_SNAPSHOT } from '../../../lib/output/rollout';
import { SEED, withChanges } from '../../support/clusters';
import { requirePrograms } from '../../support/programs';
import { synthBundles, twoSynths } from '../../support/synth-bundles';
import { deployStubs, runDeploy } from '../../support/deploy-stubs';
import { cleanupTempDirs, tempDir } from '../../support/tmp';

afterAll(cleanupTempDirs);

const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
const tools = requirePrograms(['systemd-analyze', 'ansible-playbook']);

const stubs = deployStubs;
const deploy = runDeploy;

describe('etcd.snapshots in the definition', () => {
  test('defaults: a daily timer on every member keeping 7; disabled: none', async () => {
    const s = await synthBundles(ecdsa);
    const timer = s.text('k8s1', ETCD_SNAPSHOT.timerUnit.slice(1));
    expect(timer).toMatch(/^OnCalendar=daily$/m);
    expect(s.text('k8s3', ETCD_SNAPSHOT.script.slice(1))).toMatch(/^KEEP=7$/m);
    expect(s.bundles.get('k8s4')!.has(ETCD_SNAPSHOT.timerUnit.slice(1))).toBe(false);
    expect(s.result.cluster.bundle('k8s2').services.map((x) => x.unit)).toContain('etcd-snapshot.timer');
    const off = await synthBundles(withChanges(ecdsa, { etcd: { snapshots: { enabled: false } } }));
    expect(off.bundles.get('k8s1')!.has(ETCD_SNAPSHOT.timerUnit.slice(1))).toBe(false);
    expect(off.result.cluster.bundle('k8s1').services.map((x) => x.unit)).not.toContain('etcd-snapshot.timer');
  });

  test('schedule, keep and the after-snapshot command reach the units and the script, quoted for sh', async () => {
    const s = await synthBundles(withChanges(ecdsa, {
      etcd: { snapshots: { schedule: '*-*-* 02:30:00', keep: 30, afterSnapshot: `rsync -a "$SNAPSHOT" 'backup@10.0.0.9:/srv/etcd/'` } },
    }));
    expect(s.text('k8s2', ETCD_SNAPSHOT.timerUnit.slice(1))).toMatch(/^OnCalendar=\*-\*-\* 02:30:00$/m);
    const script = s.text('k8s2', ETCD_SNAPSHOT.script.slice(1));
    expect(script).toMatch(/^KEEP=30$/m);
    // The shell reads back exactly the command the definition holds.
    const line = script.split('\n').find((l) => l.startsWith('AFTER_SNAPSHOT='))!;
    const r = spawnSync('sh', ['-c', `${line}; printf %s "$AFTER_SNAPSHOT"`], { encoding: 'utf8' });
    expect(r.stdout).toBe(`rsync -a "$SNAPSHOT" 'backup@10.0.0.9:/srv/etcd/'`);
  });

  test('bad values are reported with the field, the value and what is valid', () => {
    const issues = validateDefinition(withChanges(ecdsa, {
      etcd: { snapshots: { schedule: 'daily; rm -rf /', keep: 0, afterSnapshot: 'a\nb', enabled: 'yes' } },
    }));
    expect(issues.map((i) => i.path).sort()).toEqual([
      'etcd.snapshots.afterSnapshot', 'etcd.snapshots.enabled', 'etcd.snapshots.keep', 'etcd.snapshots.schedule']);
    expect(issues.find((i) => i.path === 'etcd.snapshots.keep')!.message).toMatch(/from 1 to 366, e.g. 7/);
    expect(validateDefinition(withChanges(ecdsa, { etcd: { snapshot: {} } }))[0].message).toMatch(/did you mean "snapshots"/);
  });

  (tools.ok ? test : test.skip)('systemd accepts the default schedule and the example ones as calendar expressions', () => {
    for (const expr of [ClusterModel.fromDefinition(ecdsa).etcd.snapshots.schedule, 'hourly', '*-*-* 02:30:00', 'Mon *-*-* 03:00']) {
      const r = spawnSync('systemd-analyze', ['calendar', expr], { encoding: 'utf8' });
      expect([expr, r.status]).toEqual([expr, 0]);
    }
  });
});

describe('membership in the change plan', () => {
  test('replacing a master that is an etcd member plans drain, stop, delete node, the nginx upstream, member remove and add', async () => {
    // etcd wants an odd number of members: k8s4 takes k8s2's place.
    const hosts = ecdsa.hosts.filter((h) => h.name !== 'k8s2').map((h) => (h.name === 'k8s4' ? { ...h, roles: ['node', 'etcd'] } : h));
    const { result, logs } = await twoSynths(ecdsa, withChanges(ecdsa, { hosts }));
    expect((result.plan.runtime ?? []).map((s) => s.title)).toEqual([
      'kubectl drain k8s2',
      'stop the kubelet and kube-proxy on k8s2, so it does not register again',
      'kubectl delete node k8s2',
      'the nginx upstream drops k8s2\'s apiserver: the lb hosts\' new nginx.conf, in the roll-out',
      'etcdctl member remove k8s2',
      'etcdctl member add k8s4 --peer-urls=https://192.168.100.40:2380',
      'install k8s4\'s bundle (ETCD_INITIAL_CLUSTER_STATE=existing) and wait for the etcd cluster\'s health',
    ]);
    expect(logs.join('\n')).toContain('runtime steps, before the roll-out');
    expect(result.plan.hosts.find((h) => h.host === 'k8s1')!.changed).toContain('etc/nginx/nginx.conf');
  });

  test('a second synth before the roll-out keeps the steps in deploy.sh; the plan shows them once', async () => {
    const { dir } = await twoSynths(ecdsa, withChanges(ecdsa, { hosts: ecdsa.hosts.filter((h) => h.name !== 'k8s4') }));
    const again = await synthesizeCluster(withChanges(ecdsa, { hosts: ecdsa.hosts.filter((h) => h.name !== 'k8s4') }), {
      outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined,
    });
    expect(again.plan.runtime).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'dist/deploy.sh'), 'utf8')).toContain('delete node k8s4');
  });

  test('two new etcd members at once are refused before anything is written', async () => {
    const two = withChanges(ecdsa, {
      hosts: [...ecdsa.hosts, { name: 'k8s5', ip: '192.168.100.60', roles: ['etcd'] }, { name: 'k8s6', ip: '192.168.100.70', roles: ['etcd'] }],
    });
    await expect(twoSynths(ecdsa, two)).rejects.toThrow(ClusterDefinitionError);
    await expect(twoSynths(ecdsa, two)).rejects.toThrow(/etcd admits one at a time: add k8s5, synth and roll out, then the next/);
  });
});

describe('deploy.sh', () => {
  test('--restore FILE prints the steps in order and touches nothing without --yes; with --yes runs them in that order', async () => {
    const s = await synthBundles(ecdsa);
    const dist = path.join(s.dir, 'dist');
    const file = path.join(tempDir(), 'snap.db');
    fs.writeFileSync(file, 'snapshot');
    const st = stubs();
    const plan = deploy(dist, ['--restore', file], st);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toMatch(/1\. copy the snapshot[^\n]*\n[^\n]*\n[^\n]*2\. stop the apiservers \(k8s1, k8s2\)[\s\S]*3\. stop etcd[\s\S]*4\. restore every member[\s\S]*5\. start etcd[\s\S]*6\. wait for the etcd cluster[\s\S]*7\. start the apiservers[\s\S]*8\. wait for each apiserver's \/readyz[\s\S]*9\. restart the controller-managers and schedulers[\s\S]*10\. restart the kubelets/);
    expect(plan.stdout).toContain('nothing done: run again with --yes');
    expect(fs.existsSync(st.log)).toBe(false);

    // A restore is all or nothing: --only is refused with the reason, before anything is touched.
    const only = deploy(dist, ['--restore', file, '--only', 'k8s1', '--yes'], st);
    expect([only.status, only.stderr]).toEqual([2, 'deploy.sh: error: --only k8s1: a restore brings every etcd member (k8s1 k8s2 k8s3) back from the one snapshot, '
      + 'or they would hold different data; run --restore without --only\n']);
    expect(fs.existsSync(st.log)).toBe(false);

    const r = deploy(dist, ['--restore', file, '--yes'], st);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n').filter((c) => !c.includes('mkdir -p') && !c.includes('sha256sum -c'));
    const short = calls.map((c) => c.replace(/^ssh root@192\.168\.100\.(\d+) /, '$1 ').replace(/^scp .* root@192\.168\.100\.(\d+):.*/, '$1 copy'));
    expect(short).toEqual([
      '10 copy', `10 ${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table`,
      '20 copy', `20 ${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table`,
      '30 copy', `30 ${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table`,
      '10 systemctl stop kube-apiserver.service', '20 systemctl stop kube-apiserver.service',
      '10 systemctl stop etcd.service', '20 systemctl stop etcd.service', '30 systemctl stop etcd.service',
      `10 ${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`, `20 ${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`, `30 ${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`,
      '10 systemctl start --no-block etcd.service', '20 systemctl start --no-block etcd.service', '30 systemctl start --no-block etcd.service',
      expect.stringMatching(/^10 \/opt\/etcd\/bin\/etcdctl .* endpoint health$/),
      '10 systemctl start kube-apiserver.service', '20 systemctl start kube-apiserver.service',
      expect.stringMatching(/^10 curl .*\/readyz && sleep 11$/), expect.stringMatching(/^20 curl .*\/readyz && sleep 11$/),
      '10 systemctl restart kube-controller-manager.service kube-scheduler.service', '20 systemctl restart kube-controller-manager.service kube-scheduler.service',
      '10 systemctl restart kubelet.service', '20 systemctl restart kubelet.service', '30 systemctl restart kubelet.service', '40 systemctl restart kubelet.service',
    ]);
  });

  test('--rebuild-member MEMBER prints the steps and touches nothing; --yes runs them in order; a host that is no member, or --only, is refused', async () => {
    const s = await synthBundles(ecdsa);
    const dist = path.join(s.dir, 'dist');
    const st = stubs();
    const plan = deploy(dist, ['--rebuild-member', 'k8s3'], st);
    expect([plan.status, plan.stderr]).toEqual([0, '']);
    expect(plan.stdout).toMatch(/1\. etcdctl member remove k8s3 \(k8s1\)[\s\S]*2\. stop etcd on k8s3[\s\S]*3\. move k8s3's data directory aside[\s\S]*4\. etcdctl member add k8s3 --peer-urls=https:\/\/192\.168\.100\.30:2380[\s\S]*5\. start etcd on k8s3[\s\S]*6\. wait for the etcd cluster to be healthy[\s\S]*7\. remove k8s3's rejoin mark/);
    expect(plan.stdout).toContain('nothing done: run again with --yes to rebuild k8s3');
    expect(fs.existsSync(st.log)).toBe(false);

    for (const [args, err] of [
      [['--rebuild-member', 'k8s4'], '--rebuild-member k8s4: no such etcd member in cluster kubesmith; the members are k8s1 k8s2 k8s3'],
      [['--rebuild-member', 'k8s3', '--only', 'k8s3'], '--only k8s3: --rebuild-member names the one host it works on; drop --only'],
      [['--rebuild-member', 'k8s3', '--check'], '--check, --snapshot, --restore and --rebuild-member are separate modes: give one'],
    ] as const) {
      const r = deploy(dist, [...args, '--yes'], st);
      expect([r.status, r.stderr]).toEqual([2, `deploy.sh: error: ${err}\n`]);
    }
    expect(fs.existsSync(st.log)).toBe(false);

    const r = deploy(dist, ['--rebuild-member', 'k8s3', '--yes'], st);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n').map((c) => c.replace(/^ssh root@192\.168\.100\.(\d+) /, '$1 '));
    expect(calls.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      '10 /opt/etcd/bin/etcd-member.sh remove', '30 systemctl stop', '30 if [', '10 /opt/etcd/bin/etcd-member.sh add',
      '30 systemctl start', expect.stringMatching(/^10 /), '30 rm -f',
    ]);
    expect(r.stdout).toContain('rebuilt k8s3');
  });

  test('--snapshot --only MEMBER runs its etcd-snapshot.sh and copies the file to snapshots/ (0700, 0600)', async () => {
    const s = await synthBundles(ecdsa);
    const dist = path.join(s.dir, 'dist');
    const st = stubs();
    const r = deploy(dist, ['--snapshot', '--only', 'k8s2'], st);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(fs.readFileSync(st.log, 'utf8')).toContain(`ssh root@192.168.100.20 ${ETCD_SNAPSHOT.script}`);
    expect(r.stdout).toContain('saved snapshots/k8s2-20240101T000000Z.db');
    expect(fs.statSync(path.join(dist, 'snapshots')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dist, 'snapshots/k8s2-20240101T000000Z.db')).mode & 0o777).toBe(0o600);
    expect(deploy(dist, ['--snapshot', '--only', 'k8s4'], st).stderr).toContain('k8s4 is not an etcd member');
  });

  test('a replaced member: remove, add, install the new member, then the roll-out', async () => {
    const replaced = withChanges(ecdsa, {
      hosts: [...ecdsa.hosts.filter((h) => h.name !== 'k8s3'), { name: 'k8s5', ip: '192.168.100.60', roles: ['node', 'etcd'] }],
    });
    const { dir } = await twoSynths(ecdsa, replaced);
    const st = stubs();
    const r = deploy(path.join(dir, 'dist'), ['--yes'], st, { KUBECTL: 'true' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n');
    const at = (re: RegExp) => calls.findIndex((c) => re.test(c));
    const remove = at(/192\.168\.100\.10 .*etcd-member\.sh remove k8s3$/);
    const add = at(/192\.168\.100\.10 .*etcd-member\.sh add k8s5 https:\/\/192\.168\.100\.60:2380$/);
    const install = at(/192\.168\.100\.60 .*install\.sh$/);
    const firstOther = at(/192\.168\.100\.10 .*install\.sh$/);
    expect(remove).toBeGreaterThan(-1);
    expect([remove < add, add < install, install < firstOther]).toEqual([true, true, true]);
    expect(calls.filter((c) => /192\.168\.100\.60 .*install\.sh$/.test(c))).toHaveLength(1);
  });
});

(tools.ok ? describe : describe.skip)('Ansible', () => {
  test('site.yml with membership plays, restore.yml and snapshot.yml pass ansible-playbook --syntax-check', async () => {
    const replaced = withChanges(ecdsa, {
      hosts: [...ecdsa.hosts.filter((h) => h.name !== 'k8s3'), { name: 'k8s5', ip: '192.168.100.60', roles: ['node', 'etcd'] }],
    });
    const { dir } = await twoSynths(ecdsa, replaced);
    const ansible = path.join(dir, 'dist/ansible');
    const site = fs.readFileSync(path.join(ansible, 'site.yml'), 'utf8');
    expect(site.indexOf('etcdctl member remove k8s3')).toBeLessThan(site.indexOf('etcdctl member add k8s5'));
    expect(site.indexOf('etcdctl member add k8s5')).toBeLessThan(site.indexOf('- name: etcd members'));
    for (const book of ['site.yml', 'restore.yml', 'snapshot.yml']) {
      const r = spawnSync('ansible-playbook', ['-i', 'inventory.ini', '--syntax-check', book], {
        cwd: ansible, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ANSIBLE_LOCAL_TEMP: path.join(dir, 'ansible-tmp') },
      });
      expect([book, r.status, r.stderr]).toEqual([book, 0, expect.anything()]);
    }
  });
});
