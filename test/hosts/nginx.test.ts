import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ClusterDefinition, ClusterModel } from '../../lib';
import { NGINX_CONF, renderNginxConf } from '../../hosts';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { synthBundles, SynthesizedBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const CONF = NGINX_CONF.slice(1);
const NGINX = '/usr/sbin/nginx';
const DEBIAN_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
/** nginx -t / a real nginx run need the Debian package (nginx + libnginx-mod-stream) and root. */
const haveNginx = fs.existsSync(NGINX) && fs.existsSync(DEBIAN_STREAM_MODULE) && process.getuid?.() === 0;
const withNginx = haveNginx ? test : test.skip;

describe.each([['seed', SEED], ['large', LARGE]] as const)('%s cluster', (_name, def) => {
  let s: SynthesizedBundles;
  beforeAll(async () => { s = await synthBundles(def); });

  test('nginx.conf', () => {
    const lb = s.result.model.lbHosts;
    const confs = lb.map((h) => s.text(h.name, CONF));
    for (const c of confs) expect(c).toBe(confs[0]);
    expect(confs[0]).toMatchSnapshot();
  });

  test('the upstream is every master at apiServerPort; nginx listens on the lb port', () => {
    const { model } = s.result;
    const conf = s.text(model.lbHosts[0].name, CONF);
    const upstream = conf.match(/upstream k8s-apiserver \{([^}]*)\}/)![1];
    const servers = [...upstream.matchAll(/^\s*server (\S+) /gm)].map((m) => m[1]);
    expect(servers).toEqual(model.masters.map((m) => `${m.ip}:${model.apiServerPort}`));
    expect(conf).toMatch(new RegExp(`^\\s*listen ${model.loadBalancer!.port};$`, 'm'));
    expect(conf).toMatch(/^\s*proxy_pass k8s-apiserver;$/m);
    expect(conf).not.toMatch(/^\s*http\s*\{/m);
    expect(conf).not.toMatch(/include/);
  });

  test('only lb hosts get nginx.conf and the packaged nginx.service, with no unit file', () => {
    for (const b of s.result.cluster.bundles) {
      const lb = b.host.has('lb');
      expect([b.host.name, s.bundles.get(b.host.name)!.has(CONF)]).toEqual([b.host.name, lb]);
      const svc = b.services.find((x) => x.unit === 'nginx.service');
      expect([b.host.name, svc]).toEqual([b.host.name, lb ? expect.objectContaining({ binaries: ['/usr/sbin/nginx'], packaged: true }) : undefined]);
      expect(b.hasFile('/usr/lib/systemd/system/nginx.service')).toBe(false);
    }
  });
});

function model(def: ClusterDefinition): ClusterModel {
  return ClusterModel.fromDefinition(def);
}

describe('the stream module', () => {
  test('load_module comes first when loadStreamModule is on (the default), and is absent when off', () => {
    const on = renderNginxConf(model(SEED)).split('\n').filter((l) => !l.startsWith('#'));
    expect(on[0]).toBe(`load_module ${DEBIAN_STREAM_MODULE};`);
    const off = renderNginxConf(model(withChanges(SEED, { loadBalancer: { ...SEED.loadBalancer, loadStreamModule: false } })));
    expect(off).not.toMatch(/load_module/);
    expect(off).toMatch(/^stream \{/m);
  });

  test('streamModulePath replaces the module file', () => {
    const conf = renderNginxConf(model(SEED), { streamModulePath: '/usr/lib64/nginx/modules/ngx_stream_module.so' });
    expect(conf).toMatch(/^load_module \/usr\/lib64\/nginx\/modules\/ngx_stream_module\.so;$/m);
    expect(() => renderNginxConf(model(SEED), { streamModulePath: 'modules/x.so; evil' })).toThrow(/absolute path/);
  });

  test('a cluster without a load balancer has no nginx config to render', () => {
    const noLb = withChanges(SEED, { loadBalancer: undefined, hosts: SEED.hosts.map((h) => ({ ...h, roles: h.roles.filter((r) => r !== 'lb') })) });
    expect(() => renderNginxConf(model(noLb))).toThrow(/no loadBalancer/);
  });
});

/** The config with its log and pid paths moved into `dir`, so nginx -t and a test run touch nothing else. */
function relocated(conf: string, dir: string): string {
  return conf.split('/var/log/nginx/').join(`${dir}/`).replace('/run/nginx.pid', `${dir}/nginx.pid`);
}

function nginxTest(conf: string): { status: number | null; output: string } {
  const dir = tempDir();
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, relocated(conf, dir));
  const r = spawnSync(NGINX, ['-t', '-c', file, '-e', path.join(dir, 'startup.log')], { encoding: 'utf8', timeout: 10000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('Debian nginx (skipped without /usr/sbin/nginx, libnginx-mod-stream and root)', () => {
  withNginx('nginx -t accepts the config of both clusters', () => {
    for (const def of [SEED, LARGE]) {
      const r = nginxTest(renderNginxConf(model(def)));
      expect(r).toEqual({ status: 0, output: expect.stringContaining('test is successful') });
    }
  });

  withNginx('without load_module, Debian nginx has no stream; including modules-enabled too would load it twice', () => {
    const off = renderNginxConf(model(withChanges(SEED, { loadBalancer: { ...SEED.loadBalancer, loadStreamModule: false } })));
    expect(nginxTest(off)).toEqual({ status: 1, output: expect.stringContaining('unknown directive "stream"') });
    const twice = `include /etc/nginx/modules-enabled/*.conf;\n${renderNginxConf(model(SEED))}`;
    expect(nginxTest(twice)).toEqual({ status: 1, output: expect.stringContaining('is already loaded') });
  });

  withNginx('a real nginx with the config proxies the lb port to an apiserver (all on loopback)', async () => {
    const dir = tempDir();
    const apiserver = net.createServer((c) => c.pipe(c)); // echoes, standing in for kube-apiserver
    await new Promise<void>((r) => apiserver.listen(0, '127.0.0.1', r));
    const apiPort = (apiserver.address() as net.AddressInfo).port;
    const lbPort = await freePort();
    const conf = relocated(renderNginxConf(model(SEED)), dir)
      .replace(/^(\s*)server \S+ (.*)$/gm, (_m, indent: string, rest: string) => `${indent}server 127.0.0.1:${apiPort} ${rest}`)
      .replace(/^(\s*)listen \d+;$/m, `$1listen 127.0.0.1:${lbPort};`);
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    const nginx = spawn(NGINX, ['-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'startup.log'), '-g', 'daemon off;'], { stdio: 'ignore' });
    try {
      await waitForPort(lbPort, 10000);
      expect(await roundTrip(lbPort, 'hello apiserver')).toBe('hello apiserver');
      const log = fs.readFileSync(path.join(dir, 'k8s-access.log'), 'utf8');
      expect(log).toMatch(new RegExp(`^127\\.0\\.0\\.1 127\\.0\\.0\\.1:${apiPort} - \\[`, 'm'));
    } finally {
      await stop(nginx);
      apiserver.close();
    }
  });
});

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => resolve(sock));
    sock.once('error', reject);
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      (await connect(port)).destroy();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs}ms: ${e}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function roundTrip(port: number, text: string): Promise<string> {
  const sock = await connect(port);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no answer within 5s')); }, 5000);
    let got = '';
    sock.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) { clearTimeout(timer); sock.destroy(); resolve(got); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.write(text);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
