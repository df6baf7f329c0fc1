/**
 * The L4 load balancer from the bundles, for real: nginx and keepalived come
 * from Debian's packages, so they start with the command lines of the
 * packages' own units (/usr/lib/systemd/system/{nginx,keepalived}.service)
 * and read the emitted /etc/nginx/nginx.conf, /etc/keepalived/keepalived.conf
 * and check_nginx.sh at those paths (a view of the host's root). Stand-in
 * apiservers are `openssl s_server` with the emitted apiserver certificate on
 * each master's --advertise-address:--secure-port; the client is the node's
 * kube-proxy kubeconfig (server URL and CA data).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import {
  CHECK_NGINX_SCRIPT, KEEPALIVED_CONF, KUBE_APISERVER, NGINX_CONF, NGINX_LOG_DIR, renderNginxConf,
} from '../../hosts';
import { ClusterDefinition, ClusterModel } from '../../lib';
import { PATHS } from '../../lib/model';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { addressesOf, attachToBridge, cleanupAll, createBridge, createNamespace } from '../support/netns';
import { Proc, run, RunResult, start, stop, stopAll } from '../support/processes';
import { describeIf, NGINX_STREAM_MODULE, requireFile, requirePrograms, requireRoot } from '../support/programs';
import { hostNetwork, HostNetwork, installCluster, InstalledCluster, REAL_CLUSTER } from '../support/real-cluster';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { cleanupTempDirs } from '../support/tmp';
import { flagsOf, inRootView, reloadCommands, unitCommand, UnitCommand } from '../support/units';
import { waitFor, waitForPortInNetns } from '../support/wait';

const tools = requirePrograms(['nginx', 'keepalived', 'openssl', 'ip', 'unshare', 'mount'], [
  requireRoot(), requireFile(NGINX_STREAM_MODULE, 'libnginx-mod-stream'),
]);

/** The OS packages' units: nginx and keepalived are not built by kubesmith, only configured. */
const packagedUnit = (name: string) => ['/usr/lib/systemd/system', '/lib/systemd/system'].map((d) => `${d}/${name}`).find((p) => fs.existsSync(p)) ?? `/usr/lib/systemd/system/${name}`;
const NGINX_UNIT = packagedUnit('nginx.service');
const KEEPALIVED_UNIT = packagedUnit('keepalived.service');
/** What nginx and keepalived read besides their config: logs and pid files (private per instance). */
const NGINX_VIEW = [NGINX_CONF, NGINX_LOG_DIR, '/run'];
const KEEPALIVED_VIEW = [KEEPALIVED_CONF, CHECK_NGINX_SCRIPT, '/run'];

/** How long the VIP may take to move (keepalived: check every 2 s, 2 failures, 1 s adverts). */
const VIP_BOUND_MS = 20000;

function nginxUnit(): UnitCommand {
  return unitCommand('/', NGINX_UNIT);
}

/** Debian's ExecStartPre (`nginx -t -q ...`) in a view of `root`: exit 0 and silence mean the config is valid. */
function nginxTest(root: string, netns?: string): Promise<RunResult> {
  const unit = nginxUnit();
  expect(unit.pre.map((p) => p.argv.slice(0, 3))).toEqual([['/usr/sbin/nginx', '-t', '-q']]);
  return run(inRootView(root, NGINX_VIEW, unit.pre[0].argv), { env: unit.env, netns, timeoutMs: 20000 });
}

/** keepalived's unit command line + `-t -e` (config test; a missing config file is an error, not a silent pass). */
function keepalivedTest(root: string, netns: string): Promise<RunResult> {
  const unit = unitCommand('/', KEEPALIVED_UNIT);
  return run(inRootView(root, KEEPALIVED_VIEW, [...unit.argv, '-t', '-e']), { env: unit.env, netns, timeoutMs: 20000 });
}

/** A namespace holding one interface per name, so keepalived -t finds the interface a config names. */
function namespaceWithInterfaces(label: string, names: readonly string[]): string {
  const br = createBridge(label);
  const ns = createNamespace(`${label}-host`);
  for (const n of new Set(names)) attachToBridge(br, ns, n);
  return ns;
}

