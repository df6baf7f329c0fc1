import * as fs from 'fs';
import * as path from 'path';
import {
  ClusterDefinition, ClusterDefinitionError, ClusterModel, synthesizeCluster, validateDefinition,
} from '../../lib';
import { SEED, withChanges } from '../support/clusters';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

/** A definition that sets every field the definition has, so every field's domain can be probed. */
const FULL: ClusterDefinition = {
  ...SEED,
  apiServerPort: 6443,
  auditLog: true,
  hosts: SEED.hosts.map((h) => ({ ...h })),
  loadBalancer: { vip: '192.168.100.50/24', port: 6444, virtualRouterId: 51, loadStreamModule: true, streamModulePath: '/usr/lib/nginx/modules/ngx_stream_module.so' },
  certificates: { subject: { country: 'CN', state: 'Beijing', locality: 'Beijing' }, caValidityDays: 3650, validityDays: 365, keyAlgorithm: 'ecdsa' },
  imageRegistry: 'registry.example.com/k8s',
  addons: {
    coreDns: { enabled: true, replicas: 2 },
    dashboard: { enabled: true, nodePort: 30001, adminUser: false },
    ingressNginx: { enabled: true, nodeSelector: { ingress: 'true' }, config: { 'proxy-body-size': '20m' } },
    bootstrapToken: { extraGroups: ['system:bootstrappers:workers'] },
  },
  apps: [{
    name: 'java-demo', namespace: 'java', image: 'tomcat:8.5-jre8', useImageRegistry: true, replicas: 3, containerPort: 8080,
    probePath: '/', resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    env: { JAVA_OPTS: '-Xmx512m' }, host: 'java.example.com', tls: { secretName: 'java-tls' }, sslRedirect: false,
    volumes: [{
      name: 'webapps', mountPath: '/usr/local/tomcat/webapps', server: '192.168.100.40', path: '/data/nfs/webapps', size: '5Gi',
      accessMode: 'ReadWriteMany', readOnly: false, perPod: false, mountOptions: ['nfsvers=4.1'],
    }],
  }],
};

/** Every field path of a value, with the value there: objects and lists recursed, the rest leaves. */
function fields(value: unknown, p: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [p, ...value.flatMap((v, i) => fields(v, [...p, i]))];
  if (typeof value === 'object' && value !== null) return [...(p.length ? [p] : []), ...Object.entries(value).flatMap(([k, v]) => fields(v, [...p, k]))];
  return [p];
}

function withValue(def: ClusterDefinition, at: (string | number)[], value: unknown): ClusterDefinition {
  const copy = JSON.parse(JSON.stringify(def));
  let o = copy;
  for (const k of at.slice(0, -1)) o = o[k];
  o[at[at.length - 1]] = value;
  return copy;
}

const HOSTILE: unknown[] = [
  null, '', ' ', 'x', '..', '../../etc/passwd', 'constructor', '__proto__', 'a'.repeat(300), '北京', 'a\nb', '$(reboot)', "'\"",
  -1, 0, 1.5, 2 ** 53, Number.NaN, true, false, [], [1], {}, { a: 1 },
];

/** What a message must give the user: a valid example, the valid values, or the fix. */
const HELPFUL = /e\.g\.|use one of|use an? |remove|did you mean|set |add |pick |must be (true or false|a list|an object)|expected /i;

