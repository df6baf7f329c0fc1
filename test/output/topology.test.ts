import { ClusterModel } from '../../lib';
import { renderTopology } from '../../lib/output';
import { LARGE, SEED, withChanges } from '../support/clusters';

test.each([['seed', SEED], ['large', LARGE]])('%s topology', (_n, def) => {
  expect(renderTopology(ClusterModel.fromDefinition(def))).toMatchSnapshot();
});

test('every kubelet host points at the VIP and every master at every other etcd member', () => {
  const text = renderTopology(ClusterModel.fromDefinition(SEED));
  for (const h of ['k8s3', 'k8s4']) expect(text).toContain(`h_${h} -->|"https://192.168.100.50:6444"| vip`);
  expect(text).toContain('h_k8s1 -->|"etcd mTLS :2379"| h_k8s3');
  expect(text).toContain('keepalived MASTER');
});

test('a large fleet is drawn as one node group', () => {
  const many = withChanges(LARGE, {
    hosts: [...LARGE.hosts.slice(0, 3), ...Array.from({ length: 200 }, (_, i) => ({ name: `n${i}`, ip: `10.20.${1 + Math.floor(i / 200)}.${1 + (i % 200)}`, roles: ['node'] }))],
    loadBalancer: { vip: '10.20.0.100/16', port: 8443 },
  });
  const text = renderTopology(ClusterModel.fromDefinition(many));
  expect(text).toContain('<b>200 nodes</b><br/>n0 … n199');
  expect(text.split('\n').length).toBeLessThan(40);
});
