/**
 * The certificate expiry check on the hosts (hosts/cert-check.sh): run as its unit and install.sh --check run it,
 * on a real bundle unpacked under a root, with real openssl, against certificates made to expire.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CERT_CHECK, INSTALL_SCRIPT, KUBELET } from '../../hosts';
import { createCertificate } from '../../lib/pki';
import { SEED, withChanges } from '../support/clusters';
import { synthBundles, SynthesizedBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const DAY_MS = 86_400_000;
let s: SynthesizedBundles;
beforeAll(async () => { s = await synthBundles(SEED); });

function unpack(host: string): string {
  const dir = tempDir();
  const r = spawnSync('tar', ['-xzf', s.archive(host), '-C', dir], { encoding: 'utf8', timeout: 30000 });
  expect([r.status, r.stderr]).toEqual([0, '']);
  return dir;
}

/** A host's bundle, unpacked, and installed under a root of its own (install.sh --root). */
function installed(host: string): { bundle: string; root: string } {
  const bundle = unpack(host);
  const root = tempDir();
  const r = spawnSync('bash', [path.join(bundle, INSTALL_SCRIPT), '--root', root], { encoding: 'utf8', timeout: 60000 });
  expect([host, r.status]).toEqual([host, 0]);
  return { bundle, root };
}

/** The check as its unit runs it, with the bundle's config, on `root`. */
function check(bundle: string, root: string, ...extra: string[]) {
  const r = spawnSync('bash', [path.join(bundle, CERT_CHECK.script), '--config', path.join(bundle, CERT_CHECK.config), '--root', root, ...extra],
    { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return r;
}

/** A certificate of a throwaway CA, issued at `issuedAt` for `days`. */
function pem(issuedAt: Date, days: number, cn = 'system:node:k8s4'): string {
  const key = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return createCertificate({
    subject: { commonName: cn }, publicKey: crypto.createPublicKey(key), isCa: false, usages: ['client'],
    dnsNames: [], ipAddresses: [], issuedAt, validityDays: days,
  }, { selfKey: key });
}

/** Lines of a textfile-collector file: metric name, labels and value. */
function metrics(text: string) {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\d+)$/.exec(l);
    if (!m) throw new Error(`not a sample line: ${l}`);
    return { name: m[1], labels: Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=').map((x) => x.replace(/^"|"$/g, '')))), value: Number(m[3]) };
  });
}

test('every host that holds certificates lists each certificate file of its bundle, and the kubelet\'s own', () => {
  for (const host of s.result.model.hosts) {
    const entries = s.bundles.get(host.name)!;
    const holding = [...entries.values()].filter((e) => /^-----BEGIN CERTIFICATE-----$/m.test(e.content.toString('utf8'))).map((e) => `/${e.path}`).sort();
    if (holding.length === 0) {
      expect([host.name, entries.has(CERT_CHECK.config.slice(1))]).toEqual([host.name, false]);
      continue;
    }
    const config = s.text(host.name, CERT_CHECK.config.slice(1));
    const listed = [...config.matchAll(/^cert name=\S+ path=(\S+) warn-days=\d+ required=1$/gm)].map((m) => m[1]).sort();
    expect([host.name, listed]).toEqual([host.name, holding]);
    const kubelet = host.has('node') || host.has('master');
    expect([host.name, config.includes(`path=${KUBELET.clientCertificate} warn-days=30 required=0`)]).toEqual([host.name, kubelet]);
  }
});

test('a fresh bundle checks clean: days left for each, a metric per certificate with its notAfter, exit 0', () => {
  const { bundle, root } = installed('k8s1');
  const r = check(bundle, root);
  expect([r.status, r.stderr]).toEqual([0, '']);
  const config = fs.readFileSync(path.join(bundle, CERT_CHECK.config), 'utf8');
  const listed = [...config.matchAll(/^cert name=(\S+) path=(\S+) warn-days=(\d+) required=1$/gm)];
  for (const [, name, file, warn] of listed) {
    const cert = new crypto.X509Certificate(fs.readFileSync(path.join(root, file)));
    const days = Math.floor((Date.parse(cert.validTo) - Date.now()) / DAY_MS);
    expect(r.stdout).toMatch(new RegExp(`^cert-check: OK ${name} ${file} \\(.*CN=.*\\): (${days}|${days - 1}) days left, until ${new Date(cert.validTo).toISOString().slice(0, 19)}Z; warns under ${warn}$`, 'm'));
  }
  expect(r.stdout).toMatch(/^cert-check: ABSENT kubelet-client .*once it has bootstrapped\)$/m);
  const textfile = config.match(/^textfile=(\S+)$/m)![1];
  const samples = metrics(fs.readFileSync(path.join(root, textfile), 'utf8'));
  const expiry = samples.filter((m) => m.name === 'kubesmith_certificate_expiry_timestamp_seconds');
  expect(expiry.map((m) => m.labels.name)).toEqual(listed.map((l) => l[1]));
  for (const m of expiry) {
    const cert = new crypto.X509Certificate(fs.readFileSync(path.join(root, m.labels.path)));
    expect([m.labels.name, m.value, m.labels.serial]).toEqual([m.labels.name, Date.parse(cert.validTo) / 1000, cert.serialNumber.toLowerCase()]);
  }
  expect(samples.find((m) => m.name === 'kubesmith_certificate_check_problems')!.value).toBe(0);
  // --no-textfile (install.sh --check) writes nothing.
  fs.rmSync(path.join(root, textfile));
  expect(check(bundle, root, '--no-textfile').status).toBe(0);
  expect(fs.existsSync(path.join(root, textfile))).toBe(false);
});