describe('every field, every hostile value: an issue naming the field, or a cluster that synthesizes', () => {
  const paths = fields(FULL);
  test(`the full definition is valid (${paths.length} fields probed below)`, () => {
    expect(validateDefinition(FULL)).toEqual([]);
  });

  const accepted: string[] = [];
  test.each(paths.map((p) => [p.join('.'), p] as const))('%s', (_name, at) => {
    for (const value of HOSTILE) {
      const def = withValue(FULL, at, value);
      let issues;
      try {
        issues = validateDefinition(def);
      } catch (e) {
        throw new Error(`${at.join('.')} = ${JSON.stringify(value)}: validation threw ${(e as Error).stack}`);
      }
      if (issues.length === 0) {
        // Accepted: the model must build from it.
        expect(() => ClusterModel.fromDefinition(def)).not.toThrow();
        accepted.push(`${at.join('.')}=${JSON.stringify(value)}`);
        continue;
      }
      for (const issue of issues) {
        expect([at.join('.'), value, issue.path, issue.message, issue.path.length > 0 && HELPFUL.test(issue.message)]).toEqual([at.join('.'), value, issue.path, issue.message, true]);
      }
    }
  });

  test('what is accepted is a cluster kubesmith compiles', async () => {
    // Accepted hostile values are the ones that are valid in their field (a boolean, a number in range, ...):
    // synthesize a few of the strangest to be sure no later phase chokes on them.
    expect(accepted.length).toBeGreaterThan(0);
    const strange = [
      withValue(FULL, ['hosts', 3, 'name'], 'constructor'),
      withValue(FULL, ['apps', 0, 'name'], 'constructor'),
      withValue(FULL, ['apps', 0, 'env'], { constructor: 'x', __proto__: 'y' }),
      withValue(FULL, ['certificates', 'subject', 'locality'], '北京, "Haidian" + A=B'),
    ];
    for (const def of strange) {
      const dir = tempDir();
      await synthesizeCluster(def, { outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined });
      expect(fs.readdirSync(path.join(dir, 'dist', 'hosts')).sort()).toEqual(def.hosts.map((h) => `${h.name}.tar.gz`).sort());
    }
  });
});

