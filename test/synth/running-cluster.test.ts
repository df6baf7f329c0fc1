/**
 * Changes a running cluster cannot take: refused at synth against the last synth's record, naming the field, with
 * nothing written (dist/ and the state stay byte for byte).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  ClusterDefinition, ClusterDefinitionError, synthesizeCluster,
} from '../../lib';
import { RECORD_FILE } from '../../lib/output';
import { SEED, withChanges } from '../support/clusters';
import { tree } from '../support/file-tree';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const DEF: ClusterDefinition = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
const quiet = { log: () => undefined };

/** A directory with one synth of `def` done. */
async function synthOnce(def: ClusterDefinition) {
  const dir = tempDir();
  const opts = { outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), ...quiet };
  await synthesizeCluster(def, opts);
  return { dir, opts };
}

/** The issues a refused synth reports, after checking it wrote nothing. */
async function refused(dir: string, opts: object, def: ClusterDefinition) {
  const before = tree(dir);
  const err = await synthesizeCluster(def, opts).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClusterDefinitionError);
  expect(tree(dir)).toEqual(before);
  return (err as ClusterDefinitionError).issues.map((i) => ({ path: i.path, value: i.value, message: i.message }));
}

const net = (changes: object) => withChanges(DEF, { network: { ...DEF.network, ...changes } });

describe('network settings the running cluster keeps', () => {
  test.each([
    ['network.podCidr', { podCidr: '172.30.0.0/16' }, '172.30.0.0/16', '"172.20.0.0/16"', 'a Node\'s podCIDR never changes'],
    ['network.clusterDns', { clusterDns: '10.0.0.53' }, '10.0.0.53', '"10.0.0.2"', 'resolv.conf names it'],
    ['network.dnsDomain', { dnsDomain: 'example.internal' }, 'example.internal', '"cluster.local"', 'resolv.conf searches it'],
  ])('a changed %s is refused after the first synth, naming the old value', async (field, change, value, was, why) => {
    const { dir, opts } = await synthOnce(DEF);
    expect(await refused(dir, opts, net(change))).toEqual([{
      path: field, value, message: expect.stringContaining(`differs from ${was}, the value of the last synth, and cannot change on a running cluster`),
    }]);
    expect((await refused(dir, opts, net(change)))[0].message).toContain(why);
  });

  test('a new serviceCidr moves the default cluster DNS address too: both are named; the first synth takes any', async () => {
    const defaultDns = net({ clusterDns: undefined });
    const { dir, opts } = await synthOnce(defaultDns);
    const issues = await refused(dir, opts, withChanges(defaultDns, { network: { ...defaultDns.network, serviceCidr: '10.96.0.0/12' } }));
    expect(issues.map((i) => [i.path, i.value])).toEqual([['network.serviceCidr', '10.96.0.0/12'], ['network.clusterDns', '10.96.0.10']]);
    expect(issues[1].message).toContain('differs from "10.0.0.10"');
    // A fresh state is a new cluster: nothing to keep.
    await expect(synthOnce(net({ serviceCidr: '10.96.0.0/12', clusterDns: undefined }))).resolves.toBeDefined();
  });

  test('settings that may change still do (the NodePort range); an older record without them checks nothing and gains them', async () => {
    const { dir, opts } = await synthOnce(DEF);
    await expect(synthesizeCluster(net({ nodePortRange: '30000-32767' }), opts)).resolves.toBeDefined();
    const file = path.join(dir, 'state', RECORD_FILE);
    const { network, ...older } = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(network).toEqual({ podCidr: '172.20.0.0/16', serviceCidr: '10.0.0.0/24', clusterDns: '10.0.0.2', dnsDomain: 'cluster.local' });
    fs.writeFileSync(file, `${JSON.stringify(older)}\n`);
    await expect(synthesizeCluster(net({ nodePortRange: '30000-32767', podCidr: '172.30.0.0/16' }), opts)).resolves.toBeDefined();
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).network.podCidr).toBe('172.30.0.0/16');
  });
});

describe('an etcd member\'s address', () => {
  const move = (def: ClusterDefinition, name: string, ip: string, roles?: ClusterDefinition['hosts'][number]['roles']) => withChanges(def, {
    hosts: def.hosts.map((h) => (h.name === name ? { ...h, ip, ...(roles ? { roles } : {}) } : h)),
  });

  test('a moved member: its peer URL is updated (member update, on another member) before the roll-out; a second synth keeps the step in deploy.sh', async () => {
    const { dir, opts } = await synthOnce(DEF);
    const moved = await synthesizeCluster(move(DEF, 'k8s3', '192.168.100.33'), opts);
    expect(moved.plan.runtime!.map((s) => `${s.title} @ ${s.on === 'operator' ? 'here' : s.on.map((h) => h.name).join(',')}`)).toEqual([
      'etcdctl member update k8s3 --peer-urls=https://192.168.100.33:2380 @ k8s1',
    ]);
    // Its new certificates name the new address; the other members' ETCD_INITIAL_CLUSTER too.
    expect(moved.plan.certificates.map((e) => e.name)).toEqual(expect.arrayContaining(['etcd-peer@k8s3', 'etcd-server@k8s3']));
    const again = await synthesizeCluster(move(DEF, 'k8s3', '192.168.100.33'), opts);
    expect(again.plan.runtime).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'dist/deploy.sh'), 'utf8')).toContain('/opt/etcd/bin/etcd-member.sh update k8s3 https://192.168.100.33:2380');
  });

  test('a host that is no etcd member may move; a member that keeps its address may change other roles', async () => {
    const { opts } = await synthOnce(DEF);
    await expect(synthesizeCluster(move(DEF, 'k8s4', '192.168.100.44'), opts)).resolves.toBeDefined();
    await expect(synthesizeCluster(withChanges(DEF, { hosts: DEF.hosts.map((h) => (h.name === 'k8s3' ? { ...h, roles: ['etcd'] } : h)) }), opts))
      .resolves.toBeDefined();
  });
});

