import { Cluster } from '../../lib/components';
import { NodePrerequisites, PREREQUISITE_FILES } from '../../hosts/prerequisites';
import { LARGE } from '../support/clusters';
import { SEED_ECDSA, componentCluster, emittedFiles, fileText } from '../support/component-cluster';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const IPVS = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh'];

const contentLines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe.each([['seed', SEED_ECDSA], ['large', LARGE]])('%s cluster', (_name, def) => {
  let cluster: Cluster;
  beforeAll(async () => { cluster = await componentCluster(def, (c) => new NodePrerequisites(c, 'prerequisites')); });

  test('emitted files', () => {
    expect(Object.fromEntries(cluster.bundles.map((b) => [b.host.name, { files: emittedFiles(b), services: b.services }])))
      .toMatchSnapshot();
  });

  test('every node and master (they run the kubelet), and only they, gets the sysctl and module files', () => {
    for (const b of cluster.bundles) {
      const isNode = b.host.has('node') || b.host.has('master');
      expect([b.host.name, b.hasFile(PREREQUISITE_FILES.sysctl), b.hasFile(PREREQUISITE_FILES.modulesLoad)])
        .toEqual([b.host.name, isNode, isNode]);
      expect(b.services).toEqual([]);
    }
  });

  test('sysctl: IPv4 forwarding, bridged traffic through iptables, and the NodePort range reserved from ephemeral ports', () => {
    const text = fileText(cluster.bundle(cluster.model.nodes[0].name), PREREQUISITE_FILES.sysctl);
    const settings = Object.fromEntries(contentLines(text).map((l) => l.split(/\s*=\s*/)));
    const { low, high } = cluster.model.network.nodePortRange;
    expect(settings).toEqual({
      'net.ipv4.ip_forward': '1',
      'net.bridge.bridge-nf-call-iptables': '1',
      'net.bridge.bridge-nf-call-ip6tables': '1',
      'net.ipv4.ip_local_reserved_ports': `${low}-${high}`,
    });
  });

  test('modules: overlay, br_netfilter, nf_conntrack, and IPVS when kube-proxy uses it', () => {
    const modules = contentLines(fileText(cluster.bundle(cluster.model.nodes[0].name), PREREQUISITE_FILES.modulesLoad));
    expect(modules).toEqual(expect.arrayContaining(['overlay', 'br_netfilter', 'nf_conntrack']));
    const ipvs = (def.network.kubeProxyMode ?? 'ipvs') === 'ipvs';
    for (const m of IPVS) expect([m, modules.includes(m)]).toEqual([m, ipvs]);
    expect(modules.length).toBe(3 + (ipvs ? IPVS.length : 0));
  });
});
