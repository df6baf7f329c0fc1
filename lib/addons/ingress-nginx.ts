import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PORTS } from '../model';
import { CHART_PROPS, fieldEnv, httpProbe, int, quantity, roleRef, rule } from './common';

export interface IngressNginxChartProps {
  readonly image: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly config: Readonly<Record<string, string>>;
}

const NS = 'ingress-nginx';
const NAME = 'ingress-nginx';
const CONFIGMAP = 'ingress-nginx-controller';
const ELECTION_ID = 'ingress-nginx-leader';
export const INGRESS_CLASS = 'nginx';
/** The controller's DaemonSet; it watches Ingresses, Services, EndpointSlices and Secrets. */
export const INGRESS_NGINX_WORKLOAD = { kind: 'daemonset', namespace: NS, name: `${NAME}-controller` } as const;
const CONTROLLER_CLASS = 'k8s.io/ingress-nginx';
const HEALTH_PORT = PORTS.ingressHealth;

/**
 * `40-ingress-nginx`: controller v1.8.1 as a hostNetwork DaemonSet answering on ports 80/443
 * of every (selected) node, default IngressClass `nginx`. No admission webhook: it needs a
 * certificate Job and fails closed while the controller is down.
 */
export class IngressNginxChart extends Chart {
  static readonly ID = '40-ingress-nginx';

  constructor(scope: Construct, props: IngressNginxChartProps) {
    super(scope, IngressNginxChart.ID, CHART_PROPS);
    const selector = {
      'app.kubernetes.io/name': NAME,
      'app.kubernetes.io/instance': NAME,
      'app.kubernetes.io/component': 'controller',
    };
    const labels = { ...selector, 'app.kubernetes.io/part-of': NAME, 'app.kubernetes.io/version': '1.8.1' };

    new kplus.ServiceAccount(this, 'service-account', { metadata: { name: NAME, namespace: NS, labels }, automountToken: true });
    new k8s.KubeRole(this, 'role', {
      metadata: { name: NAME, namespace: NS, labels },
      rules: [
        rule([''], ['namespaces'], ['get']),
        rule([''], ['configmaps', 'pods', 'secrets', 'endpoints'], ['get', 'list', 'watch']),
        rule([''], ['services'], ['get', 'list', 'watch']),
        rule(['networking.k8s.io'], ['ingresses'], ['get', 'list', 'watch']),
        rule(['networking.k8s.io'], ['ingresses/status'], ['update']),
        rule(['networking.k8s.io'], ['ingressclasses'], ['get', 'list', 'watch']),
        rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], [ELECTION_ID]),
        rule(['coordination.k8s.io'], ['leases'], ['create']),
        rule([''], ['events'], ['create', 'patch']),
        rule(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch', 'get']),
      ],
    });
    new k8s.KubeClusterRole(this, 'cluster-role', {
      metadata: { name: NAME, labels },
      rules: [
        rule([''], ['configmaps', 'endpoints', 'nodes', 'pods', 'secrets', 'namespaces'], ['list', 'watch']),
        rule(['coordination.k8s.io'], ['leases'], ['list', 'watch']),
        rule([''], ['nodes'], ['get']),
        rule([''], ['services'], ['get', 'list', 'watch']),
        rule(['networking.k8s.io'], ['ingresses'], ['get', 'list', 'watch']),
        rule([''], ['events'], ['create', 'patch']),
        rule(['networking.k8s.io'], ['ingresses/status'], ['update']),
        rule(['networking.k8s.io'], ['ingressclasses'], ['get', 'list', 'watch']),
        rule(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch', 'get']),
      ],
    });
    const subjects: k8s.Subject[] = [{ kind: 'ServiceAccount', name: NAME, namespace: NS }];
    new k8s.KubeRoleBinding(this, 'role-binding', { metadata: { name: NAME, namespace: NS, labels }, roleRef: roleRef('Role', NAME), subjects });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', { metadata: { name: NAME, labels }, roleRef: roleRef('ClusterRole', NAME), subjects });

    new kplus.ConfigMap(this, 'config', { metadata: { name: CONFIGMAP, namespace: NS, labels }, data: { ...props.config } });
    new k8s.KubeIngressClass(this, 'ingress-class', {
      metadata: { name: INGRESS_CLASS, labels, annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: CONTROLLER_CLASS },
    });

    new k8s.KubeDaemonSet(this, 'daemon-set', {
      metadata: { name: INGRESS_NGINX_WORKLOAD.name, namespace: NS, labels },
      spec: {
        selector: { matchLabels: selector },
        revisionHistoryLimit: 10,
        // hostPorts cannot surge: replace one node at a time.
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: int(1) } },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            // Keep cluster DNS although the pod uses the node's network.
            dnsPolicy: 'ClusterFirstWithHostNet',
            nodeSelector: { ...props.nodeSelector },
            serviceAccountName: NAME,
            automountServiceAccountToken: true,
            terminationGracePeriodSeconds: 300,
            containers: [{
              name: 'controller',
              image: props.image,
              imagePullPolicy: 'IfNotPresent',
              args: [
                '/nginx-ingress-controller',
                `--election-id=${ELECTION_ID}`,
                `--controller-class=${CONTROLLER_CLASS}`,
                `--ingress-class=${INGRESS_CLASS}`,
                `--configmap=$(POD_NAMESPACE)/${CONFIGMAP}`,
                // No Service to publish: report the nodes' InternalIPs in Ingress status.
                '--report-node-internal-ip-address',
              ],
              env: [
                fieldEnv('POD_NAME', 'metadata.name'),
                fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
                { name: 'LD_PRELOAD', value: '/usr/local/lib/libmimalloc.so' },
              ],
              lifecycle: { preStop: { exec: { command: ['/wait-shutdown'] } } },
              ports: [
                { name: 'http', containerPort: PORTS.ingressHttp, hostPort: PORTS.ingressHttp, protocol: 'TCP' },
                { name: 'https', containerPort: PORTS.ingressHttps, hostPort: PORTS.ingressHttps, protocol: 'TCP' },
                { name: 'metrics', containerPort: HEALTH_PORT, hostPort: HEALTH_PORT, protocol: 'TCP' },
              ],
              livenessProbe: httpProbe('/healthz', HEALTH_PORT, {
                initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 5,
              }),
              readinessProbe: httpProbe('/healthz', HEALTH_PORT, {
                initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3,
              }),
              resources: { requests: { cpu: quantity('100m'), memory: quantity('90Mi') } },
              securityContext: {
                allowPrivilegeEscalation: true,
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                runAsUser: 101,
              },
            }],
          },
        },
      },
    });
  }
}
