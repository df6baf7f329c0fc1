/**
 * Changes a running cluster cannot take: refused at synth against the last synth's record, naming the field, with
 * nothing written (dist/ and the state stay byte for byte).
 */
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