describe('domains made explicit', () => {
  const issueAt = (def: ClusterDefinition, p: string) => validateDefinition(def).find((i) => i.path === p);

  test('host names are RFC 1123 labels: a 253-character name, a dotted name and an Ansible group name are refused, naming the host', () => {
    const long = 'n'.repeat(253);
    expect(issueAt(withValue(SEED, ['hosts', 3, 'name'], long), 'hosts[3].name')?.message).toMatch(/RFC 1123 label; use 1 to 63/);
    expect(issueAt(withValue(SEED, ['hosts', 3, 'name'], 'k8s.4'), 'hosts[3].name')).toBeDefined();
    const group = issueAt(withValue(SEED, ['hosts', 3, 'name'], 'node'), 'hosts[3].name');
    expect(group?.message).toMatch(/group name in dist\/ansible\/inventory.ini/);
    expect(group?.host).toBe('node');
    expect(() => ClusterModel.fromDefinition(withValue(SEED, ['hosts', 3, 'ip'], '127.0.0.1'))).toThrow('hosts[3].ip (host k8s4): "127.0.0.1" is a loopback address');
  });

  test('interface names follow Linux: ".", "..", "/", ":" and 16 characters are refused', () => {
    for (const name of ['.', '..', 'eth0/1', 'eth0:1', 'a'.repeat(16), 'eth 0']) {
      expect([name, issueAt(withValue(SEED, ['hosts', 0, 'interface'], name), 'hosts[0].interface')?.host]).toEqual([name, 'k8s1']);
    }
    for (const name of ['ens33', 'eth0.100', 'br-lan_1', 'a'.repeat(15)]) expect([name, validateDefinition(withValue(SEED, ['hosts', 0, 'interface'], name))]).toEqual([name, []]);
  });

  test('a typo in a field name is an issue with the field meant, not a silent default', () => {
    const def = JSON.parse(JSON.stringify(SEED));
    def.hosts[0].interfaces = 'ens34';
    def.network.kubeproxyMode = 'iptables';
    def.addons.dashbaord = { enabled: false };
    const issues = validateDefinition(def);
    expect(issues.map((i) => [i.path, i.message.match(/did you mean "([^"]+)"/)?.[1]])).toEqual([
      ['hosts[0].interfaces', 'interface'], ['network.kubeproxyMode', 'kubeProxyMode'], ['addons.dashbaord', 'dashboard'],
    ]);
  });

  test('an object where a value belongs, or a value where an object belongs, is an issue', () => {
    expect(issueAt(withChanges(SEED, { certificates: 'rsa' }), 'certificates')?.message).toMatch(/must be an object with the fields subject, caValidityDays/);
    expect(issueAt(withChanges(SEED, { hosts: ['k8s1'] }), 'hosts[0]')?.message).toMatch(/must be an object/);
    expect(validateDefinition(null as unknown as ClusterDefinition)[0].path).toBe('(definition)');
  });

  test('ports a component binds are not taken by the apiserver, the lb port or the NodePort range', () => {
    expect(issueAt(withChanges(SEED, { apiServerPort: 2379 }), 'apiServerPort')?.message).toMatch(/port of etcd clients on k8s1, k8s2, where kube-apiserver/);
    expect(issueAt(withChanges(SEED, { loadBalancer: { ...SEED.loadBalancer, port: 10250 } }), 'loadBalancer.port')?.message).toMatch(/port of the kubelet on k8s1, k8s2/);
    expect(issueAt(withChanges(SEED, { network: { ...SEED.network, nodePortRange: '2000-3000' } }), 'network.nodePortRange')?.message)
      .toMatch(/^includes 2379 \(etcd clients on k8s1, k8s2, k8s3\), 2380 \(etcd peers on k8s1, k8s2, k8s3\), which kube-proxy/);
  });

  describe('ports against every listener on the same host, naming both users', () => {
    const lbPort = (port: number, def: ClusterDefinition = SEED) => withChanges(def, { loadBalancer: { ...SEED.loadBalancer, port } });
    // k8s2 (master, etcd, lb) also a node: ingress-nginx runs there.
    const k8s2Node = withChanges(SEED, { hosts: SEED.hosts.map((h) => (h.name === 'k8s2' ? { ...h, roles: [...h.roles, 'node'] } : h)) });

    test('sshd\'s 22 on every host', () => {
      expect(issueAt(withChanges(SEED, { apiServerPort: 22 }), 'apiServerPort')?.message)
        .toBe('is the port of sshd on k8s1, k8s2, where kube-apiserver would bind it too; pick another, e.g. 6443');
      expect(issueAt(lbPort(22), 'loadBalancer.port')?.message).toBe("is the port of sshd on k8s1, k8s2, where nginx's L4 listener would bind it too; pick another, e.g. 6444");
    });

    test('the apiserver and the L4 port, where an lb host is a master', () => {
      expect(issueAt(lbPort(6443), 'loadBalancer.port')?.message)
        .toBe("is the port of kube-apiserver (apiServerPort) on k8s1, k8s2, where nginx's L4 listener would bind it too; pick another, e.g. 6444");
      // An lb pair that runs no apiserver may use the apiserver's port.
      const lbOnNodes = withChanges(SEED, { hosts: SEED.hosts.map((h) => ({ ...h, roles: h.name === 'k8s4' ? ['node', 'lb'] : h.roles.filter((r) => r !== 'lb') })) });
      expect(validateDefinition(lbPort(6443, lbOnNodes))).toEqual([]);
    });

    test('the control plane and etcd: controller-manager 10257, scheduler 10259, etcd 2380', () => {
      expect(issueAt(withChanges(SEED, { apiServerPort: 10257 }), 'apiServerPort')?.message).toMatch(/^is the port of kube-controller-manager on k8s1, k8s2,/);
      expect(issueAt(lbPort(10259), 'loadBalancer.port')?.message).toMatch(/^is the port of kube-scheduler on k8s1, k8s2,/);
      expect(issueAt(lbPort(2380), 'loadBalancer.port')?.message).toMatch(/^is the port of etcd peers on k8s1, k8s2,/);
      // kube-proxy's health and metrics ports and the kubelet's healthz, on every master and node.
      expect(issueAt(lbPort(10256), 'loadBalancer.port')?.message).toMatch(/^is the port of kube-proxy health on k8s1, k8s2,/);
      expect(issueAt(withChanges(SEED, { apiServerPort: 10248 }), 'apiServerPort')?.message).toMatch(/^is the port of the kubelet's healthz on k8s1, k8s2,/);
    });

    test("ingress-nginx's 80, 443 and 10254, only where an lb host (or a master) is also a node", () => {
      for (const [port, user] of [[80, 'ingress-nginx HTTP'], [443, 'ingress-nginx HTTPS'], [10254, 'ingress-nginx health']] as const) {
        expect([port, validateDefinition(lbPort(port))]).toEqual([port, []]);
        expect(issueAt(lbPort(port, k8s2Node), 'loadBalancer.port')?.message)
          .toBe(`is the port of ${user} on k8s2, where nginx's L4 listener would bind it too; pick another, e.g. 6444`);
      }
      expect(issueAt(withChanges(k8s2Node, { apiServerPort: 443 }), 'apiServerPort')?.message).toMatch(/^is the port of ingress-nginx HTTPS on k8s2, where kube-apiserver/);
      const noIngress = withChanges(k8s2Node, { addons: { ...SEED.addons, ingressNginx: { enabled: false } } });
      expect(issueAt(lbPort(80, noIngress), 'loadBalancer.port')).toBeUndefined();
    });

    test('the NodePort range against every fixed listener of the hosts that serve NodePorts', () => {
      const issue = issueAt(withChanges(SEED, { network: { ...SEED.network, nodePortRange: '1-1000' } }), 'network.nodePortRange');
      expect(issue?.value).toBe('1-1000');
      expect(issue?.message).toBe('includes 22 (sshd on k8s1, k8s2, k8s3, k8s4), 80 (ingress-nginx HTTP on k8s3, k8s4), 443 (ingress-nginx HTTPS on k8s3, k8s4), '
        + 'which kube-proxy would take for NodePorts there; use a range clear of them, e.g. "30000-32767"');
      expect(issueAt(lbPort(30080), 'loadBalancer.port')?.message).toBe('lies inside network.nodePortRange 30000-50000, the NodePorts kube-proxy serves on k8s1, k8s2; pick another, e.g. 6444');
    });

    test('the suggested port is free on every host', () => {
      // 6444 is taken by the apiserver here, so the L4 port's suggestion moves on.
      const def = withChanges(SEED, { apiServerPort: 6444, loadBalancer: { ...SEED.loadBalancer, port: 22 } });
      expect(issueAt(def, 'loadBalancer.port')?.message).toMatch(/e\.g\. 6445$/);
    });
  });

  test('a VIP is neither the network nor the broadcast address of its subnet', () => {
    const vip = (v: string) => issueAt(withChanges(SEED, { loadBalancer: { ...SEED.loadBalancer, vip: v } }), 'loadBalancer.vip')?.message;
    expect(vip('192.168.100.0/24')).toBe('is the network address of 192.168.100.0/24, which no host can answer for; use a free address between 192.168.100.1 and 192.168.100.254, e.g. "192.168.100.50/24"');
    expect(vip('192.168.100.255/24')).toMatch(/^is the broadcast address of 192.168.100.0\/24/);
    expect(vip('192.168.100.63/26')).toMatch(/^is the broadcast address of 192.168.100.0\/26, .* between 192.168.100.1 and 192.168.100.62, e.g. "192.168.100.50\/26"/);
    expect(vip('192.168.100.20/24')).toMatch(/^equals hosts\[1\].ip \(k8s2\)/);
    expect(vip('192.168.101.50/24')).toMatch(/^is outside the subnet of lb host k8s1/);
    expect(vip('192.168.100.50/24')).toBeUndefined();
  });

  test('a certificate validity inside the renewal window is refused: every synth would re-issue every certificate', () => {
    const days = (validityDays: number) => issueAt(withChanges(SEED, { certificates: { ...SEED.certificates, validityDays } }), 'certificates.validityDays')?.message;
    expect(days(30)).toBe('is within the renewal window (a certificate is re-issued once it expires within 30 days), so every synth would re-issue every certificate and restart every service; use more than 30 days, e.g. 365');
    expect(days(1)).toMatch(/within the renewal window/);
    expect(days(31)).toBeUndefined();
  });

  test('pod and Service ranges are private, not loopback or multicast', () => {
    expect(issueAt(withChanges(SEED, { network: { ...SEED.network, podCidr: '127.0.0.0/16' } }), 'network.podCidr')?.message).toMatch(/loopback range/);
    expect(issueAt(withChanges(SEED, { network: { ...SEED.network, serviceCidr: '224.0.0.0/24', clusterDns: '224.0.0.2' } }), 'network.serviceCidr')?.message).toMatch(/multicast range/);
  });

  test('validities, replicas and versions have their upper bounds', () => {
    expect(issueAt(withChanges(SEED, { certificates: { caValidityDays: 1e9 } }), 'certificates.caValidityDays')).toBeDefined();
    expect(issueAt(withValue(FULL, ['apps', 0, 'replicas'], 2 ** 31), 'apps[0].replicas')).toBeDefined();
    expect(issueAt(withChanges(SEED, { kubernetesVersion: '1.27.0016' }), 'kubernetesVersion')).toBeDefined();
  });

  test('long values are printed cut short', () => {
    const err = (() => { try { ClusterModel.fromDefinition(withValue(SEED, ['hosts', 3, 'name'], 'x'.repeat(253))); } catch (e) { return e as ClusterDefinitionError; } return undefined; })();
    expect(err?.message).toContain('… (255 characters)');
  });
});
