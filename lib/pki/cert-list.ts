import { ClusterModel, Host, HostRole, PATHS, ResolvedApp } from '../model';
import { ExtendedKeyUsage } from './x509';

/**
 * The one table of every CA, certificate and key pair kubesmith issues (after kubeadm's certlist.go): a CA is a row
 * with no signer, a key pair a row with no certificate. Issuance, host bundles, the report and the tests read it;
 * other layers only through the functions at the end of this file. App certificates are a variant list of their own.
 */

export type CaId = 'etcd-ca' | 'kubernetes-ca' | 'front-proxy-ca' | 'ingress-ca';
export type CertId =
  | 'etcd-server' | 'etcd-peer' | 'flanneld'
  | 'apiserver' | 'apiserver-etcd-client' | 'apiserver-kubelet-client' | 'front-proxy-client'
  | 'kube-controller-manager' | 'kube-scheduler' | 'admin' | 'kube-proxy';
export type KeyPairId = 'service-account';
export type PkiId = CaId | CertId | KeyPairId;

export interface CertContext {
  readonly model: ClusterModel;
  /** The host a per-host certificate is issued for. */
  readonly host?: Host;
  /** The app a per-app certificate is issued for. */
  readonly app?: ResolvedApp;
}

export interface Sans {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
}

/** What a certificate says about whom it names; shared by the table's rows and the per-app list. */
export interface SubjectSpec {
  readonly commonName: (ctx: CertContext) => string;
  readonly organization?: readonly string[];
  /** Extended key usages; none on a CA. */
  readonly usages: readonly ExtendedKeyUsage[];
  readonly sans?: (ctx: CertContext) => Sans;
}

/** A row of the table. */
export interface PkiSpec extends Partial<SubjectSpec> {
  readonly id: PkiId;
  readonly description: string;
  readonly kind: 'ca' | 'certificate' | 'key-pair';
  /** The CA that signs it; a CA signs itself and a key pair has no certificate. */
  readonly signer?: CaId;
  /** One per host with this role; otherwise one for the cluster. */
  readonly perHost?: HostRole;
  /**
   * Use the key of this earlier row (for the same host, on per-host rows): certificates that one process presents,
   * from one directory, are as safe with one key as with several, and cost one key to generate. Each keeps its own
   * identity (subject, usages, signer).
   * @default a key of its own
   */
  readonly sharesKeyWith?: CertId;
  /** Install paths: the certificate (a key pair's public key) and the private key. */
  readonly certPath: string;
  readonly keyPath: string;
  /** Roles whose hosts receive the certificate (public key). */
  readonly certOn: readonly HostRole[];
  /** Roles whose hosts receive the private key; empty: it never leaves the PKI state. */
  readonly keyOn: readonly HostRole[];
  /** Issued only for clusters that need it. @default every cluster */
  readonly neededBy?: (model: ClusterModel) => boolean;
  /**
   * A CA that nothing on a host trusts yet may be created in an existing state, where a missing CA is otherwise an
   * error: why it is new. @default never: missing, it is an error
   */
  readonly newSince?: string;
}

/** A certificate issued per app, into dist/addons rather than onto a host. */
export interface AppCertSpec extends SubjectSpec {
  readonly id: 'ingress-tls';
  readonly description: string;
  readonly signer: CaId;
}

const ETCD_SSL = PATHS.etcdSsl;
const K8S_SSL = PATHS.k8sSsl;

type Row<I extends PkiId> = Omit<PkiSpec, 'id' | 'kind' | 'signer'> & (I extends CertId ? { readonly signer: CaId } : object);

/** A CA: self-signed, no usages beyond signing. */
function ca(commonName: string, row: Omit<Row<CaId>, 'commonName' | 'usages'>): Row<CaId> {
  return { ...row, commonName: () => commonName, usages: [] };
}

