import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ADMIN_KUBECONFIG } from '../../hosts';
import { summarize } from '../../lib/pki';
import { LARGE, SEED } from '../support/clusters';
import { decodeBase64, ecdsa, masked, mustFileText, parseKubeconfig, snapshotFiles, synth, Synthesized } from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Synthesized;
  let operatorFile: string;
  beforeAll(async () => {
    s = await synth(ecdsa(def));
    operatorFile = path.join(s.dir, 'dist', ADMIN_KUBECONFIG.operatorFile);
  });

  test('emitted files', () => {
    expect(snapshotFiles(s.result, [ADMIN_KUBECONFIG.path])).toMatchSnapshot();
    expect(masked(s.result, fs.readFileSync(operatorFile, 'utf8'))).toMatchSnapshot();
  });

  test('masters, and only masters, have admin.kubeconfig for the local apiserver', () => {
    const { model, cluster } = s.result;
    expect(cluster.bundles.filter((b) => b.hasFile(ADMIN_KUBECONFIG.path)).map((b) => b.host.name)).toEqual(model.masters.map((h) => h.name));
    const kc = parseKubeconfig(mustFileText(s.result, model.masters[0].name, ADMIN_KUBECONFIG.path));
    expect(kc.clusters[0].cluster.server).toBe(`https://127.0.0.1:${model.apiServerPort}`);
  });

  test('dist/admin.kubeconfig is mode 0600, points at the apiserver endpoint and embeds a system:masters certificate with its key', () => {
    const { model, pki } = s.result;
    expect(fs.statSync(operatorFile).mode & 0o777).toBe(0o600);
    const kc = parseKubeconfig(fs.readFileSync(operatorFile, 'utf8'));
    expect(kc.clusters[0].cluster.server).toBe(model.apiServerEndpoint);
    expect(decodeBase64(kc.clusters[0].cluster['certificate-authority-data']!)).toBe(pki.ca('kubernetes-ca').certPem);
    const user = kc.users[0].user;
    const cert = new crypto.X509Certificate(decodeBase64(user['client-certificate-data']));
    expect(summarize(cert).subject.split(', ')).toContain('O=system:masters');
    const key = crypto.createPrivateKey(decodeBase64(user['client-key-data']));
    expect(crypto.createPublicKey(key).export({ type: 'spki', format: 'der' }))
      .toEqual(cert.publicKey.export({ type: 'spki', format: 'der' }));
    expect(cert.verify(pki.ca('kubernetes-ca').certificate.publicKey)).toBe(true);
  });
});
