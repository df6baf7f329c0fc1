import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { Cluster } from '../lib/cluster';
import { ClusterModel } from '../lib/cluster-model';
import { PATHS } from '../lib/paths';
import { caSpec, certSpec, KEY_PAIR_LIST } from '../lib/pki/cert-list';
import { optionFileService, renderOptionFile, renderUnit } from '../lib/systemd-unit';
import { addKubernetesComponent } from './kubernetes-component';

export const KUBE_APISERVER = {
  unit: 'kube-apiserver.service',
  binary: `${PATHS.k8sBin}/kube-apiserver`,
  optionFile: `${PATHS.k8sCfg}/kube-apiserver`,
  optionVariable: 'KUBE_APISERVER_OPTS',
  auditPolicy: `${PATHS.k8sCfg}/audit-policy.yaml`,
  auditLog: `${PATHS.k8sLogs}/kube-apiserver-audit.log`,
} as const;

export { kubernetesServerSource } from './kubernetes-component';

/**
 * The apiserver on the same master: controller-manager, scheduler and the master's admin.kubeconfig use it,
 * so they keep working while the VIP moves. 127.0.0.1 is a SAN of the apiserver certificate.
 */
export function localApiServerUrl(model: ClusterModel): string {
  return `https://127.0.0.1:${model.apiServerPort}`;
}

export function serviceAccountIssuer(model: ClusterModel): string {
  return `https://kubernetes.default.svc.${model.network.dnsDomain}`;
}

const SA_KEYS = KEY_PAIR_LIST.find((k) => k.id === 'service-account')!;

export interface KubeApiserverProps {
  /**
   * Write an audit log (metadata of every request) under /opt/kubernetes/logs, rotated by the apiserver.
   * @default true
   */
  readonly auditLog?: boolean;
  /**
   * klog verbosity (--v).
   * @default 2
   */
  readonly verbosity?: number;
}

/** kube-apiserver on every master: option file, unit and (optionally) audit policy. */
export class KubeApiserver extends Construct {
  constructor(scope: Construct, id: string, props: KubeApiserverProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const auditLog = props.auditLog ?? true;
    const net = model.network;

    for (const bundle of cluster.bundlesWithRole('master')) {
      const host = bundle.host;
      const flags: [string, string | number | boolean][] = [
        ['advertise-address', host.ip],
        // All addresses: nginx reaches <host ip>, the local components 127.0.0.1.
        ['bind-address', '0.0.0.0'],
        ['secure-port', model.apiServerPort],
        ['etcd-servers', model.etcdEndpoints.join(',')],
        ['etcd-cafile', caSpec('etcd-ca').certPath],
        ['etcd-certfile', certSpec('apiserver-etcd-client').certPath],
        ['etcd-keyfile', certSpec('apiserver-etcd-client').keyPath],
        ['service-cluster-ip-range', net.serviceCidr.text],
        ['service-node-port-range', `${net.nodePortRange.low}-${net.nodePortRange.high}`],
        ['allow-privileged', true],
        ['authorization-mode', 'Node,RBAC'],
        // The 1.27 default set covers the rest (NamespaceLifecycle, ServiceAccount, PodSecurity, ...).
        ['enable-admission-plugins', 'NodeRestriction'],
        // Kubelets bootstrap with a bootstrap-token Secret in kube-system (system:bootstrap:<id>, group system:bootstrappers).
        ['enable-bootstrap-token-auth', true],
        ['client-ca-file', caSpec('kubernetes-ca').certPath],
        ['tls-cert-file', certSpec('apiserver').certPath],
        ['tls-private-key-file', certSpec('apiserver').keyPath],
        ['kubelet-client-certificate', certSpec('apiserver-kubelet-client').certPath],
        ['kubelet-client-key', certSpec('apiserver-kubelet-client').keyPath],
        // Node names need not resolve in DNS; the InternalIP is the kubelet's --node-ip.
        ['kubelet-preferred-address-types', 'InternalIP,Hostname'],
        // --api-audiences defaults to the issuer.
        ['service-account-issuer', serviceAccountIssuer(model)],
        ['service-account-key-file', SA_KEYS.publicPath],
        ['service-account-signing-key-file', SA_KEYS.privatePath],
        ['proxy-client-cert-file', certSpec('front-proxy-client').certPath],
        ['proxy-client-key-file', certSpec('front-proxy-client').keyPath],
        ['requestheader-client-ca-file', caSpec('front-proxy-ca').certPath],
        ['requestheader-allowed-names', 'front-proxy-client'],
        ['requestheader-extra-headers-prefix', 'X-Remote-Extra-'],
        ['requestheader-group-headers', 'X-Remote-Group'],
        ['requestheader-username-headers', 'X-Remote-User'],
        // Masters run flanneld but not kube-proxy: reach aggregated API servers and webhooks at their
        // endpoint (pod) addresses, routed by flannel, rather than through a Service cluster IP.
        ['enable-aggregator-routing', true],
      ];
      if (auditLog) {
        flags.push(
          ['audit-policy-file', KUBE_APISERVER.auditPolicy],
          ['audit-log-path', KUBE_APISERVER.auditLog],
          ['audit-log-maxage', 30],
          ['audit-log-maxbackup', 10],
          ['audit-log-maxsize', 100],
        );
      }
      flags.push(['v', props.verbosity ?? 2]);

      if (auditLog) bundle.addFile(KUBE_APISERVER.auditPolicy, renderAuditPolicy());
      addKubernetesComponent(bundle, model, KUBE_APISERVER, START_ORDER.kubeApiserver, {
        options: renderOptionFile(KUBE_APISERVER.optionVariable, flags),
        unit: renderUnit({
          unit: {
            Description: 'Kubernetes API Server',
            Documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/',
            After: ['network-online.target', ...(host.has('etcd') ? ['etcd.service'] : [])],
            Wants: 'network-online.target',
          },
          // The apiserver reports READY=1 to systemd once it serves.
          service: optionFileService(KUBE_APISERVER, { Type: 'notify' }),
        }),
      });
    }
  }
}

/** Metadata of every request except the noisiest read-only ones; never request or response bodies (Secrets). */
function renderAuditPolicy(): string {
  return stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      { level: 'None', users: ['system:kube-proxy'], verbs: ['watch'] },
      { level: 'None', nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version'] },
      { level: 'None', resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }], verbs: ['get', 'update'] },
      { level: 'None', resources: [{ group: '', resources: ['events'] }] },
      { level: 'Metadata' },
    ],
  });
}
