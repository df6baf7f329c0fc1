import * as fs from 'fs';
import * as path from 'path';
import { ClusterModel, DEFAULTS } from '../../lib/model';
import { SEED } from '../support/clusters';

/** Dotted paths of every value in DEFAULTS; arrays and objects of user keys (nodeSelector, config) count as values. */
function leaves(node: unknown, prefix: string): string[] {
  const isValueObject = (p: string) => /\.(nodeSelector|config|requests|limits)$/.test(p);
  if (typeof node !== 'object' || node === null || Array.isArray(node) || isValueObject(prefix)) return [prefix];
  return Object.entries(node).flatMap(([k, v]) => leaves(v, `${prefix}.${k}`));
}

function at(p: string): unknown {
  return p.split('.').slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], DEFAULTS);
}

describe('DEFAULTS and the definition docs', () => {
  const docs = fs.readFileSync(path.join(__dirname, '../../lib/model/definition.ts'), 'utf8');
  const named = [...docs.matchAll(/DEFAULTS(?:\.[A-Za-z]+)+/g)].map((m) => m[0]);

  test('every DEFAULTS path a field documents exists', () => {
    for (const p of named) expect([p, at(p) !== undefined]).toEqual([p, true]);
  });

  test('every default is documented on its field, by name, not restated', () => {
    for (const leaf of leaves(DEFAULTS, 'DEFAULTS')) {
      expect([leaf, named.some((p) => leaf === p || leaf.startsWith(`${p}.`))]).toEqual([leaf, true]);
    }
    // A field documents its default by naming it, never by repeating the value.
    const restated = [...docs.matchAll(/@default ([^\n]*)/g)].map((m) => m[1]).filter((d) => !/DEFAULTS|none|^`|the app name|a certificate for|the minor's companion|the Kubernetes minor's|the shipped checksum/.test(d));
    expect(restated).toEqual([]);
  });

  test('the model applies them: a definition that leaves every optional field out gets DEFAULTS', () => {
    const m = ClusterModel.fromDefinition({
      name: 'bare', kubernetesVersion: '1.27.16',
      hosts: [{ name: 'a', ip: '192.168.1.10', roles: ['master', 'etcd', 'node', 'lb'] }],
      loadBalancer: { vip: '192.168.1.50/24' },
      network: { serviceCidr: '10.0.0.0/24', podCidr: '172.20.0.0/16' },
      apps: [{ name: 'web', image: 'nginx:1.25', volumes: [{ name: 'd', mountPath: '/d', server: '192.168.1.2', path: '/x' }] }],
    });
    expect(m.apiServerPort).toBe(DEFAULTS.apiServerPort);
    expect(m.auditLog).toBe(DEFAULTS.auditLog);
    expect(m.hosts[0].interface).toBe(DEFAULTS.host.interface);
    expect(m.loadBalancer).toMatchObject({ ...DEFAULTS.loadBalancer });
    expect(m.network).toMatchObject({
      dnsDomain: DEFAULTS.network.dnsDomain, flannelBackend: DEFAULTS.network.flannelBackend,
      kubeProxyMode: DEFAULTS.network.kubeProxyMode, clusterDns: `10.0.0.${DEFAULTS.network.clusterDnsOffset}`,
    });
    expect(`${m.network.nodePortRange.low}-${m.network.nodePortRange.high}`).toBe(DEFAULTS.network.nodePortRange);
    expect(m.certificates).toMatchObject({ ...DEFAULTS.certificates });
    expect(m.addons.coreDns).toMatchObject({ ...DEFAULTS.addons.coreDns });
    expect(m.addons.dashboard).toMatchObject({ ...DEFAULTS.addons.dashboard });
    expect(m.addons.ingressNginx).toMatchObject({ ...DEFAULTS.addons.ingressNginx });
    expect(m.addons.bootstrapToken).toEqual(DEFAULTS.addons.bootstrapToken);
    const { useImageRegistry, resources, ...app } = DEFAULTS.app;
    expect(m.apps[0]).toMatchObject({ ...app, requests: resources.requests, limits: resources.limits, image: 'nginx:1.25' });
    expect(useImageRegistry).toBe(true);
    expect(m.apps[0].volumes[0]).toMatchObject({ ...DEFAULTS.volume });
  });

  test('the seed states some defaults explicitly, and the model keeps what it states', () => {
    const m = ClusterModel.fromDefinition(SEED);
    expect(m.network.nodePortRange).toEqual({ low: 30000, high: 50000 });
  });
});
