import { Cluster } from '../lib/cluster';
import { renderTopology } from '../lib/topology';
import { Certificates } from './certificates';

/**
 * Adds every host-side component to the cluster's bundles. Construct ids are a public contract.
 */
export function addHostComponents(cluster: Cluster): void {
  new Certificates(cluster, 'certificates');
  cluster.addOperatorFile('topology.md', renderTopology(cluster.model), 0o644);
}
