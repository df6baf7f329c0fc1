import * as fs from 'fs';
import * as path from 'path';
import { ClusterDefinition, ClusterDefinitionError, ClusterModel, synthesizeCluster, validateDefinition } from '../../lib';
import { LARGE, SEED } from '../support/clusters';
import { cleanupTempDirs, tempDir } from '../support/tmp';

type Mutable = { -readonly [K in keyof ClusterDefinition]: any };
function mutate(fn: (d: Mutable) => void, base: ClusterDefinition = SEED): ClusterDefinition {
  const d = JSON.parse(JSON.stringify(base));
  fn(d);
  return d;
}

afterAll(cleanupTempDirs);

describe('valid definitions', () => {
  test.each([['seed', SEED], ['large', LARGE]])('%s cluster has no issues', (_name, def) => {
    expect(validateDefinition(def)).toEqual([]);
  });

  test('defaults are resolved', () => {
    const m = ClusterModel.fromDefinition(mutate((d) => {
      delete d.network.clusterDns;
      delete d.network.dnsDomain;
      delete d.network.nodePortRange;
      delete d.hosts[0].interface;
    }));
    expect(m.network.clusterDns).toBe('10.0.0.10');
    expect(m.network.firstServiceIp).toBe('10.0.0.1');
    expect(m.network.dnsDomain).toBe('cluster.local');
    expect(m.network.nodePortRange).toEqual({ low: 30000, high: 32767 });
    expect(m.hosts[0].interface).toBe('eth0');
    expect(m.apiServerEndpoint).toBe('https://192.168.100.50:6444');
  });
});

