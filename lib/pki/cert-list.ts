import { HostRole } from '../cluster-definition';
import { ClusterModel, Host } from '../cluster-model';
import { ExtendedKeyUsage } from './x509';
import { PATHS } from '../paths';
import { resolveAddons } from '../addons/addons-model';

/**
 * The one table of every CA, certificate and key pair kubesmith issues (after kubeadm's certlist.go).
 * Issuance, host bundles, tests and docs all read from here, so they cannot drift apart.
 */

export type CaId = 'etcd-ca' | 'kubernetes-ca' | 'front-proxy-ca';

export interface CaSpec {
  readonly id: CaId;
  readonly commonName: string;
  readonly description: string;
  /** Install paths (absolute) of the CA certificate and, where a host needs it, its key. */
  readonly certPath: string;
  readonly keyPath: string;
  /** Roles whose hosts receive the CA certificate. */
  readonly certOn: readonly HostRole[];
  /** Roles whose hosts receive the CA private key; empty: the key never leaves the PKI state. */
  readonly keyOn: readonly HostRole[];
}

export interface CertContext {
  readonly model: ClusterModel;
  /** The host a per-host certificate is issued for. */
  readonly host?: Host;
  /** The app and Ingress host name a per-app certificate is issued for. */
  readonly app?: { readonly name: string; readonly host: string };
}

export interface CertSpec {
  readonly id: string;
  readonly description: string;
  readonly signer: CaId;
  /** Issue one certificate per host with this role; otherwise one for the cluster. */
  readonly perHost?: HostRole;
  /** Issue one certificate per app whose Ingress TLS Secret kubesmith writes (into dist/addons, on no host). */
  readonly perApp?: boolean;
  /**
   * Use the key of this earlier row (for the same host, on per-host rows): certificates that one process
   * presents, from one directory, are as safe with one key as with several, and cost one key to generate.
   * Each keeps its own identity (subject, usages, signer).
   * @default a key of its own
   */
  readonly sharesKeyWith?: string;
  readonly commonName: (ctx: CertContext) => string;
  readonly organization?: readonly string[];
  readonly usages: readonly ExtendedKeyUsage[];
  readonly sans?: (ctx: CertContext) => { readonly dns: readonly string[]; readonly ip: readonly string[] };
  readonly certPath: string;
  readonly keyPath: string;
  /** Roles whose hosts receive this certificate and its key (empty: no host; per-app rows go to dist/addons). */
  readonly on: readonly HostRole[];
}

export interface KeyPairSpec {
  readonly id: 'service-account';
  readonly description: string;
  readonly privatePath: string;
  readonly publicPath: string;
  readonly on: readonly HostRole[];
}

export const ETCD_SSL = PATHS.etcdSsl;
export const K8S_SSL = PATHS.k8sSsl;

export const CA_LIST: readonly CaSpec[] = [
  {
    id: 'etcd-ca',
    commonName: 'etcd CA',
    description: 'signs etcd serving, peer and client certificates',
    certPath: `${ETCD_SSL}/ca.pem`,
    keyPath: `${ETCD_SSL}/ca-key.pem`,
    certOn: ['etcd', 'master', 'node'],
    keyOn: [],
  },
  {
    id: 'kubernetes-ca',
    commonName: 'kubernetes',
    description: 'cluster CA: apiserver, components, admin; the controller-manager signs kubelet CSRs with it',
    certPath: `${K8S_SSL}/ca.pem`,
    keyPath: `${K8S_SSL}/ca-key.pem`,
    certOn: ['master', 'node'],
    keyOn: ['master'],
  },
  {
    id: 'front-proxy-ca',
    commonName: 'front-proxy-ca',
    description: 'signs the aggregation layer client certificate (requestheader client CA)',
    certPath: `${K8S_SSL}/front-proxy-ca.pem`,
    keyPath: `${K8S_SSL}/front-proxy-ca-key.pem`,
    certOn: ['master'],
    keyOn: [],
  },
];