/** A leaf certificate whose certificate and key go to the same roles. */
function cert(row: Omit<Row<CertId>, 'certOn' | 'keyOn'> & { readonly on: readonly HostRole[] }): Row<CertId> {
  const { on, ...rest } = row;
  return { ...rest, certOn: on, keyOn: on };
}

const etcdMemberSans = ({ host }: CertContext): Sans => ({ dns: [host!.name, 'localhost'], ip: [host!.ip, '127.0.0.1'] });

/** Every row, in issuing order: CAs first; a row whose key another row shares comes before it. */
const ROWS: { readonly [I in PkiId]: Row<I> } = {
  'etcd-ca': ca('etcd CA', {
    description: 'signs etcd serving, peer and client certificates',
    certPath: `${ETCD_SSL}/ca.pem`,
    keyPath: `${ETCD_SSL}/ca-key.pem`,
    // Only etcd's peers and clients: no node holds anything etcd trusts.
    certOn: ['etcd', 'master'],
    keyOn: [],
  }),
  'kubernetes-ca': ca('kubernetes', {
    description: 'cluster CA: apiserver, components, admin; the controller-manager signs kubelet CSRs with it',
    certPath: `${K8S_SSL}/ca.pem`,
    keyPath: `${K8S_SSL}/ca-key.pem`,
    certOn: ['master', 'node'],
    keyOn: ['master'],
  }),
  'front-proxy-ca': ca('front-proxy-ca', {
    description: 'signs the aggregation layer client certificate (requestheader client CA)',
    certPath: `${K8S_SSL}/front-proxy-ca.pem`,
    keyPath: `${K8S_SSL}/front-proxy-ca-key.pem`,
    certOn: ['master'],
    keyOn: [],
  }),
  // Not the cluster CA: a certificate it signs is worth nothing to the apiserver, which trusts kubernetes-ca for clients.
  'ingress-ca': ca('kubesmith ingress CA', {
    description: "signs the apps' Ingress certificates; no host trusts it",
    certPath: `${K8S_SSL}/ingress-ca.pem`,
    keyPath: `${K8S_SSL}/ingress-ca-key.pem`,
    certOn: [],
    keyOn: [],
    neededBy: (model) => model.apps.some((a) => appCertOf(a) !== undefined),
    newSince: 'app Ingress certificates get a CA of their own (they were signed by the cluster CA)',
  }),
  'etcd-server': cert({
    description: 'etcd serving certificate, one per member',
    signer: 'etcd-ca',
    perHost: 'etcd',
    commonName: ({ host }) => host!.name,
    usages: ['server', 'client'],
    sans: etcdMemberSans,
    certPath: `${ETCD_SSL}/server.pem`,
    keyPath: `${ETCD_SSL}/server-key.pem`,
    on: ['etcd'],
  }),
  'etcd-peer': cert({
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
  }),
  'apiserver': cert({
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
  }),
  'apiserver-etcd-client': cert({
    description: "kube-apiserver client certificate for etcd, with the apiserver's key",
    signer: 'etcd-ca',
    sharesKeyWith: 'apiserver',
    commonName: () => 'kube-apiserver-etcd-client',
    usages: ['client'],
    certPath: `${ETCD_SSL}/apiserver-etcd-client.pem`,
    keyPath: `${ETCD_SSL}/apiserver-etcd-client-key.pem`,
    on: ['master'],
  }),
  'apiserver-kubelet-client': cert({
    description: "kube-apiserver client certificate for kubelets (logs, exec, port-forward), with the apiserver's key",
    signer: 'kubernetes-ca',
    sharesKeyWith: 'apiserver',
    commonName: () => 'kube-apiserver-kubelet-client',
    usages: ['client'],
    certPath: `${K8S_SSL}/apiserver-kubelet-client.pem`,
    keyPath: `${K8S_SSL}/apiserver-kubelet-client-key.pem`,
    on: ['master'],
  }),
  'front-proxy-client': cert({
    description: "kube-apiserver client certificate for aggregated API servers, with the apiserver's key",
    signer: 'front-proxy-ca',
    sharesKeyWith: 'apiserver',
    commonName: () => 'front-proxy-client',
    usages: ['client'],
    certPath: `${K8S_SSL}/front-proxy-client.pem`,
    keyPath: `${K8S_SSL}/front-proxy-client-key.pem`,
    on: ['master'],
  }),
  'kube-controller-manager': cert({
    description: 'kube-controller-manager client certificate',
    signer: 'kubernetes-ca',
    commonName: () => 'system:kube-controller-manager',
    usages: ['client'],
    certPath: `${K8S_SSL}/kube-controller-manager.pem`,
    keyPath: `${K8S_SSL}/kube-controller-manager-key.pem`,
    on: ['master'],
  }),
  'kube-scheduler': cert({
    description: 'kube-scheduler client certificate',
    signer: 'kubernetes-ca',
    commonName: () => 'system:kube-scheduler',
    usages: ['client'],
    certPath: `${K8S_SSL}/kube-scheduler.pem`,
    keyPath: `${K8S_SSL}/kube-scheduler-key.pem`,
    on: ['master'],
  }),
  'admin': cert({
    description: 'cluster administrator (kubectl), member of system:masters',
    signer: 'kubernetes-ca',
    commonName: () => 'admin',
    organization: ['system:masters'],
    usages: ['client'],
    certPath: `${K8S_SSL}/admin.pem`,
    keyPath: `${K8S_SSL}/admin-key.pem`,
    on: ['master'],
  }),
  'flanneld': cert({
    description: 'flanneld client certificate for the apiserver (its Node, podCIDRs); flannel has no etcd credential',
    signer: 'kubernetes-ca',
    commonName: () => 'system:flanneld',
    usages: ['client'],
    certPath: `${K8S_SSL}/flanneld.pem`,
    keyPath: `${K8S_SSL}/flanneld-key.pem`,
    on: ['master', 'node'],
  }),
  'kube-proxy': cert({
    description: 'kube-proxy client certificate',
    signer: 'kubernetes-ca',
    commonName: () => 'system:kube-proxy',
    usages: ['client'],
    certPath: `${K8S_SSL}/kube-proxy.pem`,
    keyPath: `${K8S_SSL}/kube-proxy-key.pem`,
    on: ['master', 'node'],
  }),
  'service-account': {
    description: 'signs (apiserver, controller-manager) and verifies service account tokens',
    certPath: `${K8S_SSL}/sa.pub`,
    keyPath: `${K8S_SSL}/sa.key`,
    certOn: ['master'],
    keyOn: ['master'],
  },
};

