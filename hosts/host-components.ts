import { Cluster } from '../lib/cluster';
import { Certificates } from './certificates';
import { Containerd } from './containerd';
import { Etcd } from './etcd';
import { Flannel } from './flannel';
import { NodePrerequisites } from './prerequisites';

/**
 * Adds every host-side component to the cluster's bundles. Construct ids are a public contract.
 */
export function addHostComponents(cluster: Cluster): void {
  new Certificates(cluster, 'certificates');
  new Etcd(cluster, 'etcd');
  new NodePrerequisites(cluster, 'prerequisites');
  new Containerd(cluster, 'containerd');
  new Flannel(cluster, 'flannel');
}
