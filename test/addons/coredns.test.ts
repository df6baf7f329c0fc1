import { CoreDnsChart, corefile, reverseZones } from '../../lib/addons/coredns';
import { parseCidr } from '../../lib/model/ipv4';
import { SEED as SEED_DEFINITION } from '../support/clusters';
import { findOne, maskSecrets, synthAddons } from './helpers';

const cidr = (text: string) => parseCidr(text)!;

describe('reverseZones', () => {
  test.each([
    ['10.0.0.0/24', ['0.0.10.in-addr.arpa']],
    ['172.20.0.0/16', ['20.172.in-addr.arpa']],
    ['10.0.0.0/8', ['10.in-addr.arpa']],
    ['192.168.4.0/23', ['4.168.192.in-addr.arpa', '5.168.192.in-addr.arpa']],
    ['10.96.0.0/12', Array.from({ length: 16 }, (_, i) => `${96 + i}.10.in-addr.arpa`)],
    ['10.0.16.0/20', Array.from({ length: 16 }, (_, i) => `${16 + i}.0.10.in-addr.arpa`)],
    ['172.16.0.0/14', ['16.172.in-addr.arpa', '17.172.in-addr.arpa', '18.172.in-addr.arpa', '19.172.in-addr.arpa']],
    // Smaller than a /24: the enclosing /24 zone (fallthrough passes the rest on).
    ['10.0.0.8/29', ['0.0.10.in-addr.arpa']],
    ['0.0.0.0/0', ['in-addr.arpa']],
  ])('%s', (text, zones) => {
    expect(reverseZones(cidr(text))).toEqual(zones);
  });

  test('a /9 needs 128 zones, all inside the range', () => {
    const zones = reverseZones(cidr('10.0.0.0/9'));
    expect(zones).toHaveLength(128);
    expect(zones[0]).toBe('0.10.in-addr.arpa');
    expect(zones[127]).toBe('127.10.in-addr.arpa');
  });
});

describe('corefile', () => {
  test('serves the cluster domain and the reverse zones of both CIDRs once', () => {
    const text = corefile('cluster.local', [cidr('10.0.0.0/24'), cidr('10.0.0.0/24'), cidr('172.20.0.0/16')]);
    expect(text).toContain('kubernetes cluster.local 0.0.10.in-addr.arpa 20.172.in-addr.arpa ip6.arpa {');
    for (const line of ['errors', 'lameduck 5s', 'ready', 'pods insecure', 'fallthrough in-addr.arpa ip6.arpa', 'ttl 30',
      'prometheus :9153', 'forward . /etc/resolv.conf', 'cache 30', 'loop', 'reload', 'loadbalance']) {
      expect(text).toContain(line);
    }
  });

  test('braces balance', () => {
    const text = corefile('corp.internal', [cidr('10.96.0.0/12')]);
    expect(text.split('{').length).toBe(text.split('}').length);
  });
});

describe('20-coredns', () => {
  const { manifests } = synthAddons();
  const objects = manifests.get(CoreDnsChart.ID)!;

  test('snapshot (seed cluster)', () => {
    expect(maskSecrets(objects)).toMatchSnapshot();
  });

  test('kube-dns Service: clusterDns, DNS over UDP and TCP, metrics', () => {
    const svc = findOne(objects, 'Service', 'kube-dns');
    expect(svc.metadata.namespace).toBe('kube-system');
    expect(svc.spec.clusterIP).toBe(SEED_DEFINITION.network.clusterDns);
    expect(svc.spec.ports.map((p: any) => `${p.port}/${p.protocol}`)).toEqual(['53/UDP', '53/TCP', '9153/TCP']);
  });

  test('clusterIP follows the model, including its default', () => {
    const def = { ...SEED_DEFINITION, network: { ...SEED_DEFINITION.network, clusterDns: undefined, serviceCidr: '10.96.0.0/12' } };
    const svc = findOne(synthAddons(def).manifests.get(CoreDnsChart.ID)!, 'Service', 'kube-dns');
    expect(svc.spec.clusterIP).toBe('10.96.0.10');
  });

  test('Deployment: 2 replicas that prefer different nodes (never Pending with a node down), a PodDisruptionBudget, critical priority, own token, pinned image', () => {
    const d = findOne(objects, 'Deployment', 'coredns');
    const pod = d.spec.template.spec;
    expect(d.spec.replicas).toBe(2);
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([{
      weight: 100, podAffinityTerm: { labelSelector: { matchLabels: d.spec.selector.matchLabels }, topologyKey: 'kubernetes.io/hostname' },
    }]);
    const pdb = findOne(objects, 'PodDisruptionBudget', 'coredns');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: d.spec.selector.matchLabels } });
    expect(pod.serviceAccountName).toBe('coredns');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.dnsPolicy).toBe('Default');
    expect(pod.containers[0].image).toBe('registry.k8s.io/coredns/coredns:v1.14.6');
    expect(pod.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(findOne(objects, 'ServiceAccount', 'coredns').automountServiceAccountToken).toBe(true);
  });

  test('ConfigMap carries the seed\'s Corefile', () => {
    const cm = findOne(objects, 'ConfigMap', 'coredns');
    expect(cm.data.Corefile).toBe(corefile('cluster.local', [cidr('10.0.0.0/24'), cidr('172.20.0.0/16')]));
  });

  test('ClusterRole: read endpoints, services, pods, namespaces and endpointslices', () => {
    const role = findOne(objects, 'ClusterRole', 'system:coredns');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]);
    expect(findOne(objects, 'ClusterRoleBinding', 'system:coredns').subjects).toEqual([{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }]);
  });

  test('replicas and disabling come from the definition', () => {
    const three = synthAddons({ ...SEED_DEFINITION, addons: { coreDns: { replicas: 3 } } });
    expect(findOne(three.manifests.get(CoreDnsChart.ID)!, 'Deployment').spec.replicas).toBe(3);
    const off = synthAddons({ ...SEED_DEFINITION, addons: { coreDns: { enabled: false } } });
    expect(off.manifests.has(CoreDnsChart.ID)).toBe(false);
  });
});
