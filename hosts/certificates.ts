import { Construct } from 'constructs';
import { Cluster } from '../lib/components';

/**
 * Puts CA certificates, CA keys, leaf certificates and key pairs into the bundles of the
 * hosts whose roles need them, exactly as the certificate table says.
 */
export class Certificates extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { pki, bundles } = Cluster.of(this);
    for (const bundle of bundles) {
      for (const f of pki.hostFiles(bundle.host)) bundle.addFile(f.path, f.pem);
    }
  }
}
