import { find, k8sSchemaProblems, maskSecrets, synthAddons } from './helpers';

// The validator itself: it must accept what the apiserver accepts and reject what it rejects.
const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'x' } },
    template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'nginx:1.25' }] } },
  },
});

describe('Kubernetes 1.27 schema validation helper', () => {
  test('accepts a valid Deployment', () => {
    expect(k8sSchemaProblems(deployment())).toEqual([]);
  });

  test.each([
    ['a wrong type', (d: any) => { d.spec.replicas = 'three'; }, /replicas must be integer/],
    ['a missing required field', (d: any) => { delete d.spec.template.spec.containers[0].name; }, /required property 'name'/],
    ['an unknown field', (d: any) => { d.spec.template.spec.containers[0].imagePullPolice = 'Always'; }, /imagePullPolice is not a field/],
    ['an unknown nested field under a $ref', (d: any) => { d.spec.template.spec.containers[0].ports = [{ containerPort: 80, hostNetwork: true }]; }, /ports\[0\]\.hostNetwork/],
    ['a bad enum value', (d: any) => { d.spec.template.spec.dnsPolicy = 'ClusterFirstWithHostNetwork'; }, /dnsPolicy/],
    ['a missing namespace', (d: any) => { delete d.metadata.namespace; }, /without metadata.namespace/],
    ['an unknown kind', (d: any) => { d.kind = 'Deploymnet'; }, /unknown apiVersion\/kind/],
  ])('rejects %s', (_what, breakIt, message) => {
    const d = deployment();
    breakIt(d);
    const problems = k8sSchemaProblems(d);
    expect(problems.join('\n')).toMatch(message);
  });

  test('a deliberately broken emitted object fails', () => {
    const { all } = synthAddons();
    const broken = structuredClone(find(all, 'Service', 'kube-dns')[0]);
    broken.spec.ports[0].port = '53';
    expect(k8sSchemaProblems(broken)).not.toEqual([]);
  });
});

describe('maskSecrets', () => {
  test('hides every Secret value and keeps the keys', () => {
    const { all } = synthAddons();
    const masked = maskSecrets(all);
    const text = JSON.stringify(masked);
    expect(text).not.toMatch(/-----BEGIN/);
    for (const s of find(masked, 'Secret')) {
      for (const v of Object.values({ ...s.data, ...s.stringData })) expect(v).toBe('<masked>');
    }
    expect(find(masked, 'Secret', 'java-demo-tls')[0].stringData).toEqual({ 'tls.crt': '<masked>', 'tls.key': '<masked>' });
    // The input itself really did hold key material.
    expect(JSON.stringify(all)).toMatch(/-----BEGIN/);
  });
});