test('expiring, expired, unreadable and missing certificates are each named, counted and fail the check', () => {
  const { bundle, root } = installed('k8s4');
  const now = Date.now();
  // The kubelet's client certificate 10 days from its end, its serving one expired 3 days ago.
  fs.writeFileSync(path.join(root, KUBELET.clientCertificate), pem(new Date(now - 355 * DAY_MS), 365));
  fs.writeFileSync(path.join(root, KUBELET.servingCertificate), pem(new Date(now - 13 * DAY_MS), 10, 'k8s4@1'));
  // A CA file that holds two certificates (a rotation's old and new CA): both are reported.
  const ca = path.join(root, 'opt/kubernetes/ssl/ca.pem');
  fs.appendFileSync(ca, pem(new Date(now - 3300 * DAY_MS), 3650, 'old-ca'));
  fs.writeFileSync(path.join(root, 'opt/kubernetes/ssl/kube-proxy.pem'), 'not a certificate\n');
  fs.rmSync(path.join(root, 'opt/kubernetes/ssl/flanneld.pem'));
  const r = check(bundle, root);
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/^cert-check: EXPIRING kubelet-client \/opt\/kubernetes\/ssl\/kubelet-client-current.pem \(CN=system:node:k8s4\): (9|10) days left, .* warns under 30$/m);
  expect(r.stdout).toMatch(/^cert-check: EXPIRED kubelet-serving \/opt\/kubernetes\/ssl\/kubelet.crt \(CN=k8s4@1\): -3 days left/m);
  expect(r.stdout).toMatch(/^cert-check: OK kubernetes-ca \/opt\/kubernetes\/ssl\/ca.pem \(CN=kubernetes,.*\): 36\d\d days left/m);
  expect(r.stdout).toMatch(/^cert-check: EXPIRING kubernetes-ca \/opt\/kubernetes\/ssl\/ca.pem \(CN=old-ca\): 3(49|50) days left, .* warns under 365$/m);
  expect(r.stdout).toMatch(/^cert-check: UNREADABLE kube-proxy \/opt\/kubernetes\/ssl\/kube-proxy.pem \(no certificate in it\)$/m);
  expect(r.stdout).toMatch(/^cert-check: MISSING flanneld \/opt\/kubernetes\/ssl\/flanneld.pem$/m);
  expect(r.stdout).toMatch(/^cert-check: 5 problem\(s\)\. A synth re-issues the leaf certificates that are due/m);
  const textfile = fs.readFileSync(path.join(bundle, CERT_CHECK.config), 'utf8').match(/^textfile=(\S+)$/m)![1];
  const samples = metrics(fs.readFileSync(path.join(root, textfile), 'utf8'));
  expect(samples.find((m) => m.name === 'kubesmith_certificate_check_problems')!.value).toBe(5);
  expect(samples.filter((m) => m.labels.name === 'kubernetes-ca')).toHaveLength(2);

  // install.sh --check reports them beside drift, as a warning: they are no difference from the bundle.
  const i = spawnSync('bash', [path.join(bundle, INSTALL_SCRIPT), '--root', root, '--check'], { encoding: 'utf8', timeout: 60000 });
  expect(i.stdout).toMatch(/^cert-check: EXPIRED kubelet-serving /m);
  expect(i.stderr).toContain('install.sh: warning: certificates above are expired, expiring or missing');
  expect(i.stdout).toMatch(/DRIFT content  \/opt\/kubernetes\/ssl\/kube-proxy.pem/);
});

test('a malformed config or an unknown argument stops the check with the line or argument named', () => {
  const bundle = unpack('k8s3');
  const config = path.join(tempDir(), 'bad.conf');
  for (const [line, message] of [
    ['cert name=x path=relative warn-days=30 required=1', 'malformed field path=relative'],
    ['cert name=x path=/a warn-days=30', 'a cert line needs name, path, warn-days and required'],
    ['certs name=x', 'malformed line: certs name=x'],
  ]) {
    fs.writeFileSync(config, `${line}\n`);
    const r = spawnSync('bash', [path.join(bundle, CERT_CHECK.script), '--config', config], { encoding: 'utf8', timeout: 30000 });
    expect([r.status, r.stderr.trim()]).toEqual([2, expect.stringContaining(message)]);
  }
  const r = spawnSync('bash', [path.join(bundle, CERT_CHECK.script), '--config', config, '--rot', '/'], { encoding: 'utf8', timeout: 30000 });
  expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/^cert-check: error: unknown argument --rot\nusage: /)]);
  expect(spawnSync('bash', [path.join(bundle, CERT_CHECK.script)], { encoding: 'utf8' }).status).toBe(2);
});

test('opting out leaves the timer, the script and its config out of every bundle', async () => {
  const off = await synthBundles(withChanges(SEED, { certificates: { ...SEED.certificates, expiryCheck: { enabled: false } } }));
  for (const [host, entries] of off.bundles) {
    expect([host, [...entries.keys()].filter((p) => p.includes('cert-check'))]).toEqual([host, []]);
    expect(off.text(host, INSTALL_SCRIPT)).toContain("CERT_CHECK_SCRIPT=''");
  }
});
