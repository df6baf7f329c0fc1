import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ClusterModel } from '../../lib';
import { CHECK_NGINX_SCRIPT, KEEPALIVED_CONF, renderCheckScript, renderKeepalivedConf, renderNginxConf, vrrpPriorities } from '../../hosts';
import { maskSecrets, secretMasks } from '../support/bundle-listing';
import { LARGE, SEED } from '../support/clusters';
import { synthBundles, SynthesizedBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const CONF = KEEPALIVED_CONF.slice(1);
const CHECK = CHECK_NGINX_SCRIPT.slice(1);

interface Vrrp {
  state: string; interface: string; virtualRouterId: string; priority: number; authPass: string; vips: string[]; tracks: string[];
}

/** The fields of the one vrrp_instance that matter, read back from the text. */
function parseVrrp(conf: string): Vrrp {
  const instances = conf.match(/^vrrp_instance /gm) ?? [];
  expect(instances).toHaveLength(1);
  const inst = conf.slice(conf.indexOf('vrrp_instance VI_1 {'));
  const one = (key: string) => {
    const all = [...inst.matchAll(new RegExp(`^\\s*${key} (\\S+)$`, 'gm'))];
    expect([key, all.length]).toEqual([key, 1]);
    return all[0][1];
  };
  const block = (name: string) => inst.match(new RegExp(`${name} \\{\\n([^}]*)\\}`))![1].trim().split('\n').map((l) => l.trim());
  return {
    state: one('state'), interface: one('interface'), virtualRouterId: one('virtual_router_id'), priority: Number(one('priority')),
    authPass: one('auth_pass'), vips: block('virtual_ipaddress'), tracks: block('track_script'),
  };
}

describe.each([['seed', SEED], ['large', LARGE]] as const)('%s cluster', (_name, def) => {
  let s: SynthesizedBundles;
  beforeAll(async () => { s = await synthBundles(def); });

  test('keepalived.conf and check_nginx.sh (auth_pass masked)', () => {
    const masks = secretMasks(new Map(), s.result.pki);
    const files = Object.fromEntries(s.result.model.lbHosts.map((h) => [h.name, {
      [CONF]: maskSecrets(s.text(h.name, CONF), masks),
      [CHECK]: s.text(h.name, CHECK),
    }]));
    for (const f of Object.values(files)) expect(f[CONF]).toMatch(/auth_pass <keepalived-auth-pass>$/m);
    expect(files).toMatchSnapshot();
  });

  test('the first lb host is MASTER at 100, the others BACKUP at distinct lower priorities; one VRID, one password', () => {
    const { model, pki } = s.result;
    const lb = model.lbHosts;
    const vrrp = lb.map((h) => parseVrrp(s.text(h.name, CONF)));
    expect(vrrp.map((v) => v.state)).toEqual(['MASTER', ...lb.slice(1).map(() => 'BACKUP')]);
    expect(vrrp[0].priority).toBe(100);
    for (let i = 1; i < vrrp.length; i++) expect(vrrp[i].priority).toBeLessThan(vrrp[i - 1].priority);
    expect(new Set(vrrp.map((v) => v.virtualRouterId))).toEqual(new Set([String(model.loadBalancer!.virtualRouterId)]));
    expect(new Set(vrrp.map((v) => v.authPass))).toEqual(new Set([pki.secrets.keepalivedAuthPass]));
    const pass = vrrp[0].authPass;
    expect(pass).not.toBe('1111');
    expect(pass).toMatch(/^[A-Za-z0-9]{1,8}$/);
    lb.forEach((h, i) => {
      expect(vrrp[i].interface).toBe(h.interface);
      expect(vrrp[i].vips).toEqual([`${model.loadBalancer!.vip}/${model.loadBalancer!.prefix} dev ${h.interface}`]);
      expect(vrrp[i].tracks).toEqual(['check_nginx']);
      expect(s.text(h.name, CONF)).toMatch(new RegExp(`^\\s*router_id ${h.name}$`, 'm'));
    });
  });

  test('a failing check makes the VIP move: the script has no weight, so the instance goes to FAULT', () => {
    const conf = s.text(s.result.model.lbHosts[0].name, CONF);
    const script = conf.match(/vrrp_script check_nginx \{([^}]*)\}/)![1];
    expect(script).toMatch(new RegExp(`^\\s*script "${CHECK_NGINX_SCRIPT}"$`, 'm'));
    expect(script).not.toMatch(/^\s*weight/m);
    expect(conf).not.toMatch(/nopreempt/); // the VIP returns to the first host once its nginx answers
    expect(conf).toMatch(/^\s*enable_script_security$/m);
  });

  test('files, modes and the packaged keepalived.service on lb hosts only', () => {
    for (const b of s.result.cluster.bundles) {
      const entries = s.bundles.get(b.host.name)!;
      const lb = b.host.has('lb');
      expect([b.host.name, entries.get(CONF)?.mode, entries.get(CHECK)?.mode]).toEqual(
        [b.host.name, lb ? 0o600 : undefined, lb ? 0o755 : undefined]);
      const svc = b.services.find((x) => x.unit === 'keepalived.service');
      expect([b.host.name, svc]).toEqual([b.host.name, lb ? expect.objectContaining({ binaries: ['/usr/sbin/keepalived'], packaged: true }) : undefined]);
    }
  });

  test('the password persists: re-synthesizing from the same state writes the same keepalived.conf', async () => {
    const again = await synthBundles(def, s.dir);
    for (const h of s.result.model.lbHosts) expect(again.text(h.name, CONF)).toBe(s.text(h.name, CONF));
    expect(again.result.bundles.written).toEqual([]);
  });
});

