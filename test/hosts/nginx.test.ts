import { ClusterDefinition, ClusterModel } from '../../lib';
import { NGINX_CONF, renderNginxConf } from '../../hosts';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { synthBundles, SynthesizedBundles } from '../support/synth-bundles';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const CONF = NGINX_CONF.slice(1);
const DEBIAN_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

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

  test('loadBalancer.streamModulePath replaces the module file', () => {
    const rhel = (streamModulePath: string) => withChanges(SEED, { loadBalancer: { ...SEED.loadBalancer, streamModulePath } });
    const conf = renderNginxConf(model(rhel('/usr/lib64/nginx/modules/ngx_stream_module.so')));
    expect(conf).toMatch(/^load_module \/usr\/lib64\/nginx\/modules\/ngx_stream_module\.so;$/m);
    expect(() => model(rhel('modules/x.so; evil'))).toThrow(/loadBalancer\.streamModulePath: "modules\/x\.so; evil" is not an absolute file path/);
  });

  test('a cluster without a load balancer has no nginx config to render', () => {
    const noLb = withChanges(SEED, { loadBalancer: undefined, hosts: SEED.hosts.map((h) => ({ ...h, roles: h.roles.filter((r) => r !== 'lb') })) });
    expect(() => renderNginxConf(model(noLb))).toThrow(/no loadBalancer/);
  });
});

// nginx -t on every lb host's config, the stream module on Debian's nginx, and proxying for real: test/real/load-balancer.test.ts.
