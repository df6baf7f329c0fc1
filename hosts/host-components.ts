import { Cluster } from '../lib/cluster';
import { Certificates } from './certificates';

/**
 * Adds every host-side component to the cluster's bundles. Construct ids are a public contract.
 */
export function addHostComponents(cluster: Cluster): void {
  new Certificates(cluster, 'certificates');
}
