/**
 * The certificates as installed: each bundle laid out with its own
 * install.sh --root, then every PEM file on every host checked with the
 * openssl CLI — against the CA certificate on the same host, against its key,
 * against the certificate table (SANs, EKUs, subject), and against what the
 * definition says clients will dial (independently of the table). The
 * kubeconfigs' CA data and client certificates are checked the same way.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ClusterDefinition, ClusterModel } from '../../lib';
import { Host, HostRole, PATHS } from '../../lib/model';
import {
  CaId, PKI_TABLE, PkiSpec, certPath,
} from '../../lib/pki';
import { SEED } from '../support/clusters';
import { run } from '../support/processes';
import { describeIf, requirePrograms } from '../support/programs';
import { installCluster, InstalledCluster, REAL_CLUSTER } from '../support/real-cluster';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { cleanupTempDirs } from '../support/tmp';

const tools = requirePrograms(['openssl', 'tar', 'bash']);

async function openssl(args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await run([tools.path('openssl'), ...args], { timeoutMs: 20000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

async function opensslOk(args: string[]): Promise<string> {
  const r = await openssl(args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.code}): ${r.out}`);
  return r.out;
}

interface X509Info { subject: string; issuer: string; sans: string[]; ekus: string[]; isCa: boolean; pubkey: string }

/** What openssl reads from a certificate file. */
async function x509(file: string): Promise<X509Info> {
  const out = await opensslOk(['x509', '-in', file, '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253',
    '-ext', 'subjectAltName,extendedKeyUsage,basicConstraints', '-pubkey']);
  const after = (title: string) => {
    const m = new RegExp(`^X509v3 ${title}:.*\\n\\s+(.*)$`, 'm').exec(out);
    return m ? m[1].split(', ').map((s) => s.trim()) : [];
  };
  return {
    subject: /^subject=(.*)$/m.exec(out)![1],
    issuer: /^issuer=(.*)$/m.exec(out)![1],
    sans: after('Subject Alternative Name').map((s) => s.replace(/^IP Address:/, 'IP:')).sort(),
    ekus: after('Extended Key Usage').sort(),
    isCa: after('Basic Constraints').includes('CA:TRUE'),
    pubkey: /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(out)![0],
  };
}

async function publicKeyOf(keyFile: string): Promise<string> {
  return (await opensslOk(['pkey', '-in', keyFile, '-pubout'])).trim();
}

/** `openssl verify` of cert against ca with extra checks (-purpose, -verify_ip ...); true when it says OK. */
async function verifies(ca: string, cert: string, ...checks: string[]): Promise<boolean> {
  const r = await openssl(['verify', '-CAfile', ca, ...checks, cert]);
  return r.code === 0 && r.out.trim() === `${cert}: OK`;
}

const EKU_NAMES = { server: 'TLS Web Server Authentication', client: 'TLS Web Client Authentication' } as const;
const PURPOSE = { server: 'sslserver', client: 'sslclient' } as const;

/** Every file under dir, as install paths. */
function filesUnder(root: string, dir = '/'): string[] {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    const p = path.posix.join(dir, e.name);
    return e.isDirectory() ? filesUnder(root, p) : e.isFile() ? [p] : [];
  });
}

const receives = (host: Host, roles: readonly HostRole[]) => roles.some((r) => host.has(r));
const CA_ROWS = PKI_TABLE.filter((r) => r.kind === 'ca');
const KEY_PAIRS = PKI_TABLE.filter((r) => r.kind === 'key-pair');
type LeafRow = PkiSpec & Required<Pick<PkiSpec, 'commonName' | 'usages' | 'signer'>>;

/** Table rows this host receives: leaf certificates for it (per-host rows: its own), by spec. */
function leafSpecsOn(host: Host): LeafRow[] {
  return PKI_TABLE.filter((spec): spec is LeafRow => spec.kind === 'certificate' && receives(host, spec.certOn) && (!spec.perHost || host.has(spec.perHost)));
}

const expectedSubject = (model: ClusterModel, cn: string, o?: readonly string[]) => {
  const s = model.certificates.subject;
  // RFC 2253 lists the RDNs last-first.
  return [`CN=${cn}`, ...(o ?? []).map((x) => `O=${x}`), ...(s.locality ? [`L=${s.locality}`] : []),
    ...(s.state ? [`ST=${s.state}`] : []), ...(s.country ? [`C=${s.country}`] : [])].join(',');
};

