// The upstream versions the cluster suite boots: the seed's (main.ts) resolved releases and images, and the releases
// its upgrade stage starts from (the previous minor's newest release and the patch before it), one fact each, read
// from lib/versions through the model. scripts/build-components.sh reads them as KEY=value lines
// (`node --require ./lib/typescript-loader.js scripts/component-versions.ts`); test/support/components.ts imports them.
import { cluster } from '../main';
import { ClusterModel } from '../lib/model/cluster-model';
import { ClusterDefinition } from '../lib/model/definition';
import { KUBERNETES_MINORS, kubernetesMinor } from '../lib/versions/kubernetes';

export interface ComponentVersions {
  readonly KUBERNETES_VERSION: string;
  readonly ETCD_VERSION: string;
  readonly CONTAINERD_VERSION: string;
  readonly CNI_VERSION: string;
  readonly FLANNEL_VERSION: string;
  readonly COREDNS_VERSION: string;
  readonly PAUSE_IMAGE: string;
  readonly COREDNS_IMAGE: string;
}

/** The versions a definition resolves to. */
export function componentVersionsOf(def: ClusterDefinition): ComponentVersions {
  const model = ClusterModel.fromDefinition(def);
  const v = (id: Parameters<ClusterModel['releaseOf']>[0]) => `v${model.releaseOf(id).version}`;
  return {
    KUBERNETES_VERSION: v('kubernetes'),
    ETCD_VERSION: v('etcd'),
    CONTAINERD_VERSION: v('containerd'),
    CNI_VERSION: v('cniPlugins'),
    FLANNEL_VERSION: v('flannel'),
    COREDNS_VERSION: model.kubernetes.kubeadm.coreDns,
    PAUSE_IMAGE: model.kubernetes.images.pause,
    COREDNS_IMAGE: model.kubernetes.images.coreDns,
  };
}

export function seedComponentVersions(): ComponentVersions {
  return componentVersionsOf(cluster);
}

/**
 * The chain walk (scripts/upgrade-chain.sh, outside CI) sets KUBESMITH_UPGRADE_CHAIN to the first minor it boots, e.g.
 * 1.27: the suite then boots that minor's newest release and walks every minor's newest up to the seed's.
 */
export const UPGRADE_CHAIN_ENV = 'KUBESMITH_UPGRADE_CHAIN';

/** The first minor of the chain walk, when the environment asks for one; an error names the variable and its domain. */
export function upgradeChainFrom(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[UPGRADE_CHAIN_ENV];
  if (raw === undefined || raw === '') return undefined;
  const seedMinor = kubernetesMinor(cluster.kubernetesVersion).minor;
  const m = /^1\.(\d+)$/.exec(raw);
  const first = KUBERNETES_MINORS[0].minor;
  if (!m || Number(m[1]) < first || Number(m[1]) >= seedMinor) {
    throw new Error(`${UPGRADE_CHAIN_ENV}="${raw}" is not a minor the chain can start from; expected 1.${first} to 1.${seedMinor - 1} (the seed runs 1.${seedMinor})`);
  }
  return Number(m[1]);
}

/**
 * The Kubernetes releases the cluster suite's upgrade stage goes through before the seed's. By default the previous
 * minor's newest release less one patch (booted), then its newest (a patch upgrade), then the seed's (a minor
 * upgrade). For the chain walk: the newest release of each minor from the chain's first.
 */
export function upgradePath(env: NodeJS.ProcessEnv = process.env): string[] {
  const seedMinor = kubernetesMinor(cluster.kubernetesVersion).minor;
  const chainFrom = upgradeChainFrom(env);
  if (chainFrom !== undefined) {
    return Array.from({ length: seedMinor - chainFrom }, (_, i) => kubernetesMinor(chainFrom + i).newest);
  }
  const previous = kubernetesMinor(seedMinor - 1).newest;
  const [, m, p] = previous.split('.').map(Number);
  return [`1.${m}.${p - 1}`, previous];
}

/** The versions of each release of the upgrade path, as the seed's definition at that Kubernetes version. */
export function upgradePathVersions(env: NodeJS.ProcessEnv = process.env): ComponentVersions[] {
  return upgradePath(env).map((k) => componentVersionsOf({ ...cluster, kubernetesVersion: k }));
}

if (require.main === module) {
  for (const [k, v] of Object.entries(seedComponentVersions())) process.stdout.write(`${k}=${v}\n`);
  // The upgrade path's releases, space-separated, for the builds.
  const path = upgradePathVersions();
  const list = (k: keyof ComponentVersions) => [...new Set(path.map((x) => x[k]))].join(' ');
  process.stdout.write(`UPGRADE_KUBERNETES_VERSIONS=${list('KUBERNETES_VERSION')}\n`);
  process.stdout.write(`UPGRADE_ETCD_VERSIONS=${list('ETCD_VERSION')}\n`);
  process.stdout.write(`UPGRADE_COREDNS_VERSIONS=${list('COREDNS_VERSION')}\n`);
  process.stdout.write(`UPGRADE_CONTAINERD_VERSIONS=${list('CONTAINERD_VERSION')}\n`);
  process.stdout.write(`UPGRADE_CNI_VERSIONS=${list('CNI_VERSION')}\n`);
  process.stdout.write(`UPGRADE_FLANNEL_VERSIONS=${list('FLANNEL_VERSION')}\n`);
}
