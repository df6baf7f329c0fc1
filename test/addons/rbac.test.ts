import { APISERVER_KUBELET_CLIENT_USER, RbacChart, checkBootstrapToken } from '../../lib/addons/rbac';
import { SEED as SEED_DEFINITION } from '../support/clusters';
import { findOne, maskSecrets, synthAddons, throwawayToken } from './helpers';

const binding = (objects: any[], clusterRole: string) => {
  const found = objects.filter((o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === clusterRole);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('10-rbac', () => {
  const token = throwawayToken();
  const { manifests } = synthAddons(SEED_DEFINITION, { bootstrapToken: token });
  const objects = manifests.get(RbacChart.ID)!;

  test('snapshot (seed cluster, token masked)', () => {
    expect(maskSecrets(objects)).toMatchSnapshot();
  });

  test('bootstrap token Secret in kube-system', () => {
    const s = findOne(objects, 'Secret', 'bootstrap-token-abcdef');
    expect(s.metadata.namespace).toBe('kube-system');
    expect(s.type).toBe('bootstrap.kubernetes.io/token');
    expect(s.stringData).toMatchObject({
      'token-id': 'abcdef',
      'token-secret': token.secret,
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
    });
    expect(s.stringData.description).toMatch(/kubesmith/);
    expect(s.stringData['auth-extra-groups']).toBeUndefined();
  });

  test('bootstrappers may create CSRs, which are auto-approved; nodes renew their own', () => {
    const group = (name: string) => [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name }];
    expect(binding(objects, 'system:node-bootstrapper').subjects).toEqual(group('system:bootstrappers'));
    expect(binding(objects, 'system:certificates.k8s.io:certificatesigningrequests:nodeclient').subjects).toEqual(group('system:bootstrappers'));
    expect(binding(objects, 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient').subjects).toEqual(group('system:nodes'));
  });

  test('the apiserver\'s kubelet client user gets kubelet API access (logs/exec/port-forward)', () => {
    expect(binding(objects, 'system:kubelet-api-admin').subjects).toEqual([
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: APISERVER_KUBELET_CLIENT_USER },
    ]);
    expect(APISERVER_KUBELET_CLIENT_USER).toBe('kube-apiserver-kubelet-client');
  });

  test('extra groups and expiration reach the Secret', () => {
    const def = { ...SEED_DEFINITION, addons: { bootstrapToken: { extraGroups: ['system:bootstrappers:kubesmith', 'system:bootstrappers:workers'] } } };
    const r = synthAddons(def, { bootstrapToken: { ...token, expiration: '2030-01-01T00:00:00Z' } });
    const s = findOne(r.manifests.get(RbacChart.ID)!, 'Secret');
    expect(s.stringData['auth-extra-groups']).toBe('system:bootstrappers:kubesmith,system:bootstrappers:workers');
    expect(s.stringData.expiration).toBe('2030-01-01T00:00:00Z');
  });
});

describe('checkBootstrapToken', () => {
  test('accepts the apiserver\'s format', () => {
    expect(() => checkBootstrapToken({ id: 'a1b2c3', secret: '0123456789abcdef' })).not.toThrow();
  });

  test.each([
    [{ id: 'ABCDEF', secret: '0123456789abcdef' }, /id must be 6/],
    [{ id: 'abcde', secret: '0123456789abcdef' }, /id must be 6/],
    [{ id: 'abcdef', secret: '0123456789abcde' }, /secret must be 16/],
    [{ id: 'abcdef', secret: '0123456789abcdeF' }, /secret must be 16/],
    [{ id: 'abcdef', secret: '0123456789abcdef', expiration: 'tomorrow' }, /RFC 3339/],
  ])('rejects %p', (token, message) => {
    expect(() => checkBootstrapToken(token)).toThrow(message);
  });

  test('addAddonCharts refuses a malformed token', () => {
    expect(() => synthAddons(SEED_DEFINITION, { bootstrapToken: { id: 'abc', secret: 'short' } })).toThrow(/invalid bootstrap token/);
  });
});