describe.each([['the real-component cluster (ECDSA)', REAL_CLUSTER], ['main.ts (RSA)', SEED]] as const)('%s', (_name, def: ClusterDefinition) => {
  jest.setTimeout(120000);
  let c: InstalledCluster;
  beforeAll(async () => { c = await installCluster(def); });
  afterAll(() => { removeTempDirs(); cleanupTempDirs(); });

  describeIf(tools.ok)('on every host, checked with the openssl CLI', () => {
    test('every PEM file is one of the certificate table\'s, at its path, and each path the table gives the host is there', () => {
      for (const host of c.model.hosts) {
        const root = c.root(host.name);
        // The programs the harness placed (Debian's, as files of the root) are not kubesmith's files; they may hold the text.
        const programs = new Set(c.s.result.cluster.bundle(host.name).services.flatMap((sv) => sv.binaries));
        const pem = filesUnder(root).filter((p) => !programs.has(p) && fs.readFileSync(path.join(root, p), 'utf8').includes('-----BEGIN '));
        const expected = [
          ...CA_ROWS.flatMap((ca) => [...(receives(host, ca.certOn) ? [ca.certPath] : []), ...(receives(host, ca.keyOn) ? [ca.keyPath] : [])]),
          ...leafSpecsOn(host).flatMap((s) => [s.certPath, s.keyPath]),
          ...KEY_PAIRS.filter((k) => receives(host, k.keyOn)).flatMap((k) => [k.keyPath, k.certPath]),
        ];
        expect([host.name, pem.sort()]).toEqual([host.name, [...expected].sort()]);
        for (const p of expected) {
          const mode = fs.statSync(path.join(root, p)).mode & 0o777;
          expect([host.name, p, mode]).toEqual([host.name, p, /(-key\.pem|\.key)$/.test(p) ? 0o600 : 0o644]);
        }
      }
    });

    test('CA certificates are self-signed CAs with the table\'s CN; a CA key on a host matches its certificate', async () => {
      for (const host of c.model.hosts) {
        for (const ca of CA_ROWS.filter((x) => receives(host, x.certOn))) {
          const file = c.file(host.name, ca.certPath);
          const info = await x509(file);
          expect([host.name, ca.id, info.isCa, info.subject, info.issuer]).toEqual([host.name, ca.id, true, expectedSubject(c.model, ca.commonName!({ model: c.model })), info.subject]);
          expect(await verifies(file, file)).toBe(true);
          if (receives(host, ca.keyOn)) expect(await publicKeyOf(c.file(host.name, ca.keyPath))).toBe(info.pubkey.trim());
        }
      }
    });

    test('every leaf verifies against its CA on the same host, for each usage, matches its key, and has the table\'s subject, SANs and EKUs', async () => {
      for (const host of c.model.hosts) {
        for (const spec of leafSpecsOn(host)) {
          const cert = c.file(host.name, spec.certPath);
          const ca = c.file(host.name, certPath(spec.signer as CaId));
          const info = await x509(cert);
          const label = `${host.name} ${spec.id}`;
          for (const u of spec.usages) expect([label, u, await verifies(ca, cert, '-purpose', PURPOSE[u], '-x509_strict')]).toEqual([label, u, true]);
          expect([label, await publicKeyOf(c.file(host.name, spec.keyPath))]).toEqual([label, info.pubkey.trim()]);
          const ctx = { model: c.model, host: spec.perHost ? host : undefined };
          const sans = spec.sans?.(ctx) ?? { dns: [], ip: [] };
          expect([label, info.subject, info.isCa, info.ekus, info.sans]).toEqual([
            label, expectedSubject(c.model, spec.commonName(ctx), spec.organization), false,
            spec.usages.map((u) => EKU_NAMES[u]).sort(),
            [...sans.dns.map((d) => `DNS:${d}`), ...sans.ip.map((i) => `IP:${i}`)].sort(),
          ]);
        }
      }
    });

    test('no certificate verifies against a CA that is not its signer', async () => {
      const master = c.model.masters[0].name;
      const etcdClient = c.file(master, certPath('apiserver-etcd-client'));
      const admin = c.file(master, certPath('admin'));
      expect(await verifies(c.file(master, certPath('kubernetes-ca')), etcdClient)).toBe(false);
      expect(await verifies(c.file(master, certPath('etcd-ca')), admin)).toBe(false);
      // A client-only certificate is no server certificate.
      expect(await verifies(c.file(master, certPath('kubernetes-ca')), admin, '-purpose', 'sslserver')).toBe(false);
    });

    test('the addresses clients dial are in the serving certificates (from the definition, not the table)', async () => {
      const { model } = c;
      for (const master of model.masters) {
        const cert = c.file(master.name, certPath('apiserver'));
        const ca = c.file(master.name, certPath('kubernetes-ca'));
        const ips = [...model.masters.map((m) => m.ip), ...(model.loadBalancer ? [model.loadBalancer.vip] : []), model.network.firstServiceIp, '127.0.0.1'];
        for (const ip of ips) expect([master.name, ip, await verifies(ca, cert, '-purpose', 'sslserver', '-verify_ip', ip)]).toEqual([master.name, ip, true]);
        const svc = `kubernetes.default.svc.${model.network.dnsDomain}`;
        expect([master.name, svc, await verifies(ca, cert, '-verify_hostname', svc)]).toEqual([master.name, svc, true]);
        const node = model.nodes.find((n) => !n.has('master'));
        if (node) expect(await verifies(ca, cert, '-verify_ip', node.ip)).toBe(false);
      }
      for (const member of model.etcdMembers) {
        const ca = c.file(member.name, certPath('etcd-ca'));
        for (const id of ['etcd-server', 'etcd-peer'] as const) {
          const cert = c.file(member.name, certPath(id));
          // Peers check the connecting member's address against its certificate: serverAuth and clientAuth for the member's IP.
          for (const purpose of ['sslserver', 'sslclient']) {
            expect([member.name, id, purpose, await verifies(ca, cert, '-purpose', purpose, '-verify_ip', member.ip)]).toEqual([member.name, id, purpose, true]);
          }
          const other = model.etcdMembers.find((m) => m.name !== member.name)!;
          expect([member.name, id, 'other member', await verifies(ca, cert, '-verify_ip', other.ip)]).toEqual([member.name, id, 'other member', false]);
        }
      }
    });

    test('every kubeconfig: CA data is the cluster CA, its server is in the apiserver certificate, its client certificate is the CA\'s and matches its key', async () => {
      const { model } = c;
      const dir = makeTempDir('kubeconfig-ca');
      const apiserver = c.file(model.masters[0].name, certPath('apiserver'));
      let seen = 0;
      for (const host of model.hosts) {
        for (const p of filesUnder(c.root(host.name), PATHS.k8sCfg).filter((f) => f.endsWith('.kubeconfig'))) {
          seen++;
          const label = `${host.name} ${p}`;
          const kc = parse(fs.readFileSync(c.file(host.name, p), 'utf8'));
          const cluster = kc.clusters[0].cluster as { server: string; 'certificate-authority-data': string };
          const ca = path.join(dir, `${host.name}-${path.basename(p)}.ca.pem`);
          fs.writeFileSync(ca, Buffer.from(cluster['certificate-authority-data'], 'base64'));
          expect([label, (await x509(ca)).pubkey]).toEqual([label, (await x509(c.file(host.name, certPath('kubernetes-ca')))).pubkey]);
          const server = new URL(cluster.server);
          expect([label, server.protocol]).toEqual([label, 'https:']);
          expect([label, server.hostname, await verifies(ca, apiserver, '-purpose', 'sslserver', '-verify_ip', server.hostname)])
            .toEqual([label, server.hostname, true]);
          const user = kc.users[0].user as Record<string, string>;
          if (user['client-certificate']) {
            const cert = c.file(host.name, user['client-certificate']);
            expect([label, await verifies(ca, cert, '-purpose', 'sslclient')]).toEqual([label, true]);
            expect([label, await publicKeyOf(c.file(host.name, user['client-key']))]).toEqual([label, (await x509(cert)).pubkey.trim()]);
          } else {
            expect([label, Object.keys(user)]).toEqual([label, ['token']]);
          }
        }
      }
      expect(seen).toBeGreaterThanOrEqual(model.masters.length * 3 + model.nodes.length * 2);
    });
  });
});
