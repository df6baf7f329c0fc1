import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ClusterModel } from '../../lib';
import { CHECK_NGINX_SCRIPT, KEEPALIVED_CONF, renderCheckScript, renderKeepalivedConf, vrrpPriorities } from '../../hosts';
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
    const masks = secretMasks(new Map(), s.result.cluster.secrets);
    const files = Object.fromEntries(s.result.model.lbHosts.map((h) => [h.name, {
      [CONF]: maskSecrets(s.text(h.name, CONF), masks),
      [CHECK]: s.text(h.name, CHECK),
    }]));
    for (const f of Object.values(files)) expect(f[CONF]).toMatch(/auth_pass <keepalived-auth-pass>$/m);
    expect(files).toMatchSnapshot();
  });

  test('the first lb host is MASTER at 100, the others BACKUP at distinct lower priorities; one VRID, one password', () => {
    const { model, cluster } = s.result;
    const lb = model.lbHosts;
    const vrrp = lb.map((h) => parseVrrp(s.text(h.name, CONF)));
    expect(vrrp.map((v) => v.state)).toEqual(['MASTER', ...lb.slice(1).map(() => 'BACKUP')]);
    expect(vrrp[0].priority).toBe(100);
    for (let i = 1; i < vrrp.length; i++) expect(vrrp[i].priority).toBeLessThan(vrrp[i - 1].priority);
    expect(new Set(vrrp.map((v) => v.virtualRouterId))).toEqual(new Set([String(model.loadBalancer!.virtualRouterId)]));
    expect(new Set(vrrp.map((v) => v.authPass))).toEqual(new Set([cluster.secrets.keepalivedAuthPass]));
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

// keepalived -t on every lb host's config and the VIP failover with real keepalived and nginx: test/real/load-balancer.test.ts.
