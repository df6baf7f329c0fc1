import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Ipv4Cidr } from '../model';
import { CHART_PROPS, httpProbe, int, quantity, roleRef, rule } from './common';

export interface CoreDnsChartProps {
  readonly image: string;
  readonly replicas: number;
  readonly clusterDns: string;
  readonly dnsDomain: string;
  readonly serviceCidr: Ipv4Cidr;
  readonly podCidr: Ipv4Cidr;
}

/**
 * in-addr.arpa zones that exactly cover an IPv4 CIDR. Zones sit on octet boundaries, so a
 * /12 becomes sixteen /16 zones and a /20 sixteen /24 zones; a /29 lives in its /24.
 */
export function reverseZones(cidr: Ipv4Cidr): string[] {
  const octets = cidr.network.split('.').map(Number);
  // At most 2^7 zones: rounding up to the next octet adds fewer than 8 bits.
  const zoneBits = Math.min(24, Math.ceil(cidr.prefix / 8) * 8);
  if (zoneBits === 0) return ['in-addr.arpa'];
  const count = cidr.prefix >= zoneBits ? 1 : 2 ** (zoneBits - cidr.prefix);
  const base = octets.reduce((n, o) => n * 256 + o, 0);
  const step = 2 ** (32 - zoneBits);
  const zones: string[] = [];
  for (let i = 0; i < count; i++) {
    const addr = Math.floor(base / step) * step + i * step;
    const parts = [24, 16, 8, 0].map((s) => Math.floor(addr / 2 ** s) % 256).slice(0, zoneBits / 8);
    zones.push(`${parts.reverse().join('.')}.in-addr.arpa`);
  }
  return zones;
}

export function corefile(dnsDomain: string, cidrs: readonly Ipv4Cidr[]): string {
  const zones = [...new Set(cidrs.flatMap(reverseZones))];
  return [
    '.:53 {',
    '    errors',
    '    health {',
    '        lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${dnsDomain} ${zones.join(' ')} ip6.arpa {`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 30',
    '    }',
    '    prometheus :9153',
    '    forward . /etc/resolv.conf {',
    '        max_concurrent 1000',
    '    }',
    '    cache 30',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}

const NS = 'kube-system';
const POD_LABELS = { 'k8s-app': 'kube-dns', 'app.kubernetes.io/name': 'coredns' };
const PORTS = { dns: 53, metrics: 9153, health: 8080, ready: 8181 };
/** The Deployment; its pods watch Services and EndpointSlices. */
export const COREDNS_WORKLOAD = { kind: 'deployment', namespace: NS, name: 'coredns' } as const;

/** `20-coredns`: CoreDNS 1.10.1 serving the cluster domain at network.clusterDns. */
export class CoreDnsChart extends Chart {
  static readonly ID = '20-coredns';

  constructor(scope: Construct, props: CoreDnsChartProps) {
    super(scope, CoreDnsChart.ID, CHART_PROPS);

    new kplus.ServiceAccount(this, 'service-account', { metadata: { name: 'coredns', namespace: NS }, automountToken: true });
    new k8s.KubeClusterRole(this, 'cluster-role', {
      metadata: { name: 'system:coredns', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
      rules: [
        rule([''], ['endpoints', 'services', 'pods', 'namespaces'], ['list', 'watch']),
        rule(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch']),
      ],
    });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: {
        name: 'system:coredns',
        labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
        annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
      },
      roleRef: roleRef('ClusterRole', 'system:coredns'),
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: NS }],
    });
    new kplus.ConfigMap(this, 'config', {
      metadata: { name: 'coredns', namespace: NS },
      data: { Corefile: corefile(props.dnsDomain, [props.serviceCidr, props.podCidr]) },
    });

    new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: COREDNS_WORKLOAD.name, namespace: NS, labels: { ...POD_LABELS, 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        replicas: props.replicas,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: int(1) } },
        selector: { matchLabels: POD_LABELS },
        template: {
          metadata: { labels: POD_LABELS },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'coredns',
            automountServiceAccountToken: true,
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            // Replicas prefer different nodes (kubeadm's anti-affinity): with a node down, its replacement still
            // starts on a node that runs one already, where a hard spread would leave it Pending.
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [{
                  weight: 100,
                  podAffinityTerm: { labelSelector: { matchLabels: POD_LABELS }, topologyKey: 'kubernetes.io/hostname' },
                }],
              },
            },
            containers: [{
              name: 'coredns',
              image: props.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['-conf', '/etc/coredns/Corefile'],
              resources: {
                limits: { memory: quantity('170Mi') },
                requests: { cpu: quantity('100m'), memory: quantity('70Mi') },
              },
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              ports: [
                { name: 'dns', containerPort: PORTS.dns, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: PORTS.dns, protocol: 'TCP' },
                { name: 'metrics', containerPort: PORTS.metrics, protocol: 'TCP' },
                { name: 'health', containerPort: PORTS.health, protocol: 'TCP' },
                { name: 'ready', containerPort: PORTS.ready, protocol: 'TCP' },
              ],
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                readOnlyRootFilesystem: true,
              },
              livenessProbe: httpProbe('/health', PORTS.health, {
                initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5,
              }),
              readinessProbe: httpProbe('/ready', PORTS.ready),
            }],
            // CoreDNS forwards to the node's resolvers, not to itself.
            dnsPolicy: 'Default',
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    });

    // A drain takes one replica at a time, so cluster DNS keeps answering.
    new k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: { name: 'coredns', namespace: NS, labels: POD_LABELS },
      spec: { maxUnavailable: int(1), selector: { matchLabels: POD_LABELS } },
    });

    new k8s.KubeService(this, 'service', {
      metadata: {
        name: 'kube-dns',
        namespace: NS,
        annotations: { 'prometheus.io/port': String(PORTS.metrics), 'prometheus.io/scrape': 'true' },
        labels: { ...POD_LABELS, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      },
      spec: {
        selector: POD_LABELS,
        clusterIp: props.clusterDns,
        ports: [
          { name: 'dns', port: PORTS.dns, protocol: 'UDP', targetPort: int(PORTS.dns) },
          { name: 'dns-tcp', port: PORTS.dns, protocol: 'TCP', targetPort: int(PORTS.dns) },
          { name: 'metrics', port: PORTS.metrics, protocol: 'TCP', targetPort: int(PORTS.metrics) },
        ],
      },
    });
  }
}