function kindOf(row: Row<PkiId>): PkiSpec['kind'] {
  if ('signer' in row) return 'certificate';
  return row.commonName ? 'ca' : 'key-pair';
}

/** The table, in issuing order. */
export const PKI_TABLE: readonly PkiSpec[] = (Object.keys(ROWS) as PkiId[]).map((id) => ({ id, kind: kindOf(ROWS[id]), ...ROWS[id] }));

/** The per-app variant list: a certificate for each app whose Ingress TLS kubesmith issues. */
export const APP_CERT_LIST: readonly AppCertSpec[] = [
  {
    id: 'ingress-tls',
    description: "an app's Ingress certificate for its host name, as a kubernetes.io/tls Secret in dist/addons",
    signer: 'ingress-ca',
    commonName: ({ app }) => app!.host!,
    usages: ['server'],
    sans: ({ app }) => ({ dns: [app!.host!], ip: [] }),
  },
];

// The table's functions: how every other layer reads it.

export function pkiSpec(id: PkiId): PkiSpec {
  return PKI_TABLE.find((row) => row.id === id)!;
}

/** The CAs a cluster has: every CA row it needs. */
export function caIds(model: ClusterModel): CaId[] {
  return PKI_TABLE.filter((r) => r.kind === 'ca' && (r.neededBy?.(model) ?? true)).map((r) => r.id as CaId);
}