describeIf(tools.ok)('nginx L4 + keepalived from the bundles', () => {
  jest.setTimeout(120000);
  afterAll(async () => {
    await stopAll();
    cleanupAll();
    removeTempDirs();
    cleanupTempDirs();
  });

  describe.each([['main.ts', withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } })], ['LARGE', LARGE]] as const)(
    '%s cluster: the configs pass the programs\' own checks',
    (_name, def: ClusterDefinition) => {
      let c: InstalledCluster;
      beforeAll(async () => { c = await installCluster(def); });

      test('nginx -t (the package unit\'s ExecStartPre) and keepalived -t (in a namespace with the named interface) pass on every lb host', async () => {
        const ns = namespaceWithInterfaces('check', c.model.lbHosts.map((h) => h.interface));
        for (const h of c.model.lbHosts) {
          const n = await nginxTest(c.root(h.name));
          expect([h.name, 'nginx', n.code, n.stdout + n.stderr]).toEqual([h.name, 'nginx', 0, '']);
          const k = await keepalivedTest(c.root(h.name), ns);
          expect([h.name, 'keepalived', k.code, k.stdout + k.stderr]).toEqual([h.name, 'keepalived', 0, '']);
        }
      });
    },
  );

  describe('it can fail: the same checks on broken copies', () => {
    let c: InstalledCluster;
    beforeAll(async () => { c = await installCluster(); });

    function copyOfRoot(): string {
      const root = path.join(makeTempDir('lb-mutant'), 'root');
      fs.cpSync(c.root('m1'), root, { recursive: true, verbatimSymlinks: true });
      return root;
    }

    function mutant(file: string, from: string | RegExp, to: string): string {
      const root = copyOfRoot();
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      const changed = text.replace(from, to);
      expect(changed).not.toBe(text);
      fs.writeFileSync(path.join(root, file), changed);
      return root;
    }

    test('nginx -t: a misspelled directive, an upstream without servers', async () => {
      const typo = await nginxTest(mutant(NGINX_CONF, 'proxy_pass', 'proxy_pas'));
      expect([typo.code, typo.stderr]).toEqual([1, expect.stringContaining('unknown directive "proxy_pas"')]);
      const empty = await nginxTest(mutant(NGINX_CONF, /^\s*server \d.*\n/gm, ''));
      expect([empty.code, empty.stderr]).toEqual([1, expect.stringContaining('no servers are inside upstream')]);
    });

    test('keepalived -t: a misspelled keyword, a missing interface, an insecure check script', async () => {
      const ifname = c.model.host('m1').interface;
      const ns = namespaceWithInterfaces('mutant', [ifname]);
      const typo = await keepalivedTest(mutant(KEEPALIVED_CONF, 'advert_int', 'advert_xint'), ns);
      expect([typo.code, typo.stderr]).toEqual([5, expect.stringContaining("Unknown keyword 'advert_xint'")]);
      const iface = await keepalivedTest(mutant(KEEPALIVED_CONF, new RegExp(`\\b${ifname}\\b`, 'g'), 'nosuch0'), ns);
      expect([iface.code, iface.stderr]).toEqual([5, expect.stringContaining("interface nosuch0 for vrrp_instance VI_1 doesn't exist")]);
      const insecure = copyOfRoot();
      fs.chmodSync(path.join(insecure, CHECK_NGINX_SCRIPT), 0o777);
      const script = await keepalivedTest(insecure, ns);
      expect([script.code, script.stderr]).toEqual([5, expect.stringContaining('Disabling track script check_nginx due to insecure')]);
    });
  });

  describe('the real-component cluster: VIP, proxying and failover', () => {
    let c: InstalledCluster;
    let net: HostNetwork;
    let logDir: string;
    let caFile: string;
    let server: URL;
    const apiservers = new Map<string, Proc>();
    const nginx = new Map<string, Proc>();

    beforeAll(async () => {
      c = await installCluster();
      net = hostNetwork(c.model, 'lb');
      logDir = makeTempDir('lb-logs');
      // The client: the node's kube-proxy kubeconfig.
      const node = c.model.nodes[0].name;
      const kc = parse(fs.readFileSync(c.file(node, `${PATHS.k8sCfg}/kube-proxy.kubeconfig`), 'utf8'));
      server = new URL(kc.clusters[0].cluster.server);
      caFile = path.join(logDir, 'kube-proxy-ca.pem');
      fs.writeFileSync(caFile, Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'));
    });

    const lb = () => c.model.lbHosts.map((h) => h.name);
    const vip = () => c.model.loadBalancer!.vip;
    /** lb hosts whose interface holds the VIP now. */
    const holders = () => c.model.lbHosts.filter((h) => addressesOf(net.nsOf(h.name), h.interface).includes(vip())).map((h) => h.name);

    async function waitForHolder(expected: string, what: string): Promise<number> {
      const t0 = Date.now();
      await waitFor(() => JSON.stringify(holders()) === JSON.stringify([expected]), { what: `the VIP on ${expected} alone (${what})`, timeoutMs: VIP_BOUND_MS, intervalMs: 100 });
      return Date.now() - t0;
    }

    /** A stand-in kube-apiserver on a master: s_server with the --tls-* files on --advertise-address:--secure-port. */
    function startApiserver(host: string): Proc {
      const flags = flagsOf(unitCommand(c.root(host), `${PATHS.systemdUnits}/${KUBE_APISERVER.unit}`).argv);
      const argv = [tools.path('openssl'), 's_server', '-accept', `${flags.get('advertise-address')}:${flags.get('secure-port')}`,
        '-cert', flags.get('tls-cert-file')!, '-key', flags.get('tls-private-key-file')!, '-www'];
      const p = start(inRootView(c.root(host), ['/opt'], argv), { name: `apiserver-${host}-${Date.now()}`, netns: net.nsOf(host), logDir });
      apiservers.set(host, p);
      return p;
    }

    /** nginx as Debian's unit runs it, in the foreground (the harness tracks the PID; systemd would read PIDFile). */
    function startNginx(host: string): Proc {
      const unit = nginxUnit();
      const argv = unit.argv.map((a) => a.replace('daemon on;', 'daemon off;'));
      expect(argv).toEqual(['/usr/sbin/nginx', '-g', 'daemon off; master_process on;']);
      const p = start(inRootView(c.root(host), NGINX_VIEW, argv), { name: `nginx-${host}-${Date.now()}`, env: unit.env, netns: net.nsOf(host), logDir });
      nginx.set(host, p);
      return p;
    }

    /** keepalived as Debian's unit runs it (--dont-fork $DAEMON_ARGS), logging to the console for the test log. */
    function startKeepalived(host: string): Proc {
      const unit = unitCommand('/', KEEPALIVED_UNIT);
      expect(unit.argv).toEqual(['/usr/sbin/keepalived', '--dont-fork']);
      return start(inRootView(c.root(host), KEEPALIVED_VIEW, [...unit.argv, '--log-console', '--log-detail']), {
        name: `keepalived-${host}`, env: unit.env, netns: net.nsOf(host), logDir,
      });
    }

    /** One HTTPS request from the node through the kubeconfig's server URL, verifying the cluster CA and the VIP. */
    function request(): Promise<RunResult> {
      return run([tools.path('openssl'), 's_client', '-connect', `${server.hostname}:${server.port}`, '-CAfile', caFile,
        '-verify_ip', server.hostname, '-verify_return_error', '-quiet'], {
        netns: net.nsOf(c.model.nodes[0].name), input: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 15000,
      });
    }
    async function expectServed(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        const r = await request();
        expect([i, r.code, r.stdout.split('\n')[0].trim()]).toEqual([i, 0, 'HTTP/1.0 200 ok']);
      }
    }
    /**
     * Upstreams of the node's connections in an lb host's access log ("$remote_addr $upstream_addr - [...]"), from its
     * `from`-th on. Connections from 127.0.0.1 (keepalived's check_nginx.sh, the test's port waits) are left out.
     */
    function upstreams(host: string, from = 0): string[] {
      const file = c.file(host, `${NGINX_LOG_DIR}/k8s-access.log`);
      const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      return lines.map((l) => {
        const m = /^(\S+) (.+?) - \[/.exec(l);
        if (!m) throw new Error(`access log line not in the main format: ${l}`);
        return m;
      }).filter((m) => m[1] === c.model.nodes[0].ip).slice(from).map((m) => m[2]);
    }

    test('the kubeconfig points at the VIP\'s L4 port; the configs pass nginx -t and keepalived -t; both start; the VIP sits on the MASTER', async () => {
      expect([server.hostname, Number(server.port)]).toEqual([vip(), c.model.loadBalancer!.port]);
      for (const h of lb()) {
        const n = await nginxTest(c.root(h), net.nsOf(h));
        expect([h, 'nginx', n.code, n.stdout + n.stderr]).toEqual([h, 'nginx', 0, '']);
        const k = await keepalivedTest(c.root(h), net.nsOf(h));
        expect([h, 'keepalived', k.code, k.stdout + k.stderr]).toEqual([h, 'keepalived', 0, '']);
      }
      for (const m of c.model.masters) startApiserver(m.name);
      for (const m of c.model.masters) await waitForPortInNetns(net.nsOf(m.name), m.ip, c.model.apiServerPort, { proc: apiservers.get(m.name), timeoutMs: 10000 });
      for (const h of lb()) {
        const p = startNginx(h);
        await waitForPortInNetns(net.nsOf(h), '127.0.0.1', c.model.loadBalancer!.port, { proc: p, timeoutMs: 10000 });
      }
      const t0 = Date.now();
      for (const h of lb()) startKeepalived(h);
      await waitForHolder(lb()[0], 'after start');
      console.log(`keepalived: VIP ${vip()} on ${lb()[0]} (MASTER) ${Date.now() - t0} ms after start`);
      expect(fs.readFileSync(c.file(lb()[0], KEEPALIVED_CONF), 'utf8')).toMatch(/^\s*state MASTER$/m);
    });

    test('a client verifying the cluster CA for the VIP reaches every apiserver through the L4 port', async () => {
      const holder = lb()[0];
      const before = upstreams(holder).length;
      await expectServed(4);
      await waitFor(() => upstreams(holder, before).length === 4, { what: '4 access log lines', timeoutMs: 5000 });
      expect(new Set(upstreams(holder, before))).toEqual(new Set(c.model.masters.map((m) => `${m.ip}:${c.model.apiServerPort}`)));
    });

    test('with one master down, the VIP still serves', async () => {
      const down = c.model.masters[0];
      await stop(apiservers.get(down.name)!);
      const holder = lb()[0];
      const before = upstreams(holder).length;
      await expectServed(4);
      await waitFor(() => upstreams(holder, before).length === 4, { what: '4 access log lines', timeoutMs: 5000 });
      // Every request ended on a live master (nginx may have tried the dead one first: "dead, live").
      for (const u of upstreams(holder, before)) expect(u.split(', ').pop()).not.toBe(`${down.ip}:${c.model.apiServerPort}`);
      startApiserver(down.name);
      await waitForPortInNetns(net.nsOf(down.name), down.ip, c.model.apiServerPort, { proc: apiservers.get(down.name), timeoutMs: 10000 });
    });

    test(`stopping the MASTER's nginx moves the VIP to the BACKUP within ${VIP_BOUND_MS} ms; restarting it moves the VIP back`, async () => {
      const [master, backup] = lb();
      await stop(nginx.get(master)!);
      const away = await waitForHolder(backup, `${master}'s nginx stopped`);
      console.log(`keepalived: VIP moved ${master} → ${backup} ${away} ms after nginx stopped (bound ${VIP_BOUND_MS} ms)`);
      const before = upstreams(backup).length;
      await expectServed(2);
      await waitFor(() => upstreams(backup, before).length === 2, { what: `the BACKUP ${backup} to log the requests`, timeoutMs: 5000 });

      const p = startNginx(master);
      await waitForPortInNetns(net.nsOf(master), '127.0.0.1', c.model.loadBalancer!.port, { proc: p, timeoutMs: 10000 });
      const back = await waitForHolder(master, `${master}'s nginx restarted`);
      console.log(`keepalived: VIP moved back ${backup} → ${master} ${back} ms after nginx answered again (bound ${VIP_BOUND_MS} ms)`);
      await expectServed(1);
    });

    test('a changed nginx.conf (a master leaves the upstream) is applied by the package unit\'s ExecReload: new connections use it, one open across the reload is still served', async () => {
      const holder = lb()[0];
      const [stays, leaves] = c.model.masters;
      const p = nginx.get(holder)!;
      expect(fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim()).toBe('nginx');
      const workers = () => new Set(fs.readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
      const before = workers();
      expect(before.size).toBeGreaterThan(0);

      // A client that has connected through the VIP (TLS verified) and sends its request only after the reload.
      const open = spawn('ip', ['netns', 'exec', net.nsOf(c.model.nodes[0].name), tools.path('openssl'), 's_client',
        '-connect', `${server.hostname}:${server.port}`, '-CAfile', caFile, '-verify_ip', server.hostname, '-verify_return_error', '-ign_eof'], { stdio: 'pipe' });
      let out = '';
      open.stdout.on('data', (d) => { out += String(d); });
      try {
        await waitFor(() => out.includes('Verify return code: 0 (ok)'), { what: 'the open connection\'s TLS handshake', timeoutMs: 10000, intervalMs: 100 });

        // The compiled config of the same cluster with the second master demoted to a node.
        const demoted = withChanges(REAL_CLUSTER, { hosts: REAL_CLUSTER.hosts.map((h) => (h.name === leaves.name ? { ...h, roles: [...h.roles.filter((r) => r !== 'master'), ...(h.roles.includes('node') ? [] : ['node' as const])] } : h)) });
        const conf = renderNginxConf(ClusterModel.fromDefinition(demoted));
        expect(conf).not.toContain(`${leaves.ip}:`);
        fs.writeFileSync(c.file(holder, NGINX_CONF), conf);
        const reload = reloadCommands(nginxUnit(), p.pid);
        expect(reload.map((r) => r.argv)).toEqual([['/usr/sbin/nginx', '-g', 'daemon on; master_process on;', '-s', 'reload']]);
        const r = await run(inRootView(c.root(holder), NGINX_VIEW, reload[0].argv), { env: nginxUnit().env, netns: net.nsOf(holder), timeoutMs: 20000 });
        // It says "signal process started" (a notice) and nothing worse.
        expect([r.code, r.stderr.split('\n').filter((l) => /\[(emerg|alert|crit|error|warn)\]/.test(l))]).toEqual([0, []]);
        // New workers; of the old ones only the one holding the open connection stays, shutting down.
        await waitFor(() => {
          const now = workers();
          return [...now].some((w) => !before.has(w)) && [...now].filter((w) => before.has(w)).length <= 1;
        }, { what: 'new nginx workers, the idle old ones gone', timeoutMs: 10000, intervalMs: 100 });
        expect(p.isRunning()).toBe(true);

        // The open connection first (a stand-in apiserver, openssl s_server, serves one connection at a time).
        open.stdin.end('GET / HTTP/1.0\r\n\r\n');
        await waitFor(() => out.includes('HTTP/1.0 200 ok'), { what: 'the answer on the connection opened before the reload', timeoutMs: 10000, intervalMs: 100 });
        await waitFor(() => [...workers()].every((w) => !before.has(w)), { what: 'the last old worker to exit', timeoutMs: 10000, intervalMs: 100 });

        const from = upstreams(holder).length;
        await expectServed(4);
        await waitFor(() => upstreams(holder, from).length === 4, { what: '4 access log lines', timeoutMs: 5000 });
        expect(new Set(upstreams(holder, from))).toEqual(new Set([`${stays.ip}:${c.model.apiServerPort}`]));
      } finally {
        if (open.exitCode === null) open.kill('SIGKILL');
      }
    });
  });
});

