import { App } from 'cdk8s';
import {
  ClusterDefinition, ClusterModel, formatEvent,
} from '../../lib';
import { HostBundle, serviceDependencies } from '../../lib/components';
import { SEED, withChanges } from '../support/clusters';
import { twoSynths } from '../support/synth-bundles';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
const addHost = (def: ClusterDefinition, host: object) => withChanges(def, { hosts: [...def.hosts, host] });

test('nothing changed: the plan is empty and synth says one line', async () => {
  const { result, logs } = await twoSynths(ecdsa, ecdsa);
  expect(result.plan.hosts).toEqual([]);
  expect(logs.filter((l) => !l.includes('warning:'))).toEqual(['kubesmith: cluster kubesmith: nothing changed']);
});

test('a new master re-issues the apiserver certificate and changes it on every master', async () => {
  const { result, logs } = await twoSynths(ecdsa, addHost(ecdsa, { name: 'k8s5', ip: '192.168.100.60', roles: ['master'] }));
  expect(result.plan.certificates.map(formatEvent)).toEqual(['re-issued apiserver: SANs changed: +k8s5 +192.168.100.60']);
  const byHost = Object.fromEntries(result.plan.hosts.map((h) => [h.host, h]));
  expect(byHost.k8s5.status).toBe('new');
  for (const m of ['k8s1', 'k8s2']) expect(byHost[m].changed).toContain('opt/kubernetes/ssl/apiserver.pem');
  expect(byHost.k8s4).toBeUndefined();
  expect(logs.join('\n')).toContain('re-issued apiserver: SANs changed: +k8s5 +192.168.100.60');
  expect(logs.join('\n')).toMatch(/HOST\s+ROLES\s+FILES\s+BUNDLE/);
});

test('a new node changes no other host', async () => {
  const { result } = await twoSynths(ecdsa, addHost(ecdsa, { name: 'k8s5', ip: '192.168.100.60', roles: ['node'] }));
  expect(result.plan.certificates).toEqual([]);
  expect(result.plan.hosts.map((h) => [h.host, h.status])).toEqual([['k8s5', 'new']]);
});

test('a removed host is reported as removed', async () => {
  const { result } = await twoSynths(ecdsa, withChanges(ecdsa, { hosts: ecdsa.hosts.slice(0, 3) }));
  expect(result.plan.hosts.map((h) => [h.host, h.status])).toEqual([['k8s4', 'removed']]);
});

test('service dependencies follow paths from the unit through the files it names', () => {
  const model = ClusterModel.fromDefinition(ecdsa);
  const bundle = new HostBundle(new App(), 'b', { host: model.hosts[0] });
  bundle.addFile('/usr/lib/systemd/system/demo.service', '[Service]\nEnvironmentFile=/opt/demo/cfg/demo\nExecStart=/opt/demo/bin/demo $OPTS\n');
  bundle.addFile('/opt/demo/cfg/demo', 'OPTS="--kubeconfig=/opt/demo/cfg/demo.kubeconfig"\n');
  bundle.addFile('/opt/demo/cfg/demo.kubeconfig', 'client-certificate: /opt/demo/ssl/demo.pem\n');
  bundle.addFile('/opt/demo/ssl/demo.pem', 'cert');
  bundle.addFile('/opt/demo/ssl/other.pem', 'unrelated');
  bundle.addFile('/etc/pkg/pkg.conf', 'include /opt/demo/ssl/other.pem;\n');
  bundle.addService({ unit: 'demo.service', order: 1, binaries: ['/opt/demo/bin/demo'], source: 'test' });
  bundle.addService({ unit: 'pkg.service', order: 2, binaries: [], source: 'test', config: ['/etc/pkg/pkg.conf'] });
  const deps = serviceDependencies(bundle);
  expect([...deps.get('demo.service')!].sort()).toEqual([
    '/opt/demo/cfg/demo', '/opt/demo/cfg/demo.kubeconfig', '/opt/demo/ssl/demo.pem', '/usr/lib/systemd/system/demo.service']);
  expect([...deps.get('pkg.service')!].sort()).toEqual(['/etc/pkg/pkg.conf', '/opt/demo/ssl/other.pem']);
});
