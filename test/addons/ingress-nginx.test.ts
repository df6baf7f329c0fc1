import { IngressNginxChart } from '../../lib/addons/ingress-nginx';
import { SEED as SEED_DEFINITION } from '../support/clusters';
import { findOne, maskSecrets, synthAddons } from './helpers';

describe('40-ingress-nginx', () => {
  const { manifests } = synthAddons();
  const objects = manifests.get(IngressNginxChart.ID)!;
  const ds = findOne(objects, 'DaemonSet', 'ingress-nginx-controller');
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];

  test('snapshot (seed cluster)', () => {
    expect(maskSecrets(objects)).toMatchSnapshot();
  });

  test('DaemonSet on the host network, keeping cluster DNS', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
  });

  test('answers on host ports 80 and 443', () => {
    const ports = container.ports.map((p: any) => [p.name, p.containerPort, p.hostPort]);
    expect(ports).toEqual(expect.arrayContaining([['http', 80, 80], ['https', 443, 443]]));
  });

  test('controller args, without the admission webhook', () => {
    expect(container.args).toEqual(expect.arrayContaining([
      '/nginx-ingress-controller',
      '--election-id=ingress-nginx-leader',
      '--controller-class=k8s.io/ingress-nginx',
      '--ingress-class=nginx',
      '--configmap=$(POD_NAMESPACE)/ingress-nginx-controller',
    ]));
    expect(container.args.filter((a: string) => a.includes('webhook'))).toEqual([]);
    expect(objects.filter((o) => /Webhook|Job/.test(o.kind) || /admission/.test(o.metadata.name))).toEqual([]);
  });

  test('POD_NAME and POD_NAMESPACE from the downward API', () => {
    expect(container.env).toEqual(expect.arrayContaining([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]));
  });

  test('default IngressClass nginx for controller k8s.io/ingress-nginx', () => {
    const ic = findOne(objects, 'IngressClass', 'nginx');
    expect(ic.metadata.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });
    expect(ic.spec.controller).toBe('k8s.io/ingress-nginx');
  });

  test('ConfigMap named in --configmap, snippets off', () => {
    expect(findOne(objects, 'ConfigMap', 'ingress-nginx-controller').data).toEqual({ 'allow-snippet-annotations': 'false' });
  });

  test('RBAC as upstream: leader-election lease, ingress status, endpointslices', () => {
    const role = findOne(objects, 'Role', 'ingress-nginx');
    expect(role.rules).toEqual(expect.arrayContaining([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: ['ingress-nginx-leader'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]));
    const cr = findOne(objects, 'ClusterRole', 'ingress-nginx');
    expect(cr.rules).toEqual(expect.arrayContaining([
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch', 'get'] },
    ]));
    for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
      expect(findOne(objects, kind, 'ingress-nginx').subjects).toEqual([{ kind: 'ServiceAccount', name: 'ingress-nginx', namespace: 'ingress-nginx' }]);
    }
    expect(pod.serviceAccountName).toBe('ingress-nginx');
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  test('image v1.15.1 (the last release) without digest, IfNotPresent', () => {
    expect(container.image).toBe('registry.k8s.io/ingress-nginx/controller:v1.15.1');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  test('every node by default; the definition\'s nodeSelector narrows it', () => {
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    const def = { ...SEED_DEFINITION, addons: { ingressNginx: { nodeSelector: { 'node-role.kubernetes.io/ingress': '' } } } };
    const other = findOne(synthAddons(def).manifests.get(IngressNginxChart.ID)!, 'DaemonSet');
    expect(other.spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/ingress': '' });
  });

  test('disabled: no chart and no namespace', () => {
    const r = synthAddons({ ...SEED_DEFINITION, addons: { ingressNginx: { enabled: false } }, apps: [] });
    expect(r.manifests.has(IngressNginxChart.ID)).toBe(false);
    expect(r.all.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).not.toContain('ingress-nginx');
  });
});