describe('priorities', () => {
  test.each([1, 2, 3, 10, 11, 37, 100])('%i lb hosts: 100 first, strictly decreasing, all valid VRRP priorities', (n) => {
    const p = vrrpPriorities(n);
    expect(p).toHaveLength(n);
    expect(p[0]).toBe(100);
    for (let i = 1; i < n; i++) expect(p[i]).toBeLessThan(p[i - 1]);
    expect(Math.min(...p)).toBeGreaterThanOrEqual(1);
  });

  test('more than 100 lb hosts is refused', () => {
    expect(() => vrrpPriorities(101)).toThrow(/at most 100/);
  });

  test('a bad password or a host without the lb role is refused', () => {
    const model = ClusterModel.fromDefinition(SEED);
    expect(() => renderKeepalivedConf(model, model.lbHosts[0], '123456789')).toThrow(/auth_pass/);
    expect(() => renderKeepalivedConf(model, model.host('k8s4'), 'abcd1234')).toThrow(/no lb role/);
  });
});

function runCheck(script: string): number | null {
  const r = spawnSync('bash', [script], { timeout: 10000 });
  if (r.error) throw r.error;
  return r.status;
}

describe('check_nginx.sh, run for real against a loopback port', () => {
  test('exits 0 while something listens on the port and non-zero once it is gone', async () => {
    const srv = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as net.AddressInfo;
    const file = path.join(tempDir(), 'check_nginx.sh');
    fs.writeFileSync(file, renderCheckScript(port), { mode: 0o755 });
    try {
      expect(runCheck(file)).toBe(0);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
    expect(runCheck(file)).not.toBe(0);
  });

  test('the script bounds its wait with timeout, needs only bash, and refuses a bad port', () => {
    expect(renderCheckScript(6444).split('\n')[0]).toBe('#!/bin/bash');
    expect(renderCheckScript(6444)).toMatch(/^exec timeout 2 bash -c '<\/dev\/tcp\/127\.0\.0\.1\/6444' 2>\/dev\/null$/m);
    expect(() => renderCheckScript(70000)).toThrow(/not a port/);
  });
});

const KEEPALIVED = '/usr/sbin/keepalived';
/** A non-loopback interface of this machine: keepalived -t refuses interfaces that do not exist and lo. */
const iface = (() => {
  try {
    return fs.readdirSync('/sys/class/net').filter((n) => n !== 'lo').sort()[0];
  } catch {
    return undefined;
  }
})();
const haveKeepalived = fs.existsSync(KEEPALIVED) && iface !== undefined && process.getuid?.() === 0;

(haveKeepalived ? test : test.skip)('keepalived -t accepts the config of every lb host (skipped without keepalived, an interface and root)', async () => {
  for (const def of [SEED, LARGE]) {
    const onThisMachine = { ...def, hosts: def.hosts.map((h) => ({ ...h, interface: iface })) };
    const model = ClusterModel.fromDefinition(onThisMachine);
    for (const host of model.lbHosts) {
      const dir = tempDir(); // 0700, owned by root: passes enable_script_security
      const script = path.join(dir, 'check_nginx.sh');
      fs.writeFileSync(script, renderCheckScript(model.loadBalancer!.port), { mode: 0o755 });
      const conf = path.join(dir, 'keepalived.conf');
      fs.writeFileSync(conf, renderKeepalivedConf(model, host, 'Ab3dE6gH').replace(CHECK_NGINX_SCRIPT, script));
      const r = spawnSync(KEEPALIVED, ['-t', '-f', conf], { encoding: 'utf8', timeout: 10000 });
      expect([host.name, r.status, r.stderr]).toEqual([host.name, 0, '']);
    }
  }
  // The same check fails on a mistake, so it can fail.
  const dir = tempDir();
  const conf = path.join(dir, 'bad.conf');
  const model = ClusterModel.fromDefinition({ ...SEED, hosts: SEED.hosts.map((h) => ({ ...h, interface: iface })) });
  fs.writeFileSync(conf, renderKeepalivedConf(model, model.lbHosts[0], 'Ab3dE6gH').replace('advert_int', 'advert_intt'));
  expect(spawnSync(KEEPALIVED, ['-t', '-f', conf], { timeout: 10000 }).status).not.toBe(0);
});

/**
 * Two lb hosts as network namespaces joined by a veth pair, each running the real nginx and
 * keepalived with the rendered configs (logs, pids and the check script moved to temp dirs).
 */
const NGINX = '/usr/sbin/nginx';
const canFailover = haveKeepalived && fs.existsSync(NGINX) && fs.existsSync('/usr/lib/nginx/modules/ngx_stream_module.so')
  && spawnSync('ip', ['netns', 'list'], { timeout: 5000 }).status === 0;

(canFailover ? describe : describe.skip)('VIP failover with real keepalived and nginx in two netns (skipped without them, ip netns and root)', () => {
  const ns = [`kslb${process.pid}a`, `kslb${process.pid}b`];
  const children: ChildProcess[] = [];
  const nginxOf = new Map<string, ChildProcess>();
  const model = ClusterModel.fromDefinition({
    name: 'failover', kubernetesVersion: '1.27.16',
    hosts: [
      { name: 'lb1', ip: '10.231.0.1', interface: 'kaeth', roles: ['master', 'etcd', 'lb'] },
      { name: 'lb2', ip: '10.231.0.2', interface: 'kaeth', roles: ['master', 'etcd', 'lb'] },
      { name: 'n1', ip: '10.231.0.3', interface: 'kaeth', roles: ['node', 'etcd'] },
    ],
    loadBalancer: { vip: '10.231.0.50/24', port: 6444 },
    network: { serviceCidr: '10.0.0.0/24', podCidr: '172.20.0.0/16' },
  });
  const dirs = ns.map(() => tempDir());

  const ip = (...args: string[]) => {
    const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10000 });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const holder = () => ns.filter((n) => ip('-n', n, '-4', 'addr', 'show', 'dev', 'kaeth').includes('10.231.0.50/24'));
  async function waitForHolder(expected: string[], timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (JSON.stringify(holder()) !== JSON.stringify(expected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(holder()).toEqual(expected);
  }
  function startNginx(i: number): void {
    const conf = path.join(dirs[i], 'nginx.conf');
    const child = spawn('ip', ['netns', 'exec', ns[i], NGINX, '-c', conf, '-e', path.join(dirs[i], 'startup.log'), '-g', 'daemon off;'], { stdio: 'ignore' });
    children.push(child);
    nginxOf.set(ns[i], child);
  }

  beforeAll(() => {
    ip('netns', 'add', ns[0]);
    ip('netns', 'add', ns[1]);
    ip('link', 'add', 'kaeth', 'netns', ns[0], 'type', 'veth', 'peer', 'name', 'kaeth', 'netns', ns[1]);
    model.lbHosts.forEach((h, i) => {
      ip('-n', ns[i], 'addr', 'add', `${h.ip}/24`, 'dev', 'kaeth');
      ip('-n', ns[i], 'link', 'set', 'lo', 'up');
      ip('-n', ns[i], 'link', 'set', 'kaeth', 'up');
      const d = dirs[i];
      fs.writeFileSync(path.join(d, 'nginx.conf'), renderNginxConf(model).split('/var/log/nginx/').join(`${d}/`).replace('/run/nginx.pid', `${d}/nginx.pid`));
      fs.writeFileSync(path.join(d, 'check_nginx.sh'), renderCheckScript(model.loadBalancer!.port), { mode: 0o755 });
      fs.writeFileSync(path.join(d, 'keepalived.conf'), renderKeepalivedConf(model, h, 'Ab3dE6gH').replace(CHECK_NGINX_SCRIPT, path.join(d, 'check_nginx.sh')));
      startNginx(i);
      children.push(spawn('ip', ['netns', 'exec', ns[i], KEEPALIVED, '--dont-fork', '--log-console', '-f', path.join(d, 'keepalived.conf'),
        '-p', path.join(d, 'keepalived.pid'), '-r', path.join(d, 'vrrp.pid'), '-c', path.join(d, 'checkers.pid')], { stdio: 'ignore' }));
    });
  });

  afterAll(async () => {
    await Promise.all(children.map(stop));
    for (const n of ns) spawnSync('ip', ['netns', 'del', n], { timeout: 10000 });
  });

  test('the first lb host takes the VIP; stopping its nginx moves the VIP to the backup; restarting it moves the VIP back', async () => {
    await waitForHolder([ns[0]]);
    await stop(nginxOf.get(ns[0])!);
    await waitForHolder([ns[1]]);
    startNginx(0);
    await waitForHolder([ns[0]]);
  }, 120000);
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
