import { KUBERNETES_MINORS, SUPPORTED_MINORS, minorOf } from '../versions/kubernetes';
import { KUBERNETES_SERVER_CHECKSUMS, ShippedChecksum } from './release-checksums';

/**
 * The upstream release archives the hosts' programs come from: where each is downloaded, which programs it holds
 * (by the name they have on the host; the component table says where they go), how each program states its version,
 * and which versions the definition accepts. dist/fetch-binaries.sh, install.sh's version check and the component
 * table's "where to get it" read this table.
 */

export type ReleaseId = 'kubernetes' | 'etcd' | 'flannel' | 'flannelCni' | 'cniPlugins' | 'containerd' | 'runc';

/** The releases whose version and checksum the definition gives under `binaries` (Kubernetes: kubernetesVersion). */
export const DEFINED_RELEASES = ['etcd', 'flannel', 'flannelCni', 'cniPlugins', 'containerd', 'runc'] as const;
export type DefinedReleaseId = typeof DEFINED_RELEASES[number];

const NEWEST = KUBERNETES_MINORS[KUBERNETES_MINORS.length - 1];

export interface ReleaseProgram {
  /** Its file name on the host. */
  readonly name: string;
  /** Its path inside the archive, exactly as upstream packs it; the archive itself for a plain binary. */
  readonly member: (version: string) => string;
  /** The arguments that make it print its version (none: a CNI plugin prints it when run without CNI_COMMAND). */
  readonly versionArgs: readonly string[];
  /** A bash regular expression over what it prints whose first group is the version, without a leading v. */
  readonly versionPattern: string;
}

export interface Release {
  readonly id: ReleaseId;
  readonly title: string;
  /** The definition field that names its version. */
  readonly field: string;
  /** Versions the definition accepts: a list (those with a shipped checksum) or a pattern. */
  readonly accepts: readonly string[] | RegExp;
  /** What the definition accepts, in words, for the validation message. */
  readonly acceptsText: string;
  readonly example: string;
  /** The archive's file name as upstream publishes it. */
  readonly file: (version: string) => string;
  /** Its upstream download URL. */
  readonly url: (version: string) => string;
  /** Where a user reads its checksum when kubesmith ships none. */
  readonly checksumHelp: (version: string) => string;
  /** A plain binary (runc.amd64) or a gzipped tar. */
  readonly format: 'binary' | 'tar.gz';
  readonly programs: readonly ReleaseProgram[];
  /** Checksums stated by an upstream file, by version (release-checksums.ts cites each). */
  readonly checksums?: Readonly<Record<string, ShippedChecksum>>;
}

const GITHUB = 'https://github.com';
/** GitHub shows each release asset's sha256 on its release page. */
const githubHelp = (repo: string, extra = '') => (v: string) => `the release page ${GITHUB}/${repo}/releases/tag/v${v} (the sha256 shown beside the asset${extra})`;
const VERSION = '([^[:space:]]+)';
const kube = (name: string): ReleaseProgram => ({
  name, member: () => `kubernetes/server/bin/${name}`, versionArgs: ['--version'], versionPattern: `^Kubernetes v${VERSION}`,
});
const cni = (name: string): ReleaseProgram => ({
  name, member: () => `./${name}`, versionArgs: [], versionPattern: `CNI ${name} plugin v${VERSION}`,
});