/** Install path of a row's certificate (a key pair's public key). */
export function certPath(id: PkiId): string {
  return pkiSpec(id).certPath;
}

/** Install path of a row's private key. */
export function keyPath(id: PkiId): string {
  return pkiSpec(id).keyPath;
}

/** The user a certificate authenticates as: its common name (cluster-wide rows). */
export function userOf(id: CertId): string {
  return pkiSpec(id).commonName!({} as CertContext);
}

/** A leaf certificate to issue: a table row for the cluster or one host, or an app's certificate. */
export interface CertInstance {
  /** Unique name: the row id, plus '@host' or '@app'. */
  readonly name: string;
  readonly id: CertId | AppCertSpec['id'];
  readonly spec: SubjectSpec & { readonly signer: CaId; readonly sharesKeyWith?: CertId };
  readonly host?: Host;
  readonly app?: ResolvedApp;
  /** The host or app name after '@' in `name`. */
  readonly scope?: string;
}

/** Every leaf certificate of the cluster, in table order, then the per-app ones. */
export function certInstances(model: ClusterModel): CertInstance[] {
  const rows = PKI_TABLE.filter((r) => r.kind === 'certificate').flatMap((row): CertInstance[] => {
    const spec = row as CertInstance['spec'] & PkiSpec;
    const id = row.id as CertId;
    if (row.perHost) return model.withRole(row.perHost).map((host) => ({ name: `${id}@${host.name}`, id, spec, host, scope: host.name }));
    return [{ name: id, id, spec }];
  });
  const apps = APP_CERT_LIST.flatMap((spec) => model.apps.filter((a) => a.tls?.issued && a.host)
    .map((app): CertInstance => ({ name: `${spec.id}@${app.name}`, id: spec.id, spec, app, scope: app.name })));
  return [...rows, ...apps];
}

/** The per-app certificate kubesmith issues for an app, if any: its id, for ClusterPki.cert(id, app name). */
export function appCertOf(app: ResolvedApp): AppCertSpec['id'] | undefined {
  return app.tls?.issued && app.host ? APP_CERT_LIST[0].id : undefined;
}

function receives(host: Host, roles: readonly HostRole[]): boolean {
  return roles.some((r) => host.has(r));
}

/** What a host receives of the PKI: which rows' certificates and keys, for itself where the row is per host. */
export interface HostPkiFile {
  readonly id: PkiId;
  /** The certificate instance ('etcd-server@k8s1'), or the row id for a CA or key pair. */
  readonly name: string;
  readonly part: 'cert' | 'key';
  readonly path: string;
}

export function pkiFilesOf(host: Host): HostPkiFile[] {
  return PKI_TABLE.flatMap((row) => {
    if (row.perHost && !host.has(row.perHost)) return [];
    const name = row.perHost ? `${row.id}@${host.name}` : row.id;
    return [
      ...(receives(host, row.certOn) ? [{ id: row.id, name, part: 'cert' as const, path: row.certPath }] : []),
      ...(receives(host, row.keyOn) ? [{ id: row.id, name, part: 'key' as const, path: row.keyPath }] : []),
    ];
  });
}

/** The certificates a host receives (CAs' and leaves', no key pair), in table order: what its expiry check reads. */
export function certificateFilesOf(host: Host): { readonly id: CaId | CertId; readonly path: string; readonly isCa: boolean }[] {
  return pkiFilesOf(host).filter((f) => f.part === 'cert' && pkiSpec(f.id).kind !== 'key-pair')
    .map((f) => ({ id: f.id as CaId | CertId, path: f.path, isCa: pkiSpec(f.id).kind === 'ca' }));
}

/** The CA certificates a host receives, by install path, sorted: what identifies its cluster on the host. */
export function caCertPathsOf(host: Host): string[] {
  return pkiFilesOf(host).filter((f) => f.part === 'cert' && pkiSpec(f.id).kind === 'ca').map((f) => f.path).sort();
}