describe('a kubelet host whose roles change its control-plane taint', () => {
  const roles = (def: ClusterDefinition, name: string, r: ClusterDefinition['hosts'][number]['roles']) => withChanges(def, {
    hosts: def.hosts.map((h) => (h.name === name ? { ...h, roles: r } : h)),
  });
  /** Runs a step's command with a kubectl stand-in whose Node k8s2 has `taints`; returns the taint calls it got. */
  function runWithNode(command: string, taints: string[], registered = true): string[] {
    const dir = tempDir();
    const log = path.join(dir, 'calls');
    fs.writeFileSync(path.join(dir, 'kubectl'), [
      '#!/bin/bash',
      'shift 2 # --kubeconfig admin.kubeconfig',
      'case "$1 $2" in',
      `  "get node") if [[ "$*" == *--ignore-not-found* ]]; then ${registered ? 'echo node/$3' : 'true'}; else echo '${taints.join(' ')}'; fi ;;`,
      `  "taint node") echo "$*" >> ${log} ;;`,
      '  *) echo "unexpected: $*" >&2; exit 1 ;;',
      'esac',
    ].join('\n'), { mode: 0o755 });
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', command], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, KUBECTL: path.join(dir, 'kubectl') }, timeout: 10000 });
    expect([r.status, r.stderr]).toEqual([0, '']);
    return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  }

  test('a master given the node role is untainted, and tainted again when it loses it; each step once in the plan, guarded on the cluster', async () => {
    const { dir, opts } = await synthOnce(DEF);
    const worker = await synthesizeCluster(roles(DEF, 'k8s2', ['master', 'etcd', 'lb', 'node']), opts);
    const untaint = worker.plan.runtime!;
    expect(untaint.map((s) => s.title)).toEqual(['kubectl taint node k8s2 node-role.kubernetes.io/control-plane:NoSchedule- (it has the node role: it takes pods)']);
    expect(runWithNode(untaint[0].command!, ['node-role.kubernetes.io/control-plane', 'example.com/other'])).toEqual(['taint node k8s2 node-role.kubernetes.io/control-plane:NoSchedule-']);
    expect(runWithNode(untaint[0].command!, ['example.com/other'])).toEqual([]);
    expect(runWithNode(untaint[0].command!, [], false)).toEqual([]);
    // Its kubelet would register untainted from now on.
    expect(fs.readFileSync(path.join(dir, 'dist/deploy.sh'), 'utf8')).toContain('taint node k8s2 node-role.kubernetes.io/control-plane:NoSchedule-');
    expect((await synthesizeCluster(roles(DEF, 'k8s2', ['master', 'etcd', 'lb', 'node']), opts)).plan.runtime).toEqual([]);

    const master = await synthesizeCluster(DEF, opts);
    expect(master.plan.runtime!.map((s) => s.title)).toEqual(['kubectl taint node k8s2 node-role.kubernetes.io/control-plane:NoSchedule (a master without the node role takes no pods)']);
    expect(runWithNode(master.plan.runtime![0].command!, [])).toEqual(['taint node k8s2 node-role.kubernetes.io/control-plane:NoSchedule --overwrite']);
    expect(runWithNode(master.plan.runtime![0].command!, [], false)).toEqual([]);
    const deploy = fs.readFileSync(path.join(dir, 'dist/deploy.sh'), 'utf8');
    expect([deploy.includes('NoSchedule --overwrite'), deploy.includes('NoSchedule-;')]).toEqual([true, false]);
  });

  test('roles that keep the taint as it was plan no taint step', async () => {
    const { opts } = await synthOnce(DEF);
    // k8s3 (node, etcd) loses etcd; k8s4 (node) gains it: both stay untainted.
    const r = await synthesizeCluster(withChanges(DEF, { hosts: DEF.hosts.map((h) => (h.name === 'k8s3' ? { ...h, roles: ['node' as const] }
      : h.name === 'k8s4' ? { ...h, roles: ['node' as const, 'etcd' as const] } : h)) }), opts);
    expect(r.plan.runtime!.filter((s) => s.title.includes('taint'))).toEqual([]);
  });
});