export const RELEASES: readonly Release[] = [
  {
    id: 'kubernetes',
    title: 'Kubernetes server binaries',
    field: 'kubernetesVersion',
    // A release without a shipped checksum takes binaries.kubernetes.checksum (validation says so).
    accepts: new RegExp(`^1\\.(${SUPPORTED_MINORS.join('|')})\\.(0|[1-9]\\d?)$`),
    acceptsText: `a release of Kubernetes 1.${SUPPORTED_MINORS[0]} to 1.${NEWEST.minor}, written 1.MINOR.PATCH`,
    example: NEWEST.newest,
    file: () => 'kubernetes-server-linux-amd64.tar.gz',
    url: (v) => `https://dl.k8s.io/v${v}/kubernetes-server-linux-amd64.tar.gz`,
    checksumHelp: (v) => `Kubernetes' CHANGELOG-1.${minorOf(v)}.md, "Downloads for v${v}", Server Binaries, the sha512 of kubernetes-server-linux-amd64.tar.gz`,
    format: 'tar.gz',
    programs: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'].map(kube),
    checksums: KUBERNETES_SERVER_CHECKSUMS,
  },
  {
    id: 'etcd',
    title: 'etcd',
    field: 'binaries.etcd.version',
    accepts: /^3\.[567]\.(0|[1-9]\d?)$/,
    acceptsText: 'an etcd 3.5.x, 3.6.x or 3.7.x version',
    example: NEWEST.companions.etcd,
    file: (v) => `etcd-v${v}-linux-amd64.tar.gz`,
    url: (v) => `${GITHUB}/etcd-io/etcd/releases/download/v${v}/etcd-v${v}-linux-amd64.tar.gz`,
    checksumHelp: githubHelp('etcd-io/etcd', ', or its line in the SHA256SUMS asset'),
    format: 'tar.gz',
    programs: [
      { name: 'etcd', member: (v) => `etcd-v${v}-linux-amd64/etcd`, versionArgs: ['--version'], versionPattern: `etcd Version: ${VERSION}` },
      { name: 'etcdctl', member: (v) => `etcd-v${v}-linux-amd64/etcdctl`, versionArgs: ['version'], versionPattern: `etcdctl version: ${VERSION}` },
      { name: 'etcdutl', member: (v) => `etcd-v${v}-linux-amd64/etcdutl`, versionArgs: ['version'], versionPattern: `etcdutl version: ${VERSION}` },
    ],
  },
  {
    id: 'flannel',
    title: 'flannel',
    field: 'binaries.flannel.version',
    accepts: /^0\.22\.(0|[1-9]\d?)$/,
    acceptsText: 'a flannel 0.22.x version',
    example: '0.22.2',
    file: (v) => `flannel-v${v}-linux-amd64.tar.gz`,
    url: (v) => `${GITHUB}/flannel-io/flannel/releases/download/v${v}/flannel-v${v}-linux-amd64.tar.gz`,
    checksumHelp: githubHelp('flannel-io/flannel'),
    format: 'tar.gz',
    programs: [{ name: 'flanneld', member: () => 'flanneld', versionArgs: ['--version'], versionPattern: `^v${VERSION}` }],
  },
  {
    id: 'flannelCni',
    title: 'the flannel CNI plugin',
    field: 'binaries.flannelCni.version',
    accepts: /^1\.(0|[1-9]\d?)\.(0|[1-9]\d?)$/,
    acceptsText: 'a flannel-io/cni-plugin 1.x version',
    example: '1.2.0',
    file: (v) => `cni-plugin-flannel-linux-amd64-v${v}.tgz`,
    url: (v) => `${GITHUB}/flannel-io/cni-plugin/releases/download/v${v}/cni-plugin-flannel-linux-amd64-v${v}.tgz`,
    checksumHelp: githubHelp('flannel-io/cni-plugin', ', or the .sha256 asset next to the archive'),
    format: 'tar.gz',
    // "CNI Plugin flannel version v1.2.0 (linux/amd64) commit ... built on ..." (flannel.go's main).
    programs: [{ name: 'flannel', member: () => 'flannel-amd64', versionArgs: [], versionPattern: `CNI Plugin flannel version v?${VERSION}` }],
  },
  {
    id: 'cniPlugins',
    title: 'CNI plugins',
    field: 'binaries.cniPlugins.version',
    accepts: /^1\.(0|[1-9]\d?)\.(0|[1-9]\d?)$/,
    acceptsText: 'a containernetworking/plugins 1.x version',
    example: '1.3.0',
    file: (v) => `cni-plugins-linux-amd64-v${v}.tgz`,
    url: (v) => `${GITHUB}/containernetworking/plugins/releases/download/v${v}/cni-plugins-linux-amd64-v${v}.tgz`,
    checksumHelp: githubHelp('containernetworking/plugins', ', or the .sha256 asset next to the archive'),
    format: 'tar.gz',
    programs: ['bridge', 'host-local', 'portmap', 'loopback'].map(cni),
  },
  {
    id: 'containerd',
    title: 'containerd',
    field: 'binaries.containerd.version',
    accepts: /^(1\.[67]|2\.[0-9])\.(0|[1-9]\d?)$/,
    acceptsText: 'a containerd 2.x, 1.7.x or 1.6.x version',
    example: NEWEST.companions.containerd,
    file: (v) => `containerd-${v}-linux-amd64.tar.gz`,
    url: (v) => `${GITHUB}/containerd/containerd/releases/download/v${v}/containerd-${v}-linux-amd64.tar.gz`,
    checksumHelp: githubHelp('containerd/containerd', ', or the .sha256sum asset next to the archive'),
    format: 'tar.gz',
    programs: [
      // "containerd github.com/containerd/containerd v1.7.20 <commit>"
      { name: 'containerd', member: () => 'bin/containerd', versionArgs: ['--version'], versionPattern: `^containerd [^[:space:]]+ v?${VERSION}` },
      // "containerd-shim-runc-v2:\n  Version:  v1.7.20\n ..."
      { name: 'containerd-shim-runc-v2', member: () => 'bin/containerd-shim-runc-v2', versionArgs: ['-v'], versionPattern: `Version:[[:space:]]+v?${VERSION}` },
    ],
  },
  {
    id: 'runc',
    title: 'runc',
    field: 'binaries.runc.version',
    accepts: /^1\.(0|[1-9]\d?)\.(0|[1-9]\d?)$/,
    acceptsText: 'a runc 1.x version',
    example: '1.1.13',
    file: () => 'runc.amd64',
    url: (v) => `${GITHUB}/opencontainers/runc/releases/download/v${v}/runc.amd64`,
    checksumHelp: githubHelp('opencontainers/runc', ', or its line in the runc.sha256sum asset'),
    format: 'binary',
    programs: [{ name: 'runc', member: () => 'runc.amd64', versionArgs: ['--version'], versionPattern: `^runc version ${VERSION}` }],
  },
];