// One case per rule: the mutation, the field path the error must name, and the bad value it must show.
const RULES: [string, (d: Mutable) => void, string, unknown, RegExp?][] = [
  ['cluster name not RFC 1123', (d) => { d.name = 'My_Cluster'; }, 'name', 'My_Cluster'],
  ['unsupported Kubernetes version', (d) => { d.kubernetesVersion = '1.12.0'; }, 'kubernetesVersion', '1.12.0'],
  ['no hosts', (d) => { d.hosts = []; }, 'hosts', []],
  ['host name not RFC 1123', (d) => { d.hosts[1].name = 'K8S_2'; }, 'hosts[1].name', 'K8S_2'],
  ['duplicate host name', (d) => { d.hosts[1].name = 'k8s1'; }, 'hosts[1].name', 'k8s1'],
  ['malformed host IP', (d) => { d.hosts[2].ip = '192.168.100.300'; }, 'hosts[2].ip', '192.168.100.300'],
  ['duplicate host IP', (d) => { d.hosts[3].ip = '192.168.100.10'; }, 'hosts[3].ip', '192.168.100.10'],
  ['bad interface name', (d) => { d.hosts[0].interface = 'eth 0/1'; }, 'hosts[0].interface', 'eth 0/1'],
  ['unknown role', (d) => { d.hosts[3].roles = ['node', 'worker']; }, 'hosts[3].roles[1]', 'worker'],
  ['duplicate role', (d) => { d.hosts[3].roles = ['node', 'node']; }, 'hosts[3].roles[1]', 'node'],
  ['no roles', (d) => { d.hosts[3].roles = []; }, 'hosts[3].roles', []],
  ['even etcd member count', (d) => { d.hosts[2].roles = ['node']; }, 'hosts', ['k8s1', 'k8s2']],
  ['zero etcd members', (d) => { for (const h of d.hosts) h.roles = h.roles.filter((r: string) => r !== 'etcd'); }, 'hosts', []],
  ['no master', (d) => { d.hosts[0].roles = ['etcd', 'lb']; d.hosts[1].roles = ['etcd', 'lb']; }, 'hosts', ['k8s1', 'k8s2', 'k8s3', 'k8s4']],
  ['apiserver port out of range', (d) => { d.apiServerPort = 70000; }, 'apiServerPort', 70000],
  ['malformed service CIDR', (d) => { d.network.serviceCidr = '10.0.0.0/33'; }, 'network.serviceCidr', '10.0.0.0/33'],
  ['service CIDR with host bits', (d) => { d.network.serviceCidr = '10.0.0.5/24'; }, 'network.serviceCidr', '10.0.0.5/24'],
  ['service CIDR too large', (d) => { d.network.serviceCidr = '10.0.0.0/8'; d.network.clusterDns = '10.0.0.2'; }, 'network.serviceCidr', '10.0.0.0/8'],
  ['malformed pod CIDR', (d) => { d.network.podCidr = '172.20.0/16'; }, 'network.podCidr', '172.20.0/16'],
  ['pod CIDR too small for node subnets', (d) => { d.network.podCidr = '172.20.0.0/24'; }, 'network.podCidr', '172.20.0.0/24'],
  ['pod CIDR with fewer /24s than nodes', (d) => { d.network.podCidr = '172.20.0.0/23'; d.hosts.push({ name: 'k8s5', ip: '192.168.100.41', roles: ['node'] }, { name: 'k8s6', ip: '192.168.100.42', roles: ['node'] }); }, 'network.podCidr', '172.20.0.0/23'],
  ['pod and service networks overlap', (d) => { d.network.podCidr = '10.0.0.0/16'; }, 'network.podCidr', '10.0.0.0/16'],
  ['host inside the pod network', (d) => { d.network.podCidr = '192.168.0.0/16'; }, 'hosts[0].ip', '192.168.100.10'],
  ['host inside the service network', (d) => { d.network.serviceCidr = '192.168.100.0/24'; d.network.clusterDns = '192.168.100.2'; }, 'hosts[0].ip', '192.168.100.10'],
  ['cluster DNS malformed', (d) => { d.network.clusterDns = '10.0.0'; }, 'network.clusterDns', '10.0.0'],
  ['cluster DNS outside the service CIDR', (d) => { d.network.clusterDns = '10.0.1.2'; }, 'network.clusterDns', '10.0.1.2'],
  ['cluster DNS is the first service IP', (d) => { d.network.clusterDns = '10.0.0.1'; }, 'network.clusterDns', '10.0.0.1'],
  ['DNS domain invalid', (d) => { d.network.dnsDomain = 'Cluster_Local'; }, 'network.dnsDomain', 'Cluster_Local'],
  ['unknown flannel backend', (d) => { d.network.flannelBackend = 'udp'; }, 'network.flannelBackend', 'udp'],
  ['unknown kube-proxy mode', (d) => { d.network.kubeProxyMode = 'userspace'; }, 'network.kubeProxyMode', 'userspace'],
  ['NodePort range malformed', (d) => { d.network.nodePortRange = '50000-30000'; }, 'network.nodePortRange', '50000-30000'],
  ['NodePort range out of range', (d) => { d.network.nodePortRange = '30000-70000'; }, 'network.nodePortRange', '30000-70000'],
  ['lb role without VIP', (d) => { delete d.loadBalancer; }, 'loadBalancer', undefined],
  ['VIP without lb host', (d) => { for (const h of d.hosts) h.roles = h.roles.filter((r: string) => r !== 'lb'); }, 'loadBalancer', { vip: '192.168.100.50/24', port: 6444 }],
  ['VIP malformed', (d) => { d.loadBalancer.vip = '192.168.100.50'; }, 'loadBalancer.vip', '192.168.100.50'],
  ['VIP equals a host IP', (d) => { d.loadBalancer.vip = '192.168.100.20/24'; }, 'loadBalancer.vip', '192.168.100.20/24'],
  ['VIP outside the lb hosts subnet', (d) => { d.loadBalancer.vip = '192.168.200.50/24'; }, 'loadBalancer.vip', '192.168.200.50/24'],
  ['VIP inside the pod network', (d) => { d.loadBalancer.vip = '172.20.5.5/24'; }, 'loadBalancer.vip', '172.20.5.5/24', /overlaps network.podCidr/],
  ['lb port out of range', (d) => { d.loadBalancer.port = 0; }, 'loadBalancer.port', 0],
  ['lb port equals apiserver port on a master', (d) => { d.loadBalancer.port = 6443; }, 'loadBalancer.port', 6443],
  ['lb port inside NodePort range', (d) => { d.loadBalancer.port = 30080; }, 'loadBalancer.port', 30080],
  ['apiserver port inside NodePort range', (d) => { d.apiServerPort = 31000; }, 'apiServerPort', 31000],
  ['VRRP router id out of range', (d) => { d.loadBalancer.virtualRouterId = 300; }, 'loadBalancer.virtualRouterId', 300],
  ['CA validity not positive', (d) => { d.certificates.caValidityDays = 0; }, 'certificates.caValidityDays', 0],
  ['leaf validity not an integer', (d) => { d.certificates.validityDays = 1.5; }, 'certificates.validityDays', 1.5],
  ['leaf outlives CA', (d) => { d.certificates.validityDays = 4000; }, 'certificates.validityDays', 4000],
  ['unknown key algorithm', (d) => { d.certificates.keyAlgorithm = 'dsa'; }, 'certificates.keyAlgorithm', 'dsa'],
  ['expiry check schedule systemd refuses', (d) => { d.certificates.expiryCheck = { schedule: 'every day' }; }, 'certificates.expiryCheck.schedule', 'every day'],
  ['expiry check not a boolean', (d) => { d.certificates.expiryCheck = { enabled: 'yes' }; }, 'certificates.expiryCheck.enabled', 'yes'],
  ['textfile directory relative', (d) => { d.certificates.expiryCheck = { textfileDirectory: 'var/lib/node' }; }, 'certificates.expiryCheck.textfileDirectory', 'var/lib/node'],
  ['textfile directory with a space', (d) => { d.certificates.expiryCheck = { textfileDirectory: '/var/lib/node exporter' }; }, 'certificates.expiryCheck.textfileDirectory', '/var/lib/node exporter'],
  ['textfile directory climbing out', (d) => { d.certificates.expiryCheck = { textfileDirectory: '/var/../etc' }; }, 'certificates.expiryCheck.textfileDirectory', '/var/../etc'],
  ['country not two letters', (d) => { d.certificates.subject.country = 'China'; }, 'certificates.subject.country', 'China'],
  ['empty locality', (d) => { d.certificates.subject.locality = ''; }, 'certificates.subject.locality', ''],
  ['image registry malformed', (d) => { d.imageRegistry = 'https://mirror/'; }, 'imageRegistry', 'https://mirror/'],
];

