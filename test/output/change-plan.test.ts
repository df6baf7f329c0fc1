import { App } from 'cdk8s';
import {
  ClusterDefinition, ClusterModel, formatEvent,
} from '../../lib';
import { HostBundle, reloadDependencies, serviceAction, serviceDependencies } from '../../lib/components';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { synthBundles, twoSynths } from '../support/synth-bundles';
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
  // The apiserver reads its new certificate at start; nginx reloads its new upstream and keeps its connections.
  expect([byHost.k8s1.restart, byHost.k8s1.reload]).toEqual([['kube-apiserver.service'], ['nginx.service']]);
  expect(logs.join('\n')).toContain('    restart: kube-apiserver.service\n    reload: nginx.service\n');
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

test('a reloadable service reloads for its config alone; its unit, or a file the unit names, restarts it', () => {
  const model = ClusterModel.fromDefinition(ecdsa);
  const bundle = new HostBundle(new App(), 'b', { host: model.hosts[0] });
  bundle.addFile('/usr/lib/systemd/system/lb.service', '[Service]\nEnvironmentFile=/etc/lb/env\nExecStart=/usr/sbin/lb\n');
  bundle.addFile('/etc/lb/env', 'ARGS=\n');
  bundle.addFile('/etc/lb/lb.conf', 'include /etc/lb/upstreams;\nenv /etc/lb/env;\n');
  bundle.addFile('/etc/lb/upstreams', 'a\n');
  bundle.addService({ unit: 'lb.service', order: 1, binaries: ['/usr/sbin/lb'], source: 'test', config: ['/etc/lb/lb.conf'], reload: true });
  bundle.addService({ unit: 'plain.service', order: 2, binaries: [], source: 'test', config: ['/etc/lb/upstreams'] });
  const deps = serviceDependencies(bundle);
  const reloads = reloadDependencies(bundle);
  expect([...reloads.keys()]).toEqual(['lb.service']);
  expect([...reloads.get('lb.service')!].sort()).toEqual(['/etc/lb/lb.conf', '/etc/lb/upstreams']);
  const act = (unit: string, ...touched: string[]) => serviceAction(unit, deps, reloads, new Set(touched));
  expect([act('lb.service', '/etc/lb/upstreams'), act('lb.service', '/etc/lb/lb.conf', '/etc/lb/upstreams')]).toEqual(['reload', 'reload']);
  expect([act('lb.service', '/etc/lb/env'), act('lb.service', '/etc/lb/upstreams', '/usr/lib/systemd/system/lb.service')]).toEqual(['restart', 'restart']);
  expect([act('lb.service', '/etc/other'), act('plain.service', '/etc/lb/upstreams')]).toEqual([undefined, 'restart']);
});

test('a changed image registry restarts containerd on every kubelet host (its config names the pause image), nothing else', async () => {
  const { result, logs } = await twoSynths(ecdsa, withChanges(ecdsa, { imageRegistry: 'registry.example.com/k8s' }));
  const kubeletHosts = ecdsa.hosts.filter((h) => h.roles.includes('master') || h.roles.includes('node')).map((h) => h.name);
  expect(result.plan.hosts.map((h) => [h.host, h.changed, h.restart, h.reload])).toEqual(kubeletHosts.map((h) => [
    h, ['etc/containerd/config.toml'], ['containerd.service'], [],
  ]));
  expect(logs.join('\n')).toContain('    ~ /etc/containerd/config.toml\n    restart: containerd.service');
});

test('a changed VRRP router id reloads keepalived on the lb hosts, and restarts nothing', async () => {
  const { result, logs } = await twoSynths(ecdsa, withChanges(ecdsa, { loadBalancer: { ...ecdsa.loadBalancer!, virtualRouterId: 77 } }));
  const lbHosts = ecdsa.hosts.filter((h) => h.roles.includes('lb')).map((h) => h.name);
  expect(result.plan.hosts.map((h) => [h.host, h.changed, h.restart, h.reload])).toEqual(lbHosts.map((h) => [
    h, ['etc/keepalived/keepalived.conf'], [], ['keepalived.service'],
  ]));
  expect(logs.join('\n')).toContain('    ~ /etc/keepalived/keepalived.conf\n    reload: keepalived.service');
});

/**
 * Bundle files no running service reads at its start, so a change to them restarts nothing, with why. Every other
 * file must be a dependency of a service (its row's config, or named from its unit): a file read by a process but
 * claimed by none would change under it unnoticed (containerd's config.toml once was).
 */
const READ_WHEN_USED: readonly [RegExp, string][] = [
  [/^\/etc\/cni\/net\.d\//, 'containerd reads the CNI config for each pod sandbox it sets up'],
  [/^\/etc\/crictl\.yaml$/, 'crictl, an operator tool, reads it per command'],
  [/^\/etc\/(modules-load|sysctl)\.d\//, 'install.sh applies them itself on every run'],
  [/^\/opt\/etcd\/(bin\/etcd-[a-z]+\.sh|cfg\/etcdctl\.env)$/, 'the etcd helpers, read per run (timer, operator, roll-out)'],
  [/^\/usr\/lib\/systemd\/system\/(etcd-snapshot|kubesmith-cert-check)\.service$/, 'started by its timer; install.sh reloads systemd every run'],
  [/^\/opt\/kubesmith\/(bin\/cert-check\.sh|cfg\/cert-check\.conf)$/, 'the certificate expiry check, read per run (timer, install.sh --check)'],
  [/^\/opt\/kubernetes\/(cfg\/admin\.kubeconfig|ssl\/admin(-key)?\.pem)$/, 'the operator\'s kubectl on a master'],
];

test.each([['main.ts', ecdsa], ['LARGE', LARGE]] as const)('%s: every bundle file is read by a service it restarts (or reloads), or on each use', async (_n, def) => {
  const s = await synthBundles(def);
  for (const host of s.result.model.hosts) {
    const bundle = s.result.cluster.bundle(host.name);
    const claimed = new Set([...serviceDependencies(bundle).values()].flatMap((d) => [...d]));
    const unclaimed = bundle.files.map((f) => `/${f.path}`)
      .filter((p) => !claimed.has(p) && !bundle.obsoleteFiles.has(p.slice(1)) && !READ_WHEN_USED.some(([re]) => re.test(p)));
    expect([host.name, unclaimed]).toEqual([host.name, []]);
  }
});
