import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { Cluster, kubernetesFlags, renderOptionFile } from '../lib/components';
import { ClusterModel, PATHS } from '../lib/model';
import { EncryptionKey, certPath, keyPath } from '../lib/pki';
import { addKubernetesComponent, kubernetesComponent, kubernetesUnit } from './kubernetes-component';

export const KUBE_APISERVER = {
  ...kubernetesComponent('kube-apiserver'),
  auditPolicy: `${PATHS.k8sCfg}/audit-policy.yaml`,
  auditLog: `${PATHS.k8sLogs}/kube-apiserver-audit.log`,
  encryptionConfig: PATHS.encryptionConfig,
} as const;

/** klog verbosity (--v) of every Kubernetes component. */
export const VERBOSITY = 2;

export function serviceAccountIssuer(model: ClusterModel): string {
  return `https://kubernetes.default.svc.${model.network.dnsDomain}`;
}

/** kube-apiserver on every master: option file, unit and (unless the definition turns it off) audit policy. */
export class KubeApiserver extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const auditLog = model.auditLog;
    const net = model.network;
    const encryptionConfig = renderEncryptionConfig(cluster.secrets.encryptionKeys);

    for (const bundle of cluster.placeComponent('kube-apiserver')) {
      const host = bundle.host;
      const flags: [string, string | number | boolean][] = [
        ['advertise-address', host.ip],
        // All addresses: nginx reaches <host ip>, the local components 127.0.0.1.
        ['bind-address', '0.0.0.0'],
        ['secure-port', model.apiServerPort],
        ['etcd-servers', model.etcdEndpoints.join(',')],
        ['etcd-cafile', certPath('etcd-ca')],
        ['etcd-certfile', certPath('apiserver-etcd-client')],
        ['etcd-keyfile', keyPath('apiserver-etcd-client')],
        ['service-cluster-ip-range', net.serviceCidr.text],
        ['service-node-port-range', `${net.nodePortRange.low}-${net.nodePortRange.high}`],
        ['allow-privileged', true],
        ['authorization-mode', 'Node,RBAC'],
        // The 1.27 default set covers the rest (NamespaceLifecycle, ServiceAccount, PodSecurity, ...).
        ['enable-admission-plugins', 'NodeRestriction'],
        // Kubelets bootstrap with a bootstrap-token Secret in kube-system (system:bootstrap:<id>, group system:bootstrappers).
        ['enable-bootstrap-token-auth', true],
        ['client-ca-file', certPath('kubernetes-ca')],
        ['tls-cert-file', certPath('apiserver')],
        ['tls-private-key-file', keyPath('apiserver')],
        ['kubelet-client-certificate', certPath('apiserver-kubelet-client')],
        ['kubelet-client-key', keyPath('apiserver-kubelet-client')],
        // Node names need not resolve in DNS; the InternalIP is the kubelet's --node-ip.
        ['kubelet-preferred-address-types', 'InternalIP,Hostname'],
        // --api-audiences defaults to the issuer.
        ['service-account-issuer', serviceAccountIssuer(model)],
        ['service-account-key-file', certPath('service-account')],
        ['service-account-signing-key-file', keyPath('service-account')],
        ['proxy-client-cert-file', certPath('front-proxy-client')],
        ['proxy-client-key-file', keyPath('front-proxy-client')],
        ['requestheader-client-ca-file', certPath('front-proxy-ca')],
        ['requestheader-allowed-names', 'front-proxy-client'],
        ['requestheader-extra-headers-prefix', 'X-Remote-Extra-'],
        ['requestheader-group-headers', 'X-Remote-Group'],
        ['requestheader-username-headers', 'X-Remote-User'],
        // Reach aggregated API servers at their endpoint (pod) addresses, routed by flannel, not through a
        // Service cluster IP: the apiserver does not depend on its own host's kube-proxy.
        ['enable-aggregator-routing', true],
        // Secrets are written to etcd encrypted with the first key of the state's encryption keys.
        ['encryption-provider-config', KUBE_APISERVER.encryptionConfig],
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
      flags.push(['v', VERBOSITY]);

      if (auditLog) bundle.addFile(KUBE_APISERVER.auditPolicy, renderAuditPolicy());
      bundle.addFile(KUBE_APISERVER.encryptionConfig, encryptionConfig, { mode: 0o600 });
      addKubernetesComponent(bundle, KUBE_APISERVER, {
        options: renderOptionFile(KUBE_APISERVER.optionVariable, kubernetesFlags(model, 'kube-apiserver', flags)),
        // The apiserver reports READY=1 to systemd once it serves.
        unit: kubernetesUnit('kube-apiserver', { after: cluster.runs(host, 'etcd') ? ['etcd'] : [], type: 'notify' }),
      });
    }
  }
}

/**
 * The apiservers' EncryptionConfiguration: Secrets with secretbox under the first key, every key able to decrypt;
 * identity last, so Secrets written before encryption was turned on still read (they are encrypted when next written).
 */
export function renderEncryptionConfig(keys: readonly EncryptionKey[]): string {
  return stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{
      resources: ['secrets'],
      providers: [{ secretbox: { keys: keys.map((k) => ({ name: k.name, secret: k.secret })) } }, { identity: {} }],
    }],
  });
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
