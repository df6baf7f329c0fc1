import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CHART_PROPS, httpProbe, int, roleRef, rule } from './common';

export interface DashboardChartProps {
  readonly image: string;
  readonly metricsScraperImage: string;
  readonly nodePort: number;
  readonly adminUser: boolean;
}

const NS = 'kubernetes-dashboard';
const NAME = 'kubernetes-dashboard';
const SCRAPER = 'dashboard-metrics-scraper';
/** The Deployments; both read the API with the dashboard's ServiceAccount. */
export const DASHBOARD_WORKLOADS = [
  { kind: 'deployment', namespace: NS, name: NAME },
  { kind: 'deployment', namespace: NS, name: SCRAPER },
] as const;
/** Name of the optional cluster-admin login account and of its token Secret. */
export const DASHBOARD_ADMIN_USER = 'admin-user';

/** `30-dashboard`: Kubernetes Dashboard v2.7.0 on an HTTPS NodePort, RBAC as upstream. */
export class DashboardChart extends Chart {
  static readonly ID = '30-dashboard';

  constructor(scope: Construct, props: DashboardChartProps) {
    super(scope, DashboardChart.ID, CHART_PROPS);
    const labels = { 'k8s-app': NAME };
    const scraperLabels = { 'k8s-app': SCRAPER };

    new kplus.ServiceAccount(this, 'service-account', { metadata: { name: NAME, namespace: NS, labels }, automountToken: true });
    new k8s.KubeService(this, 'service', {
      metadata: { name: NAME, namespace: NS, labels },
      spec: {
        type: 'NodePort',
        selector: labels,
        ports: [{ name: 'https', port: 443, targetPort: int(8443), nodePort: props.nodePort, protocol: 'TCP' }],
      },
    });
    // Upstream ships these empty; the dashboard fills them at run time.
    for (const suffix of ['certs', 'csrf', 'key-holder']) {
      new k8s.KubeSecret(this, `secret-${suffix}`, {
        metadata: { name: `${NAME}-${suffix}`, namespace: NS, labels },
        type: 'Opaque',
        ...(suffix === 'csrf' ? { data: { csrf: '' } } : {}),
      });
    }
    new kplus.ConfigMap(this, 'settings', { metadata: { name: `${NAME}-settings`, namespace: NS, labels } });

    new k8s.KubeRole(this, 'role', {
      metadata: { name: NAME, namespace: NS, labels },
      rules: [
        rule([''], ['secrets'], ['get', 'update', 'delete'], [`${NAME}-key-holder`, `${NAME}-certs`, `${NAME}-csrf`]),
        rule([''], ['configmaps'], ['get', 'update'], [`${NAME}-settings`]),
        rule([''], ['services'], ['proxy'], ['heapster', SCRAPER]),
        rule([''], ['services/proxy'], ['get'], ['heapster', 'http:heapster:', 'https:heapster:', SCRAPER, `http:${SCRAPER}`]),
      ],
    });
    new k8s.KubeClusterRole(this, 'cluster-role', {
      metadata: { name: NAME, labels },
      rules: [rule(['metrics.k8s.io'], ['pods', 'nodes'], ['get', 'list', 'watch'])],
    });
    new k8s.KubeRoleBinding(this, 'role-binding', {
      metadata: { name: NAME, namespace: NS, labels },
      roleRef: roleRef('Role', NAME),
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NS }],
    });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: { name: NAME, labels },
      roleRef: roleRef('ClusterRole', NAME),
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NS }],
    });

    const restricted: k8s.SecurityContext = {
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsUser: 1001, runAsGroup: 2001,
    };
    new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: NAME, namespace: NS, labels },
      spec: {
        replicas: 1,
        revisionHistoryLimit: 10,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            serviceAccountName: NAME,
            automountServiceAccountToken: true,
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [{
              name: NAME,
              image: props.image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'https', containerPort: 8443, protocol: 'TCP' }],
              args: ['--auto-generate-certificates', `--namespace=${NS}`],
              volumeMounts: [
                { name: `${NAME}-certs`, mountPath: '/certs' },
                { name: 'tmp-volume', mountPath: '/tmp' },
              ],
              livenessProbe: httpProbe('/', 8443, { scheme: 'HTTPS', initialDelaySeconds: 30, timeoutSeconds: 30 }),
              securityContext: restricted,
            }],
            volumes: [
              { name: `${NAME}-certs`, secret: { secretName: `${NAME}-certs` } },
              { name: 'tmp-volume', emptyDir: {} },
            ],
          },
        },
      },
    });

    new k8s.KubeService(this, 'scraper-service', {
      metadata: { name: SCRAPER, namespace: NS, labels: scraperLabels },
      spec: { selector: scraperLabels, ports: [{ port: 8000, targetPort: int(8000), protocol: 'TCP' }] },
    });
    new k8s.KubeDeployment(this, 'scraper-deployment', {
      metadata: { name: SCRAPER, namespace: NS, labels: scraperLabels },
      spec: {
        replicas: 1,
        revisionHistoryLimit: 10,
        selector: { matchLabels: scraperLabels },
        template: {
          metadata: { labels: scraperLabels },
          spec: {
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            serviceAccountName: NAME,
            automountServiceAccountToken: true,
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [{
              name: SCRAPER,
              image: props.metricsScraperImage,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 8000, protocol: 'TCP' }],
              livenessProbe: httpProbe('/', 8000, { initialDelaySeconds: 30, timeoutSeconds: 30 }),
              volumeMounts: [{ name: 'tmp-volume', mountPath: '/tmp' }],
              securityContext: restricted,
            }],
            volumes: [{ name: 'tmp-volume', emptyDir: {} }],
          },
        },
      },
    });

    if (props.adminUser) {
      const admin = new kplus.ServiceAccount(this, 'admin-user', {
        metadata: { name: DASHBOARD_ADMIN_USER, namespace: NS },
        automountToken: false,
      });
      new k8s.KubeClusterRoleBinding(this, 'admin-user-binding', {
        metadata: { name: `${NAME}-${DASHBOARD_ADMIN_USER}` },
        roleRef: roleRef('ClusterRole', 'cluster-admin'),
        subjects: [{ kind: 'ServiceAccount', name: DASHBOARD_ADMIN_USER, namespace: NS }],
      });
      // Since 1.24 token Secrets are no longer created automatically; this one never expires.
      new kplus.ServiceAccountTokenSecret(this, 'admin-user-token', {
        metadata: { name: DASHBOARD_ADMIN_USER, namespace: NS },
        serviceAccount: admin,
      });
    }
  }
}
