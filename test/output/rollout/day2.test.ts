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
import { RESTORE_ENCRYPTION, RESTORE_SNAPSHOT } from '../../../lib/output/rollout';
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
    const operator = tempDir();
    const file = path.join(operator, 'snap.db');
    fs.writeFileSync(file, 'snapshot');
    const st = stubs();
    // The operator's kubectl: logs its calls beside ssh's.
    const kubectl = path.join(st.dir, 'kubectl');
    fs.writeFileSync(kubectl, `#!/bin/bash\necho "kubectl $*" >> ${st.log}\n[ -t 0 ] || cat > /dev/null\n`, { mode: 0o755 });
    const writer = JSON.parse(fs.readFileSync(path.join(s.dir, 'state/secrets.json'), 'utf8')).encryptionKeys[0].name;
    const plan = deploy(dist, ['--restore', file], st);
    expect(plan.status).toBe(0);
    const titles = plan.stdout.split('\n').map((l) => /^deploy\.sh: {3}(\d+)\. (.*) \((.*)\)$/.exec(l)).filter((m) => m !== null).map((m) => `${m![1]}. ${m![2]} @ ${m![3]}`);
    expect(titles).toEqual([
      '1. copy the snapshot to every etcd member and check it there @ k8s1, k8s2, k8s3',
      '2. stop the apiservers @ k8s1, k8s2',
      '3. give the apiservers every encryption key of the state, retired ones too (the snapshot\'s Secrets may be written with one); their own config is kept aside @ k8s1, k8s2',
      '4. stop etcd on every member @ k8s1, k8s2, k8s3',
      '5. restore every member with its own name and peer URLs into a fresh data directory (the old one kept aside) @ k8s1, k8s2, k8s3',
      '6. start etcd on every member @ k8s1, k8s2, k8s3',
      '7. wait for the etcd cluster to be healthy @ k8s1',
      '8. start the apiservers @ k8s1, k8s2',
      '9. wait for each apiserver\'s /readyz @ k8s1, k8s2',
      `10. write every Secret again, so the apiservers encrypt it with ${writer} @ here`,
      `11. check in etcd that every Secret is written with ${writer} @ k8s1`,
      '12. give k8s1\'s apiserver its own encryption config back (the keys in force only) @ k8s1',
      '13. restart k8s1\'s apiserver @ k8s1',
      '14. wait for k8s1\'s apiserver\'s /readyz @ k8s1',
      '15. give k8s2\'s apiserver its own encryption config back (the keys in force only) @ k8s2',
      '16. restart k8s2\'s apiserver @ k8s2',
      '17. wait for k8s2\'s apiserver\'s /readyz @ k8s2',
      '18. restart kube-controller-manager, kube-scheduler (their caches hold the state from after the snapshot) @ k8s1, k8s2',
      '19. restart kubelet, kube-proxy, flanneld (their caches hold the state from after the snapshot) @ k8s1, k8s2, k8s3, k8s4',
      '20. restart the addons\' pods that watch the API (coredns, kubernetes-dashboard, dashboard-metrics-scraper, ingress-nginx-controller) @ here',
    ]);
    expect(plan.stdout).toContain('nothing done: run again with --yes');
    expect(fs.existsSync(st.log)).toBe(false);

    // A restore is all or nothing: --only is refused with the reason, before anything is touched.
    const only = deploy(dist, ['--restore', file, '--only', 'k8s1', '--yes'], st);
    expect([only.status, only.stderr]).toEqual([2, 'deploy.sh: error: --only k8s1: a restore brings every etcd member (k8s1 k8s2 k8s3) back from the one snapshot, '
      + 'or they would hold different data; run --restore without --only\n']);
    expect(fs.existsSync(st.log)).toBe(false);

    // The snapshot named relative to where the operator stands, as a shell completes it.
    const r = spawnSync('bash', [path.join(dist, 'deploy.sh'), '--restore', 'snap.db', '--yes'], {
      cwd: operator, encoding: 'utf8', timeout: 30_000, input: '',
      env: { ...process.env, SSH: path.join(st.dir, 'ssh'), SCP: path.join(st.dir, 'scp'), KUBECTL: kubectl, KUBESMITH_WAIT_DELAY: '0', KUBESMITH_WAIT_TRIES: '2' },
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(st.log, 'utf8').trim().split('\n').filter((c) => !c.includes('mkdir -p') && !c.includes('sha256sum -c'));
    // Every copy is of the operator's snapshot or of dist/'s restore encryption config, to the step's path.
    for (const c of calls.filter((x) => x.startsWith('scp '))) {
      expect(c).toMatch(new RegExp(`^scp (${file} root@192\\.168\\.100\\.\\d+:${RESTORE_SNAPSHOT}|restore/encryption-config\\.yaml root@192\\.168\\.100\\.[12]0:${RESTORE_ENCRYPTION.upload})$`));
    }
    const kube = '--kubeconfig admin.kubeconfig';
    // The two ends of the rewrite's pipe run at once: their log lines come in either order.
    const rewrite = [`kubectl ${kube} get secrets --all-namespaces -o json`, `kubectl ${kube} replace -f -`];
    const short = calls.map((c) => c.replace(/^ssh root@192\.168\.100\.(\d+) /, '$1 ').replace(/^scp .* root@192\.168\.100\.(\d+):.*/, '$1 copy'))
      .map((c) => (rewrite.includes(c) ? 'kubectl get secrets | kubectl replace' : c));
    const saved = RESTORE_ENCRYPTION.saved;
    const config = '/opt/kubernetes/cfg/encryption-config.yaml';
    const putBack = (n: number) => [`${n} if [ -e ${saved} ]; then mv -f ${saved} ${config}; fi`, `${n} systemctl restart kube-apiserver.service`,
      expect.stringMatching(new RegExp(`^${n} curl .*/readyz && sleep 11$`))];
    expect(short).toEqual([
      '10 copy', `10 ${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table`,
      '20 copy', `20 ${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table`,
      '30 copy', `30 ${ETCD_FILES.etcdutl} snapshot status ${RESTORE_SNAPSHOT} -w table`,
      '10 systemctl stop kube-apiserver.service', '20 systemctl stop kube-apiserver.service',
      '10 copy', `10 if [ ! -e ${saved} ]; then cp -p ${config} ${saved}; fi; mv -f ${RESTORE_ENCRYPTION.upload} ${config}`,
      '20 copy', `20 if [ ! -e ${saved} ]; then cp -p ${config} ${saved}; fi; mv -f ${RESTORE_ENCRYPTION.upload} ${config}`,
      '10 systemctl stop etcd.service', '20 systemctl stop etcd.service', '30 systemctl stop etcd.service',
      `10 ${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`, `20 ${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`, `30 ${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`,
      '10 systemctl start --no-block etcd.service', '20 systemctl start --no-block etcd.service', '30 systemctl start --no-block etcd.service',
      expect.stringMatching(/^10 \/opt\/etcd\/bin\/etcdctl .* endpoint health$/),
      '10 systemctl start kube-apiserver.service', '20 systemctl start kube-apiserver.service',
      expect.stringMatching(/^10 curl .*\/readyz && sleep 11$/), expect.stringMatching(/^20 curl .*\/readyz && sleep 11$/),
      'kubectl get secrets | kubectl replace', 'kubectl get secrets | kubectl replace',
      expect.stringMatching(new RegExp(`^10 f=\\$\\(/opt/etcd/bin/etcdctl .* get --prefix /registry/secrets/ -w fields\\) .* \\$2 != "secretbox:${writer}"`)),
      ...putBack(10), ...putBack(20),
      '10 systemctl restart kube-controller-manager.service kube-scheduler.service', '20 systemctl restart kube-controller-manager.service kube-scheduler.service',
      ...[10, 20, 30, 40].map((n) => `${n} systemctl restart kubelet.service kube-proxy.service flanneld.service`),
      ...['kube-system deployment/coredns', 'kubernetes-dashboard deployment/kubernetes-dashboard', 'kubernetes-dashboard deployment/dashboard-metrics-scraper',
        'ingress-nginx daemonset/ingress-nginx-controller'].flatMap((w) => [`kubectl ${kube} -n ${w.replace(' ', ' get ')} -o name`, `kubectl ${kube} -n ${w.replace(' ', ' rollout restart ')}`]),
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
      [['--rebuild-member', 'k8s3', '--check'], '--check, --snapshot, --restore, --rebuild-member and --secret-keys are separate modes: give one'],
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

  test('--secret-keys counts the Secrets by key on the first member (or --only MEMBER), and fails while one is written with another key', async () => {
    const s = await synthBundles(ecdsa);
    const dist = path.join(s.dir, 'dist');
    const writer = JSON.parse(fs.readFileSync(path.join(s.dir, 'state/secrets.json'), 'utf8')).encryptionKeys[0].name;
    const st = stubs();
    const ok = deploy(dist, ['--secret-keys'], st);
    expect([ok.status, ok.stderr, ok.stdout]).toEqual([0, '', `deploy.sh: Secrets in etcd by the key that wrote them (on k8s1):\ndeploy.sh: every Secret is written with ${writer}\n`]);
    expect(fs.readFileSync(st.log, 'utf8')).toMatch(/^ssh root@192\.168\.100\.10 f=\$\(\/opt\/etcd\/bin\/etcdctl --endpoints=https:\/\/127\.0\.0\.1:2379 /);
    const bad = deploy(dist, ['--secret-keys', '--only', 'k8s3'], st, { FAIL_MATCH: '/registry/secrets/' });
    expect([bad.status, bad.stderr]).toEqual([1, `deploy.sh: error: not every Secret is written with ${writer}, or etcd could not be read on k8s3; write them again: kubectl get secrets -A -o json | kubectl replace -f -\n`]);
    expect(deploy(dist, ['--secret-keys', '--only', 'k8s4'], st).stderr).toContain('k8s4 is not an etcd member');
    expect(deploy(dist, ['--secret-keys', '--snapshot'], st).status).toBe(2);
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
