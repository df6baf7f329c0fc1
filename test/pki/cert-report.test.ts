import * as path from 'path';
import {
  ClusterModel, ClusterPki, certificateReport, formatEvent, formatReport,
} from '../../lib';
import { CertificateNameError, caIds, certInstances, renewalOutlook } from '../../lib/pki';
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

test('renew --rekey gives a new key, to the certificates that share it too, and nothing else changes', async () => {
  const stateDir = path.join(tempDir(), 'state');
  const before = await ClusterPki.load(model, { stateDir });
  const after = await ClusterPki.load(model, { stateDir, renew: ['apiserver', 'etcd-server@k8s2'], rekey: true });
  expect(after.events.map(formatEvent).sort()).toEqual([
    // They present the apiserver's key (sharesKeyWith), so they move with it.
    're-issued apiserver-etcd-client: apiserver gets a new key',
    're-issued apiserver-kubelet-client: apiserver gets a new key',
    're-issued apiserver: renewal with a new key requested',
    're-issued etcd-peer@k8s2: etcd-server@k8s2 gets a new key',
    're-issued etcd-server@k8s2: renewal with a new key requested',
    're-issued front-proxy-client: apiserver gets a new key',
  ]);
  const moved = [['apiserver'], ['apiserver-etcd-client'], ['apiserver-kubelet-client'], ['front-proxy-client'], ['etcd-server', 'k8s2'], ['etcd-peer', 'k8s2']] as const;
  for (const [id, host] of moved) expect(after.cert(id, host).keyPem).not.toBe(before.cert(id, host).keyPem);
  expect(after.cert('front-proxy-client').keyPem).toBe(after.cert('apiserver').keyPem);
  expect(after.cert('etcd-peer', 'k8s2').keyPem).toBe(after.cert('etcd-server', 'k8s2').keyPem);
  expect(after.cert('etcd-server', 'k8s1').keyPem).toBe(before.cert('etcd-server', 'k8s1').keyPem);
  for (const id of caIds(model)) expect(after.ca(id).certPem).toBe(before.ca(id).certPem);
  // A later synth keeps the new keys: nothing is pending.
  expect((await ClusterPki.load(model, { stateDir })).events).toEqual([]);
});

test('renew --rekey of a certificate without a key of its own names the one that holds it', async () => {
  const stateDir = path.join(tempDir(), 'state');
  await ClusterPki.load(model, { stateDir });
  await expect(ClusterPki.load(model, { stateDir, renew: ['front-proxy-client'], rekey: true }))
    .rejects.toThrow(/"front-proxy-client" has no key of its own \(it uses apiserver's\): rekey apiserver/);
});

test('certificates are back-dated 5 minutes, as kubeadm does, and last their validity from the time of issue', async () => {
  const stateDir = path.join(tempDir(), 'state');
  const now = new Date('2026-12-07T12:00:00Z');
  const pki = await ClusterPki.load(model, { stateDir, now });
  for (const cert of [pki.ca('kubernetes-ca').certificate, pki.cert('apiserver').certificate]) {
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-12-07T11:55:00.000Z');
  }
  expect(new Date(pki.cert('apiserver').certificate.validTo).toISOString()).toBe('2027-12-07T12:00:00.000Z');
  // The five minutes do not count as a change of validity: a later synth keeps them.
  expect((await ClusterPki.load(model, { stateDir, now })).events).toEqual([]);
});

test('the plan names the next renewal and when the first CA starts to warn; a CA warns a year ahead', async () => {
  const stateDir = path.join(tempDir(), 'state');
  const now = new Date('2026-12-07T12:00:00Z');
  const pki = await ClusterPki.load(model, { stateDir, now });
  expect(renewalOutlook(pki)).toBe(`certificates: the next renewal is due from 2027-11-07, when a synth re-issues the ${certInstances(model).length} `
    + 'certificate(s) that end on 2027-12-07; etcd-ca is the first CA to end, on 2036-12-04; it warns from 2035-12-05, as its rotation takes three roll-outs');
  // 360 days before its end a CA is reported expiring; a leaf at that distance would not be.
  const late = certificateReport(model, stateDir, new Date(Date.parse('2036-12-04T12:00:00Z') - 360 * 86_400_000));
  expect(late.find((r) => r.name === 'kubernetes-ca')).toMatchObject({ status: 'expiring', daysLeft: 360 });
});
