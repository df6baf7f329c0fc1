/**
 * etcd from the bundles, for real: each member started in its host's network
 * namespace with the command line and environment of its emitted etcd.service
 * + EnvironmentFile (Debian's etcd 3.4 standing in at /opt/etcd/bin/etcd), the
 * host's root shown at the install paths. Clients use the files the bundles
 * give them: the apiserver's --etcd-* flags and each member's etcdctl.env.
 */
import * as fs from 'fs';
import { ETCD_FILES, KUBE_APISERVER } from '../../hosts';
import { certPath, keyPath } from '../../lib/pki';
import { PATHS } from '../../lib/model';
import { cleanupAll } from '../support/netns';
import { parseEnvironmentFile, Proc, run, RunResult, start, stop, stopAll, SYSTEMD_DEFAULT_PATH } from '../support/processes';
import { describeIf, requirePrograms, requireRoot } from '../support/programs';
import { hostNetwork, HostNetwork, installCluster, InstalledCluster } from '../support/real-cluster';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { cleanupTempDirs } from '../support/tmp';
import { flagsOf, inRootView, unitCommand, unitPaths } from '../support/units';
import { waitFor } from '../support/wait';

const tools = requirePrograms(['etcd', 'etcdctl', 'ip', 'unshare', 'mount'], [requireRoot()]);

