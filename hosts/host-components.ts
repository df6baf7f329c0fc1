import { Cluster } from '../lib/components';
import { AdminKubeconfig } from './admin-kubeconfig';
import { CertCheck } from './cert-check';
import { Certificates } from './certificates';
import { Containerd } from './containerd';
import { Etcd } from './etcd';
import { EtcdSnapshot } from './etcd-snapshot';
import { Flannel } from './flannel';
import { InstallScript } from './install-script';
import { Keepalived } from './keepalived';
import { KubeApiserver } from './kube-apiserver';
import { KubeControllerManager } from './kube-controller-manager';
import { KubeProxy } from './kube-proxy';
import { KubeScheduler } from './kube-scheduler';
import { Kubelet } from './kubelet';
import { KubeletBootstrapCleanup } from './kubelet-bootstrap-cleanup';
import { Nginx } from './nginx';
import { NodePrerequisites } from './prerequisites';

/**
 * Adds every host-side component to the cluster's bundles. Construct ids are a public contract.
 */
export function addHostComponents(cluster: Cluster): void {
  new Certificates(cluster, 'certificates');
  new Etcd(cluster, 'etcd');
  new EtcdSnapshot(cluster, 'etcd-snapshot');
  new NodePrerequisites(cluster, 'prerequisites');
  new Containerd(cluster, 'containerd');
  new Flannel(cluster, 'flannel');
  new KubeApiserver(cluster, 'kube-apiserver');
  new KubeControllerManager(cluster, 'kube-controller-manager');
  new KubeScheduler(cluster, 'kube-scheduler');
  new AdminKubeconfig(cluster, 'admin-kubeconfig');
  new Kubelet(cluster, 'kubelet');
  new KubeletBootstrapCleanup(cluster, 'kubelet-bootstrap-cleanup');
  new KubeProxy(cluster, 'kube-proxy');
  new Nginx(cluster, 'nginx');
  new Keepalived(cluster, 'keepalived');
  // After the certificates: it lists the ones its host's bundle holds.
  new CertCheck(cluster, 'cert-check');
  // Reads the bundles' services when the archives are written, so its place here does not matter.
  new InstallScript(cluster, 'install-script');
}
