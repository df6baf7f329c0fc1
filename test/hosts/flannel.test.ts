import { ClusterDefinition } from '../../lib';
import { componentSpec } from '../../lib/components';
import { Cluster } from '../../lib/components';
import { PATHS } from '../../lib/model';
import { FLANNEL_FILES, Flannel, flannelNetworkConfig } from '../../hosts/flannel';
import { LARGE } from '../support/clusters';
import { SEED_ECDSA, componentCluster, emittedFiles, fileText, unitValue } from '../support/component-cluster';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

/** flanneld flags at v0.22.3 (flannel-io/flannel main.go, flannelFlags). */
const FLANNELD_0_22_FLAGS = new Set([
  'etcd-endpoints', 'etcd-prefix', 'etcd-keyfile', 'etcd-certfile', 'etcd-cafile', 'etcd-username', 'etcd-password',
  'iface', 'iface-regex', 'iface-can-reach', 'subnet-file', 'public-ip', 'public-ipv6', 'subnet-lease-renew-margin',
  'ip-masq', 'kube-subnet-mgr', 'kube-api-url', 'kube-annotation-prefix', 'kubeconfig-file', 'version', 'healthz-ip',
  'healthz-port', 'iptables-resync', 'iptables-forward-rules', 'net-config-path', 'set-node-network-unavailable',
  'use-multi-cluster-cidr',
]);

async function flannelCluster(def: ClusterDefinition): Promise<Cluster> {
  return componentCluster(def, (c) => new Flannel(c, 'flannel'));
}

/** The flags of FLANNEL_OPTIONS="--a=b \ ..." as [name, value|true]. */
function flannelFlags(text: string): Array<[string, string | true]> {
  const m = /^FLANNEL_OPTIONS="([^"]*)"\n$/.exec(text);
  if (!m) throw new Error(`not a FLANNEL_OPTIONS file:\n${text}`);
  return m[1].split(/ \\\n/).map((f) => {
    const fm = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(f);
    if (!fm) throw new Error(`not a flag: ${f}`);
    return [fm[1], fm[2] ?? true];
  });
}

describe.each([['seed', SEED_ECDSA], ['large', LARGE]])('%s cluster', (_name, def) => {
  let cluster: Cluster;
  beforeAll(async () => { cluster = await flannelCluster(def); });

  test('emitted files and services', () => {
    expect(Object.fromEntries(cluster.bundles.map((b) => [b.host.name, { files: emittedFiles(b), services: b.services }])))
      .toMatchSnapshot();
  });

  test('every node and every master runs flanneld, with the CNI config and plugins (masters run pods too)', () => {
    // Masters are on the pod network: their apiserver dials pod IPs (webhooks, aggregated APIs, proxy);
    // test/cluster showed "connect: network is unreachable" from a master without flanneld.
    for (const b of cluster.bundles) {
      const runsPods = b.host.has('node') || b.host.has('master');
      for (const f of [FLANNEL_FILES.options, FLANNEL_FILES.unit, FLANNEL_FILES.kubeconfig, FLANNEL_FILES.netConfig, FLANNEL_FILES.cniConfig]) {
        expect([b.host.name, f, b.hasFile(f)]).toEqual([b.host.name, f, runsPods]);
      }
      expect([b.host.name, b.services.filter((s) => s.unit === 'flanneld.service').length]).toEqual([b.host.name, runsPods ? 1 : 0]);
      expect([b.host.name, cluster.runs(b.host, 'containerd')]).toEqual([b.host.name, runsPods]);
    }
    expect(componentSpec('containerd').binaries.filter((x) => x.startsWith(`${PATHS.cniBin}/`)).length).toBeGreaterThan(0);
  });

  test('flanneld flags: known in 0.22, the Kubernetes subnet manager, no etcd, this host', () => {
    for (const host of [...cluster.model.nodes, ...cluster.model.masters]) {
      const bundle = cluster.bundle(host.name);
      const text = fileText(bundle, FLANNEL_FILES.options);
      const flags = flannelFlags(text.split('\n').filter((l) => !l.startsWith('NODE_NAME=')).join('\n'));
      const names = flags.map(([n]) => n);
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect([n, FLANNELD_0_22_FLAGS.has(n)]).toEqual([n, true]);
      expect(names.filter((n) => n.startsWith('etcd-'))).toEqual([]);
      const get = (n: string) => flags.find(([x]) => x === n)?.[1];
      expect(get('kube-subnet-mgr')).toBe(true);
      expect(get('kubeconfig-file')).toBe(FLANNEL_FILES.kubeconfig);
      expect(get('net-config-path')).toBe(FLANNEL_FILES.netConfig);
      expect(get('iface')).toBe(host.interface);
      expect(get('public-ip')).toBe(host.ip);
      expect(get('ip-masq')).toBe(true);
      // flanneld finds its Node by NODE_NAME, which is the kubelet's --hostname-override.
      expect(/^NODE_NAME="(.*)"$/m.exec(text)![1]).toBe(host.name);
      expect(bundle.files.find((f) => `/${f.path}` === FLANNEL_FILES.kubeconfig)!.mode).toBe(0o600);
    }
  });

  test('the network config is the pod CIDR and the backend of the definition', () => {
    const host = cluster.model.nodes[0];
    const conf = JSON.parse(fileText(cluster.bundle(host.name), FLANNEL_FILES.netConfig));
    expect(conf).toEqual({ Network: def.network!.podCidr, Backend: { Type: def.network!.flannelBackend } });
    expect(flannelNetworkConfig(cluster.model)).toBe(JSON.stringify(conf));
  });

  test('flanneld.service: notify, after the network, not before containerd, restarted until the Node has a podCIDR', () => {
    for (const host of cluster.model.nodes) {
      const bundle = cluster.bundle(host.name);
      const unit = fileText(bundle, FLANNEL_FILES.unit);
      expect(unitValue(unit, 'Service', 'Type')).toEqual(['notify']);
      expect(unitValue(unit, 'Service', 'EnvironmentFile')).toEqual([FLANNEL_FILES.options]);
      expect(unitValue(unit, 'Service', 'ExecStart')).toEqual([`${FLANNEL_FILES.flanneld} $FLANNEL_OPTIONS`]);
      expect(unitValue(unit, 'Service', 'Restart')).toEqual(['on-failure']);
      expect(unitValue(unit, 'Unit', 'After')).toEqual(['network-online.target']);
      expect(unit).not.toMatch(/^Before=/m);
      expect(unit).not.toMatch(/etcd/);
      expect(unit).not.toContain('mk-docker-opts');
      const service = bundle.services.find((s) => s.unit === 'flanneld.service')!;
      expect(service.order).toBe(componentSpec('flanneld').order);
      expect(service.binaries).toEqual([FLANNEL_FILES.flanneld]);
      expect(componentSpec('containerd').binaries).toEqual(expect.arrayContaining([
        `${PATHS.cniBin}/flannel`, `${PATHS.cniBin}/bridge`, `${PATHS.cniBin}/portmap`,
      ]));
    }
  });

  test('the CNI conflist hands pods to flannel, with port mappings', () => {
    const conf = JSON.parse(fileText(cluster.bundle(cluster.model.nodes[0].name), FLANNEL_FILES.cniConfig));
    expect(FLANNEL_FILES.cniConfig).toBe(`${PATHS.cniConf}/10-flannel.conflist`);
    expect(conf).toEqual({
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [
        { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });
  });
});
