import { Cluster } from '../lib/cluster';
import { renderTopology } from '../lib/topology';
import { AdminKubeconfig } from './admin-kubeconfig';
import { Certificates } from './certificates';
import { KubeApiserver } from './kube-apiserver';
import { KubeControllerManager } from './kube-controller-manager';
import { KubeProxy } from './kube-proxy';
import { KubeScheduler } from './kube-scheduler';
import { Kubelet } from './kubelet';

/**
 * Adds every host-side component to the cluster's bundles. Construct ids are a public contract.
 */
export function addHostComponents(cluster: Cluster): void {
  new Certificates(cluster, 'certificates');
  cluster.addOperatorFile('topology.md', renderTopology(cluster.model), 0o644);
  new KubeApiserver(cluster, 'kube-apiserver');
  new KubeControllerManager(cluster, 'kube-controller-manager');
  new KubeScheduler(cluster, 'kube-scheduler');
  new AdminKubeconfig(cluster, 'admin-kubeconfig');
  new Kubelet(cluster, 'kubelet');
  new KubeProxy(cluster, 'kube-proxy');
}