const etcdMemberSans = ({ host }: CertContext) => ({
  dns: [host!.name, 'localhost'],
  ip: [host!.ip, '127.0.0.1'],
});

export const CERT_LIST: readonly CertSpec[] = [
  {
    id: 'etcd-server',
    description: 'etcd serving certificate, one per member',
    signer: 'etcd-ca',
    perHost: 'etcd',
    commonName: ({ host }) => host!.name,
    usages: ['server', 'client'],
    sans: etcdMemberSans,
    certPath: `${ETCD_SSL}/server.pem`,
    keyPath: `${ETCD_SSL}/server-key.pem`,
    on: ['etcd'],
  },
  {
    id: 'etcd-peer',
    description: "etcd peer certificate, one per member, with the member's serving key (the tutorial used one certificate for both)",
    signer: 'etcd-ca',
    perHost: 'etcd',
    sharesKeyWith: 'etcd-server',
    commonName: ({ host }) => host!.name,
    usages: ['server', 'client'],
    sans: etcdMemberSans,
    certPath: `${ETCD_SSL}/peer.pem`,
    keyPath: `${ETCD_SSL}/peer-key.pem`,
    on: ['etcd'],
  },
  {
    id: 'flannel-etcd-client',
    description: 'flanneld client certificate for etcd',
    signer: 'etcd-ca',
    commonName: () => 'flanneld',
    usages: ['client'],
    certPath: `${ETCD_SSL}/flannel-etcd-client.pem`,
    keyPath: `${ETCD_SSL}/flannel-etcd-client-key.pem`,
    // Masters run flanneld too (hosts/flannel.ts): the apiserver must reach pod IPs.
    on: ['node', 'master'],
  },
  {
    id: 'apiserver',
    description: 'kube-apiserver serving certificate; every master, the VIP and the kubernetes Service',
    signer: 'kubernetes-ca',
    commonName: () => 'kube-apiserver',
    usages: ['server'],
    sans: ({ model }) => ({
      dns: [
        ...model.masters.map((h) => h.name),
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        `kubernetes.default.svc.${model.network.dnsDomain}`,
      ],
      ip: [
        ...model.masters.map((h) => h.ip),
        ...(model.loadBalancer ? [model.loadBalancer.vip] : []),
        model.network.firstServiceIp,
        '127.0.0.1',
      ],
    }),
    certPath: `${K8S_SSL}/apiserver.pem`,
    keyPath: `${K8S_SSL}/apiserver-key.pem`,
    on: ['master'],
  },
  {
    id: 'apiserver-etcd-client',
    description: "kube-apiserver client certificate for etcd, with the apiserver's key",
    signer: 'etcd-ca',
    sharesKeyWith: 'apiserver',
    commonName: () => 'kube-apiserver-etcd-client',
    usages: ['client'],
    certPath: `${ETCD_SSL}/apiserver-etcd-client.pem`,
    keyPath: `${ETCD_SSL}/apiserver-etcd-client-key.pem`,
    on: ['master'],
  },
  {
    id: 'apiserver-kubelet-client',
    description: "kube-apiserver client certificate for kubelets (logs, exec, port-forward), with the apiserver's key",
    signer: 'kubernetes-ca',
    sharesKeyWith: 'apiserver',
    commonName: () => 'kube-apiserver-kubelet-client',
    usages: ['client'],
    certPath: `${K8S_SSL}/apiserver-kubelet-client.pem`,
    keyPath: `${K8S_SSL}/apiserver-kubelet-client-key.pem`,
    on: ['master'],
  },
  {
    id: 'front-proxy-client',
    description: "kube-apiserver client certificate for aggregated API servers, with the apiserver's key",
    signer: 'front-proxy-ca',
    sharesKeyWith: 'apiserver',
    commonName: () => 'front-proxy-client',
    usages: ['client'],
    certPath: `${K8S_SSL}/front-proxy-client.pem`,
    keyPath: `${K8S_SSL}/front-proxy-client-key.pem`,
    on: ['master'],
  },
  {
    id: 'kube-controller-manager',
    description: 'kube-controller-manager client certificate',
    signer: 'kubernetes-ca',
    commonName: () => 'system:kube-controller-manager',
    usages: ['client'],
    certPath: `${K8S_SSL}/kube-controller-manager.pem`,
    keyPath: `${K8S_SSL}/kube-controller-manager-key.pem`,
    on: ['master'],
  },
  {
    id: 'kube-scheduler',
    description: 'kube-scheduler client certificate',
    signer: 'kubernetes-ca',
    commonName: () => 'system:kube-scheduler',
    usages: ['client'],
    certPath: `${K8S_SSL}/kube-scheduler.pem`,
    keyPath: `${K8S_SSL}/kube-scheduler-key.pem`,
    on: ['master'],
  },
  {
    id: 'admin',
    description: 'cluster administrator (kubectl), member of system:masters',
    signer: 'kubernetes-ca',
    commonName: () => 'admin',
    organization: ['system:masters'],
    usages: ['client'],
    certPath: `${K8S_SSL}/admin.pem`,
    keyPath: `${K8S_SSL}/admin-key.pem`,
    on: ['master'],
  },
  {
    id: 'kube-proxy',
    description: 'kube-proxy client certificate',
    signer: 'kubernetes-ca',
    commonName: () => 'system:kube-proxy',
    usages: ['client'],
    certPath: `${K8S_SSL}/kube-proxy.pem`,
    keyPath: `${K8S_SSL}/kube-proxy-key.pem`,
    on: ['node'],
  },
  {
    id: 'ingress-tls',
    description: "an app's Ingress certificate for its host name, as a kubernetes.io/tls Secret in dist/addons",
    signer: 'kubernetes-ca',
    perApp: true,
    commonName: ({ app }) => app!.host,
    usages: ['server'],
    sans: ({ app }) => ({ dns: [app!.host], ip: [] }),
    certPath: '',
    keyPath: '',
    on: [],
  },
];