describeIf(tools.ok)('etcd: three members from their emitted units, over mTLS', () => {
  jest.setTimeout(120000);
  let c: InstalledCluster;
  let net: HostNetwork;
  let logDir: string;
  const members = new Map<string, Proc>();
  /** Set by the first test: the later ones need a working cluster and say so instead of timing out again. */
  let healthy = false;
  const needsCluster = () => {
    if (!healthy) throw new Error('the etcd cluster never became healthy (see the first test)');
  };

  beforeAll(async () => {
    c = await installCluster();
    net = hostNetwork(c.model, 'etcd');
    logDir = makeTempDir('etcd-logs');
  });

  afterAll(async () => {
    // One at a time: a leader stopped while a peer still runs hands over at once, instead of waiting ~7 s.
    for (const p of members.values()) await stop(p, { graceMs: 15000 });
    await stopAll({ graceMs: 15000 });
    cleanupAll();
    removeTempDirs();
    cleanupTempDirs();
  });

  /** The apiserver's etcd client settings, read from m1's kube-apiserver option file. */
  function apiserverEtcdFlags(): { servers: string; cafile: string; certfile: string; keyfile: string } {
    const flags = flagsOf(unitCommand(c.root('m1'), `${PATHS.systemdUnits}/${KUBE_APISERVER.unit}`).argv);
    return { servers: flags.get('etcd-servers')!, cafile: flags.get('etcd-cafile')!, certfile: flags.get('etcd-certfile')!, keyfile: flags.get('etcd-keyfile')! };
  }

  /** etcdctl (v3 API) inside a host's namespace, seeing that host's root; `tls` picks the client identity. */
  function etcdctl(host: string, args: string[], tls: { endpoints: string; cacert: string; cert?: string; key?: string }): Promise<RunResult> {
    const argv = [
      tools.path('etcdctl'), `--endpoints=${tls.endpoints}`, `--cacert=${tls.cacert}`,
      ...(tls.cert ? [`--cert=${tls.cert}`, `--key=${tls.key}`] : []),
      '--dial-timeout=2s', '--command-timeout=4s', ...args,
    ];
    return run(inRootView(c.root(host), ['/opt'], argv), {
      netns: net.nsOf(host), timeoutMs: 20000, env: { PATH: SYSTEMD_DEFAULT_PATH, ETCDCTL_API: '3' },
    });
  }
  /** A member's own etcdctl settings, from the etcdctl.env its bundle gives operators. */
  function memberIdentity(host: string): { endpoints: string; cacert: string; cert: string; key: string } {
    const env = parseEnvironmentFile(fs.readFileSync(c.file(host, ETCD_FILES.etcdctlEnvironment), 'utf8'));
    return { endpoints: env.ETCDCTL_ENDPOINTS, cacert: env.ETCDCTL_CACERT, cert: env.ETCDCTL_CERT, key: env.ETCDCTL_KEY };
  }
  const asApiserver = (args: string[]) => {
    const f = apiserverEtcdFlags();
    return etcdctl('m1', args, { endpoints: f.servers, cacert: f.cafile, cert: f.certfile, key: f.keyfile });
  };

  function startMember(host: string): Proc {
    const cmd = unitCommand(c.root(host), ETCD_FILES.unit);
    expect(cmd.argv).toEqual([ETCD_FILES.etcd]); // no flags: etcd 3.5 refuses a setting given twice
    const p = start(inRootView(c.root(host), unitPaths(cmd), cmd.argv), { name: `etcd-${host}`, env: cmd.env, netns: net.nsOf(host), logDir });
    members.set(host, p);
    return p;
  }

  test('the members become healthy for the apiserver\'s etcd client certificate', async () => {
    const t0 = Date.now();
    for (const h of c.model.etcdMembers) startMember(h.name);
    const f = apiserverEtcdFlags();
    expect(f.servers.split(',')).toEqual(c.model.etcdEndpoints);
    expect([f.cafile, f.certfile]).toEqual([certPath('etcd-ca'), certPath('apiserver-etcd-client')]);
    await waitFor(async () => (await asApiserver(['endpoint', 'health'])).code === 0, {
      what: 'every etcd endpoint of --etcd-servers to be healthy', timeoutMs: 40000, intervalMs: 500, proc: members.get('m1'),
    });
    console.log(`etcd: ${members.size} members healthy over mTLS ${Date.now() - t0} ms after start`);
    healthy = true;
    const list = await asApiserver(['member', 'list', '-w', 'json']);
    const names = (JSON.parse(list.stdout).members as { name: string; peerURLs: string[] }[]).map((m) => `${m.name} ${m.peerURLs.join(',')}`).sort();
    expect(names).toEqual(c.model.etcdMembers.map((h) => `${h.name} https://${h.ip}:2380`).sort());
    for (const p of members.values()) expect(p.stderr()).not.toMatch(/unrecognized environment variable/);
  });

  test('a client without a certificate, and ones with cluster-CA certificates (admin, flanneld), are refused', async () => {
    needsCluster();
    const f = apiserverEtcdFlags();
    const [noCert, wrongCa, flanneld] = await Promise.all([
      etcdctl('m1', ['put', '/refused', 'x'], { endpoints: f.servers, cacert: f.cafile }),
      // admin.pem: a client certificate of kubernetes-ca, not of etcd-ca.
      etcdctl('m1', ['put', '/refused', 'x'], { endpoints: f.servers, cacert: f.cafile, cert: certPath('admin'), key: keyPath('admin') }),
      // flanneld's identity (it uses the Kubernetes subnet manager, never etcd).
      etcdctl('m1', ['put', '/refused', 'x'], { endpoints: f.servers, cacert: f.cafile, cert: certPath('flanneld'), key: keyPath('flanneld') }),
    ]);
    expect(noCert.code).not.toBe(0);
    expect(wrongCa.code).not.toBe(0);
    expect(flanneld.code).not.toBe(0);
    // Refused by the servers' TLS, not for want of a server.
    const logs = [...members.values()].map((p) => p.stderr()).join('\n');
    expect(logs).toMatch(/client didn't provide a certificate/);
    expect(logs).toMatch(/certificate signed by unknown authority/);
    expect((await asApiserver(['get', '/refused', '--print-value-only'])).stdout).toBe('');
  });

  test('every member\'s etcdctl.env (what operators use on the host) reaches the whole cluster', async () => {
    needsCluster();
    for (const m of c.model.etcdMembers) {
      const r = await etcdctl(m.name, ['endpoint', 'health'], memberIdentity(m.name));
      // etcdctl reports health on stderr, one line per endpoint of ETCDCTL_ENDPOINTS.
      const healthy = r.stderr.split('\n').filter((l) => / is healthy: /.test(l)).map((l) => l.split(' ')[0]).sort();
      expect([m.name, r.code, healthy]).toEqual([m.name, 0, [...c.model.etcdEndpoints].sort()]);
    }
  });

  test('with the leader killed, writes still succeed and nothing written before is lost', async () => {
    needsCluster();
    for (let i = 0; i < 20; i++) expect((await asApiserver(['put', `/before/${i}`, `v${i}`])).code).toBe(0);
    const status = await asApiserver(['endpoint', 'status', '-w', 'json']);
    const st = parseStatus(status.stdout);
    const old = st.find((x) => x.Status.leader === x.Status.header.member_id)!;
    const leader = c.model.etcdMembers.find((h) => old.Endpoint === `https://${h.ip}:2379`)!.name;
    await stop(members.get(leader)!, { signal: 'SIGKILL' });

    // The survivors elect a new leader (bounded); from then on every write through the apiserver's
    // endpoint list (the dead member's included) must succeed at the first attempt.
    const survivors = c.model.etcdMembers.filter((h) => h.name !== leader);
    const t0 = Date.now();
    await waitFor(async () => {
      const r = await etcdctl(survivors[0].name, ['endpoint', 'status', '-w', 'json'], {
        ...memberIdentity(survivors[0].name), endpoints: survivors.map((h) => `https://${h.ip}:2379`).join(','),
      });
      if (r.code !== 0) return false;
      const leaders = new Set(parseStatus(r.stdout).map((x) => x.Status.leader));
      return leaders.size === 1 && !leaders.has(old.Status.leader) && !leaders.has('0');
    }, { what: `a new leader among ${survivors.map((h) => h.name).join(', ')}`, timeoutMs: 20000, intervalMs: 200 });
    console.log(`etcd: leader ${leader} killed; ${survivors.map((h) => h.name).join(' and ')} agree on a new leader after ${Date.now() - t0} ms`);
    for (let i = 0; i < 10; i++) {
      const r = await asApiserver(['put', `/after/${i}`, `v${i}`]);
      expect([i, r.code, r.stderr]).toEqual([i, 0, '']);
    }
    const before = await asApiserver(['get', '/before/', '--prefix', '-w', 'json']);
    const kvs = (JSON.parse(before.stdout).kvs ?? []) as { key: string; value: string }[];
    const decoded = new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value, 'base64').toString()]));
    expect(decoded).toEqual(new Map(Array.from({ length: 20 }, (_, i) => [`/before/${i}`, `v${i}`])));
    expect((await asApiserver(['get', '/after/', '--prefix', '--keys-only', '-w', 'json'])).stdout).toMatch(/"count":10\b/);
  });
});

interface EndpointStatus { Endpoint: string; Status: { leader: string; header: { member_id: string } } }

/** `endpoint status -w json`, with the 64-bit member ids kept as strings (a JS number would round them). */
function parseStatus(json: string): EndpointStatus[] {
  return JSON.parse(json.replace(/"(leader|member_id)":(\d+)/g, '"$1":"$2"')) as EndpointStatus[];
}
