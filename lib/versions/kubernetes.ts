/**
 * Version facts as data, keyed by Kubernetes minor (as kubeadm keys SupportedEtcdVersion): for each minor kubesmith
 * compiles, its newest release, and the stack upstream pairs it with. Everything below the model that depends on the
 * version reads it from here or from the minor's references (lib/versions/references/1.NN). Adding a minor is a row
 * here, its checksums (lib/model/release-checksums.ts) and its references (docs/adding-a-kubernetes-minor.md).
 */

export interface KubernetesMinor {
  readonly minor: number;
  /** The newest release of the minor the Go module proxy serves: kubesmith's example and the cluster suite's build. */
  readonly newest: string;
  /**
   * The last day upstream patches the minor (https://kubernetes.io/releases/patch-releases/); for minors still
   * supported, the expected day (about 14 months after the release).
   */
  readonly endOfLife: string;
  /** What kubeadm of the newest release deploys for its minor (constants.go: DefaultEtcdVersion, CoreDNSVersion, PauseVersion). */
  readonly kubeadm: { readonly etcd: string; readonly coreDns: string; readonly pause: string };
  /**
   * The companion releases the definition's binaries default to: etcd at the newest patch of kubeadm's etcd minor;
   * the CNI plugins of build/dependencies.yaml; containerd and runc lines upstream supported alongside.
   */
  readonly companions: {
    readonly etcd: string;
    readonly containerd: string;
    readonly runc: string;
    readonly cniPlugins: string;
    readonly flannel: string;
    readonly flannelCni: string;
  };
  /** Images the minor's kubeadm uses: the pod sandbox (containerd's sandbox image) and CoreDNS. */
  readonly images: { readonly pause: string; readonly coreDns: string };
  /**
   * The kubelet on a cgroup v1 host: 'supported'; 'maintenance' (works, no new features, 1.31+); 'refused' (1.35+:
   * the kubelet exits unless its config says failCgroupV1: false).
   */
  readonly cgroupV1: 'supported' | 'maintenance' | 'refused';
}

const PAUSE = 'registry.k8s.io/pause';
const COREDNS = 'registry.k8s.io/coredns/coredns';

type Row = Omit<KubernetesMinor, 'images'>;

/**
 * Upstream's pairing per minor; docs/kubernetes-versions.md names the sources.
 *  - kubeadm: cmd/kubeadm/app/constants/constants.go of the newest release (DefaultEtcdVersion where its own minor
 *    has no SupportedEtcdVersion key).
 *  - etcd: the newest patch of kubeadm's etcd minor, which etcd's upgrade guides require before the next minor
 *    (3.5.32+ before 3.6, 3.6.11+ before 3.7).
 *  - containerd: the newest patch of the line containerd's RELEASES.md recommends for the minor (1.7 through 1.35,
 *    2.3 LTS from 1.36); runc: the line that containerd release pins (script/setup/runc-version), newest patch.
 *  - CNI plugins: build/dependencies.yaml "cni". flannel 0.22.2 and its CNI plugin 1.2.0 for every minor: flannel
 *    talks to stable APIs only (Nodes, and its own kubeconfig's RBAC).
 */
