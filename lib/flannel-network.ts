import { ClusterModel } from './cluster-model';

/** flanneld's --etcd-prefix; it reads its network config from <prefix>/config. */
export const FLANNEL_ETCD_PREFIX = '/coreos.com/network';
export const FLANNEL_NETWORK_CONFIG_KEY = `${FLANNEL_ETCD_PREFIX}/config`;

/** The network config flanneld reads from etcd: the pod network and the backend, as compact JSON. */
export function flannelNetworkConfig(model: ClusterModel): string {
  return JSON.stringify({ Network: model.network.podCidr.text, Backend: { Type: model.network.flannelBackend } });
}
