import { Cluster } from '../lib/cluster';
import { Certificates } from './certificates';
import { InstallScript } from './install-script';
import { Keepalived } from './keepalived';
import { Nginx } from './nginx';

/**
 * Adds every host-side component to the cluster's bundles. Construct ids are a public contract.
 */
export function addHostComponents(cluster: Cluster): void {
  new Certificates(cluster, 'certificates');
  new Nginx(cluster, 'nginx');
  new Keepalived(cluster, 'keepalived');
  // Reads the bundles' services when the archives are written, so its place here does not matter.
  new InstallScript(cluster, 'install-script');
}