const C17 = ['1.7.36', '1.3.7'] as const;
const C23 = ['2.3.7', '1.5.3'] as const;
const FLANNEL = ['0.22.2', '1.2.0'] as const;
const ROWS: readonly Row[] = [
  row(27, '1.27.16', '2024-06-28', ['3.5.12-0', 'v1.10.1', '3.9'], ['3.5.36', ...C17, '1.2.0', ...FLANNEL], 'supported'),
  row(28, '1.28.15', '2024-10-28', ['3.5.15-0', 'v1.10.1', '3.9'], ['3.5.36', ...C17, '1.2.0', ...FLANNEL], 'supported'),
  row(29, '1.29.15', '2025-02-28', ['3.5.16-0', 'v1.11.1', '3.9'], ['3.5.36', ...C17, '1.3.0', ...FLANNEL], 'supported'),
  row(30, '1.30.14', '2025-06-28', ['3.5.15-0', 'v1.11.3', '3.9'], ['3.5.36', ...C17, '1.4.0', ...FLANNEL], 'supported'),
  row(31, '1.31.14', '2025-10-28', ['3.5.24-0', 'v1.11.3', '3.10'], ['3.5.36', ...C17, '1.5.1', ...FLANNEL], 'maintenance'),
  row(32, '1.32.13', '2026-02-28', ['3.5.24-0', 'v1.11.3', '3.10'], ['3.5.36', ...C17, '1.6.0', ...FLANNEL], 'maintenance'),
  row(33, '1.33.13', '2026-06-28', ['3.5.24-0', 'v1.12.0', '3.10'], ['3.5.36', ...C17, '1.6.2', ...FLANNEL], 'maintenance'),
  row(34, '1.34.12', '2026-10-27', ['3.6.5-0', 'v1.12.1', '3.10.1'], ['3.6.17', ...C17, '1.7.1', ...FLANNEL], 'maintenance'),
  row(35, '1.35.8', '2027-02-28', ['3.6.6-0', 'v1.13.1', '3.10.1'], ['3.6.17', ...C17, '1.8.0', ...FLANNEL], 'refused'),
  row(36, '1.36.5', '2027-06-28', ['3.6.8-0', 'v1.14.2', '3.10.2'], ['3.6.17', ...C23, '1.9.1', ...FLANNEL], 'refused'),
  row(37, '1.37.2', '2027-10-28', ['3.7.0-0', 'v1.14.6', '3.10.2'], ['3.7.4', ...C23, '1.9.1', ...FLANNEL], 'refused'),
];

function row(
  minor: number, newest: string, endOfLife: string,
  [etcd, coreDns, pause]: readonly [string, string, string],
  [cEtcd, containerd, runc, cniPlugins, flannel, flannelCni]: readonly [string, string, string, string, string, string],
  cgroupV1: KubernetesMinor['cgroupV1'],
): Row {
  return {
    minor, newest, endOfLife, kubeadm: { etcd, coreDns, pause },
    companions: { etcd: cEtcd, containerd, runc, cniPlugins, flannel, flannelCni }, cgroupV1,
  };
}

export const KUBERNETES_MINORS: readonly KubernetesMinor[] = ROWS.map((r) => ({
  ...r,
  images: { pause: `${PAUSE}:${r.kubeadm.pause}`, coreDns: `${COREDNS}:${r.kubeadm.coreDns}` },
}));

/** The minors kubesmith compiles, ascending. */
export const SUPPORTED_MINORS: readonly number[] = KUBERNETES_MINORS.map((m) => m.minor);

/** 37 for '1.37.2'; NaN for anything that is not 1.N.P. */
export function minorOf(version: string): number {
  const m = /^1\.(\d+)\.\d+$/.exec(version);
  return m ? Number(m[1]) : NaN;
}

/** The row of a minor, or of a version's minor. */
export function kubernetesMinor(minorOrVersion: number | string): KubernetesMinor {
  const minor = typeof minorOrVersion === 'number' ? minorOrVersion : minorOf(minorOrVersion);
  const found = KUBERNETES_MINORS.find((m) => m.minor === minor);
  if (!found) throw new Error(`Kubernetes 1.${minor} is not one kubesmith compiles (1.${SUPPORTED_MINORS[0]} to 1.${SUPPORTED_MINORS[SUPPORTED_MINORS.length - 1]})`);
  return found;
}

/** Whether upstream still patches the minor on `day` (YYYY-MM-DD). */
export function supportedOn(m: KubernetesMinor, day: string): boolean {
  return day <= m.endOfLife;
}

/** What an operator should know about the version a definition targets, said with the plan (never an error). */
export function versionNotes(version: string, hasChecksum: boolean, day: string): string[] {
  const m = kubernetesMinor(version);
  const notes: string[] = [];
  if (!supportedOn(m, day)) {
    const newest = KUBERNETES_MINORS[KUBERNETES_MINORS.length - 1];
    notes.push(`Kubernetes 1.${m.minor} reached its end of life on ${m.endOfLife} and gets no more fixes; upgrade one minor at a time towards ${newest.newest}`);
  }
  if (!hasChecksum) {
    notes.push(`kubesmith ships no checksum of Kubernetes ${version}'s server archive; dist/fetch-binaries.sh needs binaries.kubernetes.checksum ('sha512:<hex>' from CHANGELOG-1.${m.minor}.md, "Downloads for v${version}")`);
  }
  return notes;
}
