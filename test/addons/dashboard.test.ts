import { DASHBOARD_ADMIN_USER, DashboardChart } from '../../lib/addons/dashboard';
import { SEED as SEED_DEFINITION } from '../support/clusters';
import { find, findOne, maskSecrets, synthAddons } from './helpers';

const withDashboard = (dashboard: object) => ({ ...SEED_DEFINITION, addons: { ...SEED_DEFINITION.addons, dashboard } });

describe('30-dashboard', () => {
  const { manifests } = synthAddons();
  const objects = manifests.get(DashboardChart.ID)!;

  test('snapshot (seed cluster)', () => {
    expect(maskSecrets(objects)).toMatchSnapshot();
  });

  test('everything lives in kubernetes-dashboard except the cluster-wide RBAC', () => {
    for (const o of objects.filter((x) => !x.kind.startsWith('Cluster'))) expect(o.metadata.namespace).toBe('kubernetes-dashboard');
  });

  test('HTTPS NodePort from the definition', () => {
    const svc = findOne(objects, 'Service', 'kubernetes-dashboard');
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports).toEqual([expect.objectContaining({ port: 443, targetPort: 8443, nodePort: 30001 })]);
    const other = synthAddons(withDashboard({ nodePort: 40443 })).manifests.get(DashboardChart.ID)!;
    expect(findOne(other, 'Service', 'kubernetes-dashboard').spec.ports[0].nodePort).toBe(40443);
  });

  test('upstream Secrets, settings ConfigMap, Role/ClusterRole and bindings', () => {
    expect(find(objects, 'Secret').map((s) => s.metadata.name).sort()).toEqual([
      'kubernetes-dashboard-certs', 'kubernetes-dashboard-csrf', 'kubernetes-dashboard-key-holder',
    ]);
    expect(findOne(objects, 'Secret', 'kubernetes-dashboard-csrf').data).toEqual({ csrf: '' });
    findOne(objects, 'ConfigMap', 'kubernetes-dashboard-settings');
    const role = findOne(objects, 'Role', 'kubernetes-dashboard');
    expect(role.rules[0]).toEqual({
      apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update', 'delete'],
      resourceNames: ['kubernetes-dashboard-key-holder', 'kubernetes-dashboard-certs', 'kubernetes-dashboard-csrf'],
    });
    expect(findOne(objects, 'ClusterRole', 'kubernetes-dashboard').rules).toEqual([
      { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(findOne(objects, 'RoleBinding', 'kubernetes-dashboard').roleRef.name).toBe('kubernetes-dashboard');
    expect(findOne(objects, 'ClusterRoleBinding', 'kubernetes-dashboard').roleRef.name).toBe('kubernetes-dashboard');
  });

  test('dashboard and metrics-scraper Deployments with pinned images and their token', () => {
    const dash = findOne(objects, 'Deployment', 'kubernetes-dashboard').spec.template.spec;
    expect(dash.containers[0].image).toBe('kubernetesui/dashboard:v2.7.0');
    expect(dash.containers[0].args).toEqual(['--auto-generate-certificates', '--namespace=kubernetes-dashboard']);
    expect(dash.automountServiceAccountToken).toBe(true);
    const scraper = findOne(objects, 'Deployment', 'dashboard-metrics-scraper').spec.template.spec;
    expect(scraper.containers[0].image).toBe('kubernetesui/metrics-scraper:v1.0.8');
    expect(findOne(objects, 'Service', 'dashboard-metrics-scraper').spec.ports[0].port).toBe(8000);
    for (const c of [...dash.containers, ...scraper.containers]) expect(c.imagePullPolicy).toBe('IfNotPresent');
  });

  test('no admin login account by default', () => {
    expect(find(objects, 'ServiceAccount', DASHBOARD_ADMIN_USER)).toEqual([]);
    expect(objects.filter((o) => o.roleRef?.name === 'cluster-admin')).toEqual([]);
    expect(find(objects, 'Secret').filter((s) => s.type === 'kubernetes.io/service-account-token')).toEqual([]);
  });

  test('admin login account when asked: ServiceAccount, cluster-admin binding, long-lived token Secret', () => {
    const objs = synthAddons(withDashboard({ adminUser: true })).manifests.get(DashboardChart.ID)!;
    findOne(objs, 'ServiceAccount', DASHBOARD_ADMIN_USER);
    const crb = objs.filter((o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'cluster-admin');
    expect(crb).toHaveLength(1);
    expect(crb[0].subjects).toEqual([{ kind: 'ServiceAccount', name: DASHBOARD_ADMIN_USER, namespace: 'kubernetes-dashboard' }]);
    const token = findOne(objs, 'Secret', DASHBOARD_ADMIN_USER);
    expect(token.type).toBe('kubernetes.io/service-account-token');
    expect(token.metadata.annotations).toEqual({ 'kubernetes.io/service-account.name': DASHBOARD_ADMIN_USER });
  });

  test('disabled: no chart', () => {
    expect(synthAddons(withDashboard({ enabled: false })).manifests.has(DashboardChart.ID)).toBe(false);
  });
});
