import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  ClusterModel, ClusterPki, PkiStateError, formatEvent, synthesizeCluster,
} from '../../lib';
import {
  CaId, CertId, PKI_TABLE, StateStore, caIds, certInstances, loadSecrets, summarize,
} from '../../lib/pki';
import { CERT_RENEW_WITHIN_DAYS } from '../../lib/model';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const ecdsaSeed = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function writeTemp(dir: string, name: string, data: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

describe.each([['RSA', SEED], ['ECDSA', ecdsaSeed]])('%s PKI checked with the openssl CLI', (_alg, def) => {
  let pki: ClusterPki;
  let model: ClusterModel;
  let work: string;
  beforeAll(async () => {
    model = ClusterModel.fromDefinition(def);
    work = tempDir();
    pki = await ClusterPki.load(model, { stateDir: path.join(work, 'state') });
  });

  test('every certificate verifies against its CA and matches its key', () => {
    for (const instance of certInstances(model)) {
      const m = pki.cert(instance.id, instance.scope);
      const caFile = writeTemp(work, `${instance.spec.signer}.pem`, pki.ca(instance.spec.signer).certPem);
      const certFile = writeTemp(work, 'leaf.pem', m.certPem);
      expect(openssl(['verify', '-CAfile', caFile, certFile]).trim()).toBe(`${certFile}: OK`);
      const fromCert = openssl(['x509', '-in', certFile, '-noout', '-pubkey']);
      const fromKey = openssl(['pkey', '-pubout'], m.keyPem);
      expect(fromKey).toBe(fromCert);
    }
  });

  test('a certificate does not verify against another CA', () => {
    const certFile = writeTemp(work, 'etcd-client.pem', pki.cert('apiserver-etcd-client').certPem);
    const wrongCa = writeTemp(work, 'k8s-ca.pem', pki.ca('kubernetes-ca').certPem);
    expect(() => openssl(['verify', '-CAfile', wrongCa, certFile])).toThrow();
  });

  test('apiserver certificate covers every master, the VIP and the kubernetes Service', () => {
    const certFile = writeTemp(work, 'apiserver.pem', pki.cert('apiserver').certPem);
    for (const ip of ['192.168.100.10', '192.168.100.20', '192.168.100.50', '10.0.0.1', '127.0.0.1']) {
      expect(openssl(['x509', '-in', certFile, '-noout', '-checkip', ip])).toContain('does match');
    }
    for (const name of ['k8s1', 'k8s2', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']) {
      expect(openssl(['x509', '-in', certFile, '-noout', '-checkhost', name])).toContain('does match');
    }
    expect(openssl(['x509', '-in', certFile, '-noout', '-checkip', '192.168.100.30'])).toContain('does NOT match');
    expect(openssl(['x509', '-in', certFile, '-noout', '-ext', 'extendedKeyUsage'])).toMatch(/TLS Web Server Authentication\s*$/);
  });

  test('etcd member certificates carry their own name and address, loopback, and both usages', () => {
    for (const member of model.etcdMembers) {
      for (const id of ['etcd-server', 'etcd-peer'] as const) {
        const certFile = writeTemp(work, `${id}.pem`, pki.cert(id, member.name).certPem);
        expect(openssl(['x509', '-in', certFile, '-noout', '-checkip', member.ip])).toContain('does match');
        expect(openssl(['x509', '-in', certFile, '-noout', '-checkip', '127.0.0.1'])).toContain('does match');
        expect(openssl(['x509', '-in', certFile, '-noout', '-checkhost', 'localhost'])).toContain('does match');
        expect(openssl(['x509', '-in', certFile, '-noout', '-ext', 'extendedKeyUsage']))
          .toContain('TLS Web Server Authentication, TLS Web Client Authentication');
      }
    }
  });

  test('subjects follow the table: CN, O and the definition subject', () => {
    const admin = summarize(pki.cert('admin').certificate);
    expect(admin.subject).toBe('C=CN, ST=Beijing, L=Beijing, O=system:masters, CN=admin');
    expect(summarize(pki.cert('kube-controller-manager').certificate).subject).toContain('CN=system:kube-controller-manager');
    expect(summarize(pki.cert('kube-scheduler').certificate).subject).toContain('CN=system:kube-scheduler');
    expect(summarize(pki.cert('kube-proxy').certificate).subject).toContain('CN=system:kube-proxy');
    expect(summarize(pki.ca('etcd-ca').certificate).subject).toBe('C=CN, ST=Beijing, L=Beijing, CN=etcd CA');
    expect(summarize(pki.cert('front-proxy-client').certificate).issuer).toContain('CN=front-proxy-ca');
  });

  test('CAs are CAs and leaves are not', () => {
    for (const id of caIds(model)) {
      const file = writeTemp(work, 'ca.pem', pki.ca(id).certPem);
      expect(openssl(['x509', '-in', file, '-noout', '-ext', 'basicConstraints'])).toContain('CA:TRUE');
    }
    const leaf = writeTemp(work, 'leaf.pem', pki.cert('admin').certPem);
    expect(openssl(['x509', '-in', leaf, '-noout', '-ext', 'basicConstraints'])).toContain('CA:FALSE');
  });
});

describe('state', () => {
  test('state directory is 0700 and every file 0600', async () => {
    const stateDir = path.join(tempDir(), 'state');
    await ClusterPki.load(ClusterModel.fromDefinition(ecdsaSeed), { stateDir });
    for (const p of [stateDir, ...walk(stateDir)]) {
      const mode = fs.statSync(p).mode & 0o777;
      expect([p, mode.toString(8)]).toEqual([p, fs.statSync(p).isDirectory() ? '700' : '600']);
    }
    expect(walk(stateDir).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  test('a second load reuses everything and generates nothing', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const model = ClusterModel.fromDefinition(ecdsaSeed);
    const first = await ClusterPki.load(model, { stateDir });
    expect(first.events.length).toBeGreaterThan(0);
    const progress: string[] = [];
    const second = await ClusterPki.load(model, { stateDir, onProgress: (m) => progress.push(m) });
    expect(second.events).toEqual([]);
    expect(progress).toEqual([]);
    for (const { name } of first.list()) {
      const [id, host] = name.split('@');
      const pemOf = (p: ClusterPki) => (caIds(model).includes(id as CaId) ? p.ca(id as CaId).certPem : p.cert(id as CertId, host).certPem);
      expect(pemOf(second)).toBe(pemOf(first));
    }
    expect(second.serviceAccount.privatePem).toBe(first.serviceAccount.privatePem);
  });

  test('adding a master re-issues the apiserver certificate with its key, and nothing else', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const before = await ClusterPki.load(ClusterModel.fromDefinition(ecdsaSeed), { stateDir });
    const grown = withChanges(ecdsaSeed, {
      hosts: [...ecdsaSeed.hosts, { name: 'k8s5', ip: '192.168.100.60', interface: 'ens33', roles: ['master'] }],
    });
    const after = await ClusterPki.load(ClusterModel.fromDefinition(grown), { stateDir });
    expect(after.events.map(formatEvent)).toEqual(['re-issued apiserver: SANs changed: +k8s5 +192.168.100.60']);
    expect(after.cert('apiserver').keyPem).toBe(before.cert('apiserver').keyPem);
    expect(after.cert('apiserver').certPem).not.toBe(before.cert('apiserver').certPem);
    expect(after.cert('admin').certPem).toBe(before.cert('admin').certPem);
  });

  test('adding a node issues nothing', async () => {
    const stateDir = path.join(tempDir(), 'state');
    await ClusterPki.load(ClusterModel.fromDefinition(ecdsaSeed), { stateDir });
    const grown = withChanges(ecdsaSeed, {
      hosts: [...ecdsaSeed.hosts, { name: 'k8s5', ip: '192.168.100.60', interface: 'ens33', roles: ['node'] }],
    });
    expect((await ClusterPki.load(ClusterModel.fromDefinition(grown), { stateDir })).events).toEqual([]);
  });

  test('a validity change re-issues every leaf but no CA', async () => {
    const stateDir = path.join(tempDir(), 'state');
    await ClusterPki.load(ClusterModel.fromDefinition(ecdsaSeed), { stateDir });
    const changed = withChanges(ecdsaSeed, { certificates: { ...ecdsaSeed.certificates, validityDays: 200 } });
    const after = await ClusterPki.load(ClusterModel.fromDefinition(changed), { stateDir });
    const model = ClusterModel.fromDefinition(changed);
    expect(after.events.map((e) => e.name).sort()).toEqual(certInstances(model).map((i) => i.name).sort());
    expect(new Set(after.events.map((e) => formatEvent(e).split(': ').slice(1).join(': ')))).toEqual(new Set(['validity changed: 365 → 200 days']));
  });

  test('a certificate close to expiry is renewed', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const model = ClusterModel.fromDefinition(ecdsaSeed);
    await ClusterPki.load(model, { stateDir });
    const later = new Date(Date.now() + 340 * 86_400_000);
    const after = await ClusterPki.load(model, { stateDir, now: later });
    expect(after.events.length).toBe(certInstances(model).length);
    expect(formatEvent(after.events[0])).toMatch(/: expires in 2[45] days$/);
  });

  test('the shortest validity validation accepts is stable across synths; the longest it refuses is re-issued by the next one', async () => {
    const load = async (validityDays: number) => {
      const stateDir = path.join(tempDir(), 'state');
      const accepted = ClusterModel.fromDefinition(withChanges(ecdsaSeed, { certificates: { ...ecdsaSeed.certificates, validityDays: CERT_RENEW_WITHIN_DAYS + 1 } }));
      // validityDays below the window cannot come through validation: set it on a built model.
      const model = Object.assign(Object.create(Object.getPrototypeOf(accepted)), accepted, { certificates: { ...accepted.certificates, validityDays } });
      await ClusterPki.load(model, { stateDir });
      return (await ClusterPki.load(model, { stateDir, now: new Date(Date.now() + 60_000) })).events;
    };
    expect(await load(CERT_RENEW_WITHIN_DAYS + 1)).toEqual([]);
    const again = await load(CERT_RENEW_WITHIN_DAYS);
    expect(again.length).toBe(certInstances(ClusterModel.fromDefinition(ecdsaSeed)).length);
    expect(formatEvent(again[0])).toMatch(/: expires in 29 days$/);
  });

  test('the etcd peer certificate uses the member serving key, and follows it when that key changes', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const a = await ClusterPki.load(ClusterModel.fromDefinition(ecdsaSeed), { stateDir });
    for (const m of ['k8s1', 'k8s2', 'k8s3']) {
      expect(a.cert('etcd-peer', m).keyPem).toBe(a.cert('etcd-server', m).keyPem);
      expect(a.cert('etcd-peer', m).certificate.checkPrivateKey(crypto.createPrivateKey(a.cert('etcd-server', m).keyPem))).toBe(true);
    }
    expect(fs.existsSync(path.join(stateDir, 'certs/etcd-peer@k8s1.key'))).toBe(false);
    // Back to RSA: every leaf gets a new key; the peer certificates follow their serving key.
    const b = await ClusterPki.load(ClusterModel.fromDefinition(SEED), { stateDir });
    expect(formatEvent(b.events.find((e) => e.name === 'etcd-peer@k8s2')!)).toBe('re-issued etcd-peer@k8s2: etcd-server@k8s2 gets a new key');
    expect(b.cert('etcd-peer', 'k8s2').keyPem).toBe(b.cert('etcd-server', 'k8s2').keyPem);
    expect((await ClusterPki.load(ClusterModel.fromDefinition(SEED), { stateDir })).events).toEqual([]);
  });

  test('secrets: bootstrap token and keepalived password have the right form and persist', async () => {
    const dir = tempDir();
    await synthesizeCluster(ecdsaSeed, { stateDir: path.join(dir, 'state'), outdir: path.join(dir, 'dist'), log: () => undefined });
    const opts = { fresh: false, now: new Date(), tokenTtlHours: 24 };
    const a = loadSecrets(new StateStore(path.join(dir, 'state')), opts);
    expect(a.generated).toEqual([]);
    expect(a.write).toBeUndefined();
    expect(a.secrets.bootstrapToken.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(a.secrets.bootstrapToken.token).toBe(`${a.secrets.bootstrapToken.id}.${a.secrets.bootstrapToken.secret}`);
    expect(a.secrets.keepalivedAuthPass).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(loadSecrets(new StateStore(path.join(dir, 'state')), opts).secrets).toEqual(a.secrets);
  });

  test('a subject in any language, with characters names escape, is stored as UTF8String and re-issues nothing on the next load', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const def = withChanges(ecdsaSeed, { certificates: { ...ecdsaSeed.certificates, subject: { country: 'CN', state: '北京市', locality: '海淀, "中关村" + A=B' } } });
    const model = ClusterModel.fromDefinition(def);
    const first = await ClusterPki.load(model, { stateDir });
    const file = writeTemp(tempDir(), 'admin.pem', first.cert('admin').certPem);
    expect(openssl(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus,show_type']))
      .toContain('ST=UTF8STRING:北京市');
    expect(summarize(first.cert('admin').certificate).subject).toContain('L=海淀');
    expect((await ClusterPki.load(model, { stateDir })).events).toEqual([]);
  });

  test('app Ingress certificates come from a CA of their own that no host trusts; a state made before it gets it, and re-issues them', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const model = ClusterModel.fromDefinition(ecdsaSeed);
    const pki = await ClusterPki.load(model, { stateDir });
    const tls = pki.cert('ingress-tls', 'java-demo').certificate;
    expect(tls.verify(pki.ca('ingress-ca').certificate.publicKey)).toBe(true);
    expect(tls.verify(pki.ca('kubernetes-ca').certificate.publicKey)).toBe(false);
    expect(PKI_TABLE.find((r) => r.id === 'ingress-ca')).toMatchObject({ certOn: [], keyOn: [] });
    // A state from before the ingress CA: it is created (the only CA that may be), and the app certificate moves to it.
    fs.rmSync(path.join(stateDir, 'ca/ingress-ca.crt'));
    fs.rmSync(path.join(stateDir, 'ca/ingress-ca.key'));
    const after = await ClusterPki.load(model, { stateDir });
    expect(after.events.map(formatEvent)).toEqual([
      'created ingress-ca: new since this state was made: app Ingress certificates get a CA of their own (they were signed by the cluster CA)',
      're-issued ingress-tls@java-demo: not signed by the current ingress-ca',
    ]);
    // Any other missing CA is still an error.
    fs.rmSync(path.join(stateDir, 'ca/front-proxy-ca.crt'));
    fs.rmSync(path.join(stateDir, 'ca/front-proxy-ca.key'));
    await expect(ClusterPki.load(model, { stateDir })).rejects.toThrow(/front-proxy-ca: CA certificate and key are missing/);
    // A cluster without apps has no ingress CA.
    const noApps = ClusterModel.fromDefinition(withChanges(ecdsaSeed, { apps: [] }));
    expect(caIds(noApps)).not.toContain('ingress-ca');
  });

  test('the large cluster issues one etcd server and peer certificate per member', async () => {
    const model = ClusterModel.fromDefinition(LARGE);
    const pki = await ClusterPki.load(model, { stateDir: path.join(tempDir(), 'state') });
    const names = pki.list().map((c) => c.name);
    expect(names.filter((n) => n.startsWith('etcd-server@'))).toEqual(['etcd-server@cp1', 'etcd-server@cp2', 'etcd-server@cp3']);
    expect(names).toHaveLength(caIds(model).length + PKI_TABLE.filter((r) => r.kind === 'certificate').length + 4); // two per-host rows, three members each; no apps
    expect(summarize(pki.cert('apiserver').certificate).dnsNames).toContain('kubernetes.default.svc.prod.internal');
    expect(summarize(pki.cert('apiserver').certificate).ipAddresses).toEqual(
      ['10.20.0.11', '10.20.0.12', '10.20.0.13', '10.20.0.100', '10.96.0.1', '127.0.0.1']);
    expect(summarize(pki.cert('admin').certificate)).toMatchObject({ keyAlgorithm: 'ecdsa', validityDays: 90 });
  });
});

describe('a damaged CA is refused and nothing is written', () => {
  async function damagedState(damage: (stateDir: string) => void) {
    const dir = tempDir();
    const stateDir = path.join(dir, 'state');
    const outdir = path.join(dir, 'dist');
    await synthesizeCluster(ecdsaSeed, { stateDir, outdir, log: () => undefined });
    damage(stateDir);
    const before = walk(dir).filter((p) => fs.statSync(p).isFile())
      .map((p) => `${p} ${fs.statSync(p).mtimeMs} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
    let error: unknown;
    try {
      await synthesizeCluster(ecdsaSeed, { stateDir, outdir, log: () => undefined });
    } catch (e) {
      error = e;
    }
    const after = walk(dir).filter((p) => fs.statSync(p).isFile())
      .map((p) => `${p} ${fs.statSync(p).mtimeMs} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
    expect(after).toEqual(before);
    expect(error).toBeInstanceOf(PkiStateError);
    return (error as Error).message;
  }

  test('corrupted CA certificate', async () => {
    const msg = await damagedState((s) => fs.writeFileSync(path.join(s, 'ca/etcd-ca.crt'), '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n'));
    expect(msg).toContain('etcd-ca: CA certificate is not a readable PEM certificate');
    expect(msg).toContain('never regenerated silently');
  });

  test('CA key swapped for another CA key', async () => {
    const msg = await damagedState((s) => fs.copyFileSync(path.join(s, 'ca/front-proxy-ca.key'), path.join(s, 'ca/kubernetes-ca.key')));
    expect(msg).toContain('kubernetes-ca: CA private key does not match the CA certificate');
  });

  test('missing CA key', async () => {
    const msg = await damagedState((s) => fs.rmSync(path.join(s, 'ca/kubernetes-ca.key')));
    expect(msg).toContain('kubernetes-ca: CA private key missing');
  });

  test('missing CA certificate and key while other state exists', async () => {
    const msg = await damagedState((s) => {
      fs.rmSync(path.join(s, 'ca/etcd-ca.key'));
      fs.rmSync(path.join(s, 'ca/etcd-ca.crt'));
    });
    expect(msg).toContain('etcd-ca: CA certificate and key are missing');
  });

  test('missing service-account key', async () => {
    const msg = await damagedState((s) => fs.rmSync(path.join(s, 'service-account.key')));
    expect(msg).toContain('service-account.key: missing');
  });
});