describe('each validation rule', () => {
  // Rows are wrapped: jest passes a `done` callback in place of a missing trailing column.
  test.each(RULES.map((r) => [r[0], r] as const))('%s', (_name, [, fn, field, value, pattern]) => {
    const issues = validateDefinition(mutate(fn));
    const hit = issues.find((i) => i.path === field && (!pattern || pattern.test(i.message)));
    expect(hit).toBeDefined();
    expect(hit!.value).toEqual(value);
    // The message says what would be valid.
    expect(hit!.message).toMatch(/(use|expected|must|pick|add|did you mean|restore|needs|remove|set)/i);
  });
});

describe('reporting', () => {
  test('all problems are reported together, each naming field and value', () => {
    const def = mutate((d) => {
      d.hosts[2].ip = 'not-an-ip';
      d.network.clusterDns = '10.9.9.9';
      d.loadBalancer.port = 99999;
    });
    let error: unknown;
    try {
      ClusterModel.fromDefinition(def);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClusterDefinitionError);
    const err = error as ClusterDefinitionError;
    expect(err.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['hosts[2].ip', 'network.clusterDns', 'loadBalancer.port']));
    // A host is named by its name, not only its index.
    expect(err.message).toContain('hosts[2].ip (host k8s3): "not-an-ip" is not a valid IPv4 address');
    expect(err.message).toContain('network.clusterDns: "10.9.9.9"');
  });

  test('an invalid definition writes nothing: dist/ and the PKI state stay as they were', async () => {
    const dir = tempDir();
    const outdir = path.join(dir, 'dist');
    const stateDir = path.join(dir, 'state');
    const good = mutate((d) => { d.certificates.keyAlgorithm = 'ecdsa'; });
    await synthesizeCluster(good, { outdir, stateDir, log: () => undefined });
    const before = snapshotTree(dir);
    const bad = mutate((d) => { d.hosts[1].ip = '192.168.100.10'; }, good);
    await expect(synthesizeCluster(bad, { outdir, stateDir, log: () => undefined })).rejects.toThrow(ClusterDefinitionError);
    expect(snapshotTree(dir)).toEqual(before);
  });
});

/** Every file under dir with its bytes and mtime. */
function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${fs.statSync(p).mtimeMs} ${fs.readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}
