// The upstream versions the cluster suite boots: the seed's (main.ts) resolved releases and images, and the releases
// its upgrade stage starts from (the previous minor's newest release and the patch before it), one fact each, read
// from lib/versions through the model. scripts/build-components.sh reads them as KEY=value lines
// (`node --require ./lib/typescript-loader.js scripts/component-versions.ts`); test/support/components.ts imports them.
import { cluster } from '../main';
import { ClusterModel } from '../lib/model/cluster-model';
import { ClusterDefinition } from '../lib/model/definition';
import { kubernetesMinor } from '../lib/versions/kubernetes';

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
 * The Kubernetes releases the cluster suite's upgrade stage goes through before the seed's: the previous minor's
 * newest release less one patch (booted), then its newest (a patch upgrade), then the seed's (a minor upgrade).
 */
export function upgradePath(): string[] {
  const seed = seedComponentVersions().KUBERNETES_VERSION.slice(1);
  const previous = kubernetesMinor(kubernetesMinor(seed).minor - 1).newest;
  const [, m, p] = previous.split('.').map(Number);
  return [`1.${m}.${p - 1}`, previous];
}

/** The versions of each release of the upgrade path, as the seed's definition at that Kubernetes version. */
export function upgradePathVersions(): ComponentVersions[] {
  return upgradePath().map((k) => componentVersionsOf({ ...cluster, kubernetesVersion: k }));
}

if (require.main === module) {
  for (const [k, v] of Object.entries(seedComponentVersions())) process.stdout.write(`${k}=${v}\n`);
  // The upgrade path's releases, space-separated, for the builds (the same containerd, CNI plugins and flannel as
  // the seed's: build-components.sh builds one of each, and says so if that changes).
  const path = upgradePathVersions();
  const list = (k: keyof ComponentVersions) => [...new Set(path.map((x) => x[k]))].join(' ');
  process.stdout.write(`UPGRADE_KUBERNETES_VERSIONS=${list('KUBERNETES_VERSION')}\n`);
  process.stdout.write(`UPGRADE_ETCD_VERSIONS=${list('ETCD_VERSION')}\n`);
  process.stdout.write(`UPGRADE_COREDNS_VERSIONS=${list('COREDNS_VERSION')}\n`);
  process.stdout.write(`UPGRADE_OTHER_VERSIONS=${list('CONTAINERD_VERSION')} ${list('CNI_VERSION')} ${list('FLANNEL_VERSION')}\n`);
}
