// The upstream versions the cluster suite boots: the seed's (main.ts) resolved releases and images, one fact each,
// read from lib/versions through the model. scripts/build-components.sh reads them as KEY=value lines
// (`node --require ./lib/typescript-loader.js scripts/component-versions.ts`); test/support/components.ts imports them.
import { cluster } from '../main';
import { ClusterModel } from '../lib/model/cluster-model';

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

export function seedComponentVersions(): ComponentVersions {
  const model = ClusterModel.fromDefinition(cluster);
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

if (require.main === module) {
  for (const [k, v] of Object.entries(seedComponentVersions())) process.stdout.write(`${k}=${v}\n`);
}
