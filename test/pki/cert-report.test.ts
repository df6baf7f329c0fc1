import * as path from 'path';
import {
  ClusterModel, ClusterPki, certificateReport, formatEvent, formatReport,
} from '../../lib';
import { CertificateNameError, caIds, certInstances } from '../../lib/pki';
import { SEED, withChanges } from '../support/clusters';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const def = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
const model = ClusterModel.fromDefinition(def);

test('before the first synth every certificate is reported missing', () => {
  const rows = certificateReport(model, path.join(tempDir(), 'none'));
  expect(rows).toHaveLength(caIds(model).length + certInstances(model).length);
  expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['missing']));
});

test('lists every certificate with subject, SANs, signer and days left; warns under 30 days', async () => {
  const stateDir = path.join(tempDir(), 'state');
  await ClusterPki.load(model, { stateDir });
  const now = new Date();
  const rows = certificateReport(model, stateDir, now);
  const apiserver = rows.find((r) => r.name === 'apiserver')!;
  expect(apiserver).toMatchObject({ signer: 'kubernetes-ca', status: 'ok', daysLeft: 364 });
  expect(apiserver.sans).toEqual(expect.arrayContaining(['kubernetes.default.svc.cluster.local', '192.168.100.50', '10.0.0.1']));
  expect(rows.find((r) => r.name === 'etcd-server@k8s3')).toMatchObject({ signer: 'etcd-ca', subject: 'C=CN, ST=Beijing, L=Beijing, CN=k8s3' });

  const later = new Date(now.getTime() + 350 * 86_400_000);
  const lateRows = certificateReport(model, stateDir, later);
  expect(lateRows.find((r) => r.name === 'admin')).toMatchObject({ status: 'expiring', daysLeft: 14 });
  expect(lateRows.find((r) => r.name === 'kubernetes-ca')!.status).toBe('ok');
  expect(certificateReport(model, stateDir, new Date(now.getTime() + 400 * 86_400_000)).find((r) => r.name === 'admin')!.status).toBe('expired');
  expect(formatReport(lateRows)).toMatch(/^admin\s.*\s14\s+EXPIRING$/m);
});

test('renewing a leaf re-issues only that certificate, keeps its key and leaves the CAs alone', async () => {
  const stateDir = path.join(tempDir(), 'state');
  const before = await ClusterPki.load(model, { stateDir });
  const after = await ClusterPki.load(model, { stateDir, renew: ['etcd-server@k8s2'] });
  expect(after.events.map(formatEvent)).toEqual(['re-issued etcd-server@k8s2: renewal requested']);
  expect(after.cert('etcd-server', 'k8s2').keyPem).toBe(before.cert('etcd-server', 'k8s2').keyPem);
  expect(after.cert('etcd-server', 'k8s2').certificate.serialNumber).not.toBe(before.cert('etcd-server', 'k8s2').certificate.serialNumber);
  for (const id of caIds(model)) expect(after.ca(id).certPem).toBe(before.ca(id).certPem);
});

test('renewing a CA or an unknown name is refused as what it is, never as a damaged state', async () => {
  const stateDir = path.join(tempDir(), 'state');
  await ClusterPki.load(model, { stateDir });
  await expect(ClusterPki.load(model, { stateDir, renew: ['kubernetes-ca'] })).rejects.toThrow(/"kubernetes-ca" is a CA, which kubesmith does not renew/);
  const typo = await ClusterPki.load(model, { stateDir, renew: ['apiserver', 'apiservr'] }).catch((e: Error) => e);
  expect(typo).toBeInstanceOf(CertificateNameError);
  expect((typo as Error).message).toMatch(/^"apiservr" is not a certificate of cluster \S+ \(a typo\?\); did you mean "apiserver"\?\nthe certificates that can be renewed: .*\bapiserver\b.*; nothing was changed$/);
  expect((typo as Error).message).not.toMatch(/unusable|backup|Restore/);
  // Checked before the state is read: a wrong name on a damaged or missing state is still called a typo.
  await expect(ClusterPki.load(model, { stateDir: path.join(tempDir(), 'nothing-here'), renew: ['apiservr'] })).rejects.toThrow(CertificateNameError);
});
