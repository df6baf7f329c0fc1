import { Construct } from 'constructs';
import { Cluster } from '../lib/cluster';
import { CA_LIST, KEY_PAIR_LIST, certInstances, receives } from '../lib/pki/cert-list';

/**
 * Puts CA certificates, CA keys, leaf certificates and key pairs into the bundles of the
 * hosts whose roles need them, exactly as the certificate table says.
 */
export class Certificates extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;
    const instances = certInstances(model);
    for (const bundle of cluster.bundles) {
      const host = bundle.host;
      for (const ca of CA_LIST) {
        if (receives(host, ca.certOn)) bundle.addFile(ca.certPath, pki.ca(ca.id).certPem);
        if (receives(host, ca.keyOn)) bundle.addFile(ca.keyPath, pki.ca(ca.id).keyPem);
      }
      for (const instance of instances) {
        const { spec } = instance;
        if (!receives(host, spec.on) || (instance.host && instance.host.name !== host.name)) continue;
        const m = pki.cert(spec.id, instance.scope);
        bundle.addFile(spec.certPath, m.certPem);
        bundle.addFile(spec.keyPath, m.keyPem);
      }
      for (const pair of KEY_PAIR_LIST) {
        if (!receives(host, pair.on)) continue;
        bundle.addFile(pair.privatePath, pki.serviceAccount.privatePem);
        bundle.addFile(pair.publicPath, pki.serviceAccount.publicPem);
      }
    }
  }
}