/** The stream module: Debian's nginx has it only through load_module, and only once. */
describeIf(tools.ok)('nginx\'s stream module (loadStreamModule)', () => {
  afterAll(() => { removeTempDirs(); });

  function rootWith(conf: string): string {
    const root = path.join(makeTempDir('nginx-module'), 'root');
    fs.mkdirSync(path.join(root, path.dirname(NGINX_CONF)), { recursive: true });
    fs.mkdirSync(path.join(root, NGINX_LOG_DIR), { recursive: true });
    fs.writeFileSync(path.join(root, NGINX_CONF), conf);
    return root;
  }
  const model = (def: ClusterDefinition) => ClusterModel.fromDefinition(def);
  const off = withChanges(SEED, { loadBalancer: { ...SEED.loadBalancer, loadStreamModule: false } });

  test('without load_module Debian\'s nginx knows no stream; including modules-enabled as well loads it twice', async () => {
    const without = await nginxTest(rootWith(renderNginxConf(model(off))));
    expect([without.code, without.stderr]).toEqual([1, expect.stringContaining('unknown directive "stream"')]);
    const twice = await nginxTest(rootWith(`include /etc/nginx/modules-enabled/*.conf;\n${renderNginxConf(model(SEED))}`));
    expect([twice.code, twice.stderr]).toEqual([1, expect.stringContaining('is already loaded')]);
  });
});