export function release(id: ReleaseId): Release {
  return RELEASES.find((r) => r.id === id)!;
}

export function acceptsVersion(r: Release, version: unknown): boolean {
  return typeof version === 'string' && (Array.isArray(r.accepts) ? r.accepts.includes(version) : (r.accepts as RegExp).test(version));
}

/** The release that holds the program a host runs under this file name, if one does (nginx and keepalived: the OS). */
export function releaseProviding(name: string): { release: Release; program: ReleaseProgram } | undefined {
  for (const r of RELEASES) {
    const program = r.programs.find((p) => p.name === name);
    if (program) return { release: r, program };
  }
  return undefined;
}

/** A checksum written in the definition: 'sha256:<64 hex>' or 'sha512:<128 hex>'. */
export const CHECKSUM = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/** A mirror base URL: the upstream URL, without its https://, is appended to it. */
export const MIRROR = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%+,=:@-]+)*\/?$/;

/** A release as this cluster fetches it: version, URL (through the mirror), checksum or where to find one. */
export interface ResolvedRelease {
  readonly release: Release;
  readonly version: string;
  readonly file: string;
  readonly upstreamUrl: string;
  readonly url: string;
  readonly checksum?: { readonly algorithm: 'sha256' | 'sha512'; readonly hex: string; readonly source: string };
}

/** The definition field that takes a release's checksum. */
export function checksumField(r: Release): string {
  return `binaries.${r.id}.checksum`;
}

/** The checksum kubesmith ships for a release at a version, if an upstream file states it. */
export function shippedChecksum(r: Release, version: string): ShippedChecksum | undefined {
  return r.checksums?.[version];
}

export function resolveRelease(r: Release, version: string, mirror: string | undefined, userChecksum: string | undefined): ResolvedRelease {
  const upstreamUrl = r.url(version);
  const shipped = r.checksums?.[version];
  const [algorithm, hex] = (userChecksum ?? '').split(':') as ['sha256' | 'sha512', string];
  return {
    release: r,
    version,
    file: r.file(version),
    upstreamUrl,
    url: mirror ? `${mirror.replace(/\/$/, '')}/${upstreamUrl.replace(/^https:\/\//, '')}` : upstreamUrl,
    ...(shipped ? { checksum: shipped }
      : userChecksum ? { checksum: { algorithm, hex, source: `${checksumField(r)} in the cluster definition` } } : {}),
  };
}