export const KEY_PAIR_LIST: readonly KeyPairSpec[] = [
  {
    id: 'service-account',
    description: 'signs (apiserver, controller-manager) and verifies service account tokens',
    privatePath: `${K8S_SSL}/sa.key`,
    publicPath: `${K8S_SSL}/sa.pub`,
    on: ['master'],
  },
];

export function caSpec(id: CaId): CaSpec {
  return CA_LIST.find((c) => c.id === id)!;
}

export function certSpec(id: string): CertSpec {
  const spec = CERT_LIST.find((c) => c.id === id);
  if (!spec) throw new Error(`no certificate "${id}" in the certificate table; known: ${CERT_LIST.map((c) => c.id).join(', ')}`);
  return spec;
}

/** One certificate to issue: a table row, for one host when the row is per host. */
export interface CertInstance {
  /** Unique name: the spec id, plus '@host' for per-host certificates. */
  readonly name: string;
  readonly spec: CertSpec;
  readonly host?: Host;
  readonly app?: { readonly name: string; readonly host: string };
  /** The host or app name after '@' in `name`, for `ClusterPki.cert(id, scope)`. */
  readonly scope?: string;
}

export function certInstances(model: ClusterModel): CertInstance[] {
  return CERT_LIST.flatMap((spec): CertInstance[] => {
    if (spec.perHost) return model.withRole(spec.perHost).map((host) => ({ name: `${spec.id}@${host.name}`, spec, host, scope: host.name }));
    if (spec.perApp) {
      return resolveAddons(model).apps.filter((a) => a.tls?.issued && a.host)
        .map((a) => ({ name: `${spec.id}@${a.name}`, spec, app: { name: a.name, host: a.host! }, scope: a.name }));
    }
    return [{ name: spec.id, spec }];
  });
}

export function receives(host: Host, roles: readonly HostRole[]): boolean {
  return roles.some((r) => host.has(r));
}
