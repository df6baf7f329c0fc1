import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FLANNEL_NETWORK_CONFIG_KEY } from '../../hosts';
import { ClusterDefinition } from '../../lib';
import { componentSpec } from '../../lib/components';
import { Cluster, renderEnvironmentFile } from '../../lib/components';
import { PATHS } from '../../lib/model';
import { ETCD_FILES, Etcd, NETWORK_CONFIG_ATTEMPTS } from '../../hosts/etcd';
import { LARGE, withChanges } from '../support/clusters';
import {
  SEED_ECDSA, componentCluster, emittedFiles, fileText, parseEnvironmentFile, unitValue,
} from '../support/component-cluster';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

/**
 * Variables documented for both etcd v3.4 and v3.5 (etcd-io/website content/en/docs/v3.4 and
 * v3.5 op-guide/configuration.md) that kubesmith may set.
 */
const VALID_IN_3_4_AND_3_5 = new Set([
  'ETCD_NAME', 'ETCD_DATA_DIR', 'ETCD_LISTEN_PEER_URLS', 'ETCD_LISTEN_CLIENT_URLS',
  'ETCD_INITIAL_ADVERTISE_PEER_URLS', 'ETCD_ADVERTISE_CLIENT_URLS', 'ETCD_INITIAL_CLUSTER',
  'ETCD_INITIAL_CLUSTER_TOKEN', 'ETCD_INITIAL_CLUSTER_STATE',
  'ETCD_CERT_FILE', 'ETCD_KEY_FILE', 'ETCD_TRUSTED_CA_FILE', 'ETCD_CLIENT_CERT_AUTH',
  'ETCD_PEER_CERT_FILE', 'ETCD_PEER_KEY_FILE', 'ETCD_PEER_TRUSTED_CA_FILE', 'ETCD_PEER_CLIENT_CERT_AUTH',
  'ETCD_LOGGER', 'ETCD_LOG_LEVEL', 'ETCD_LOG_OUTPUTS',
]);

async function etcdCluster(def: ClusterDefinition): Promise<Cluster> {
  return componentCluster(def, (c) => new Etcd(c, 'etcd'));
}

function etcdVars(cluster: Cluster, host: string): Map<string, string> {
  return new Map(parseEnvironmentFile(fileText(cluster.bundle(host), ETCD_FILES.environment)));
}

describe.each([['seed', SEED_ECDSA], ['large', LARGE]])('%s cluster', (_name, def) => {
  let cluster: Cluster;
  beforeAll(async () => { cluster = await etcdCluster(def); });

  test('emitted files and services', () => {
    expect(Object.fromEntries(cluster.bundles.map((b) => [b.host.name, { files: emittedFiles(b), services: b.services }])))
      .toMatchSnapshot();
  });

  test('every etcd member gets its environment file, unit and etcdctl settings; no other host does', () => {
    const members = cluster.model.etcdMembers.map((h) => h.name);
    expect(members.length).toBeGreaterThan(0);
    for (const b of cluster.bundles) {
      const isMember = members.includes(b.host.name);
      for (const f of [ETCD_FILES.environment, ETCD_FILES.unit, ETCD_FILES.etcdctlEnvironment]) {
        expect([b.host.name, f, b.hasFile(f)]).toEqual([b.host.name, f, isMember]);
      }
      expect(b.services.some((s) => s.unit === 'etcd.service')).toBe(isMember);
      if (!isMember) expect(Object.keys(emittedFiles(b))).toEqual([]);
    }
  });

  test('ETCD_INITIAL_CLUSTER lists every member with the peer URL it advertises', () => {
    const members = cluster.model.etcdMembers;
    for (const m of members) {
      const vars = etcdVars(cluster, m.name);
      const initial = vars.get('ETCD_INITIAL_CLUSTER')!.split(',');
      expect(initial).toEqual(members.map((x) => `${x.name}=https://${x.ip}:2380`));
      expect(vars.get('ETCD_NAME')).toBe(m.name);
      expect(initial).toContain(`${vars.get('ETCD_NAME')}=${vars.get('ETCD_INITIAL_ADVERTISE_PEER_URLS')}`);
      expect(vars.get('ETCD_LISTEN_PEER_URLS')).toBe(`https://${m.ip}:2380`);
      expect(vars.get('ETCD_LISTEN_CLIENT_URLS')).toBe(`https://${m.ip}:2379,https://127.0.0.1:2379`);
      expect(vars.get('ETCD_ADVERTISE_CLIENT_URLS')).toBe(`https://${m.ip}:2379`);
      expect(vars.get('ETCD_INITIAL_CLUSTER_STATE')).toBe('new');
      expect(vars.get('ETCD_INITIAL_CLUSTER_TOKEN')).toBe(`${def.name}-etcd`);
      expect(vars.get('ETCD_DATA_DIR')).toBe(PATHS.etcdData);
      expect(vars.get('ETCD_CLIENT_CERT_AUTH')).toBe('true');
      expect(vars.get('ETCD_PEER_CLIENT_CERT_AUTH')).toBe('true');
    }
  });

  test('the environment file holds unique ETCD_ variables valid in 3.4 and 3.5; ExecStart has no flags', () => {
    for (const m of cluster.model.etcdMembers) {
      const bundle = cluster.bundle(m.name);
      const names = parseEnvironmentFile(fileText(bundle, ETCD_FILES.environment)).map(([n]) => n);
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect([n, VALID_IN_3_4_AND_3_5.has(n)]).toEqual([n, true]);
      const unit = fileText(bundle, ETCD_FILES.unit);
      expect(unitValue(unit, 'Service', 'ExecStart')).toEqual([ETCD_FILES.etcd]);
      expect(unit).not.toMatch(/ --?[a-z]/);
      expect(unitValue(unit, 'Service', 'EnvironmentFile')).toEqual([ETCD_FILES.environment]);
      expect(unitValue(unit, 'Service', 'Type')).toEqual(['notify']);
      expect(unitValue(unit, 'Service', 'Restart')).toEqual(['on-failure']);
      expect(unitValue(unit, 'Service', 'LimitNOFILE')).toEqual(['65536']);
      expect(unitValue(unit, 'Unit', 'Wants')).toEqual(['network-online.target']);
      expect(unitValue(unit, 'Unit', 'After')).toEqual(['network-online.target']);
    }
  });

  test('TLS files of etcd and etcdctl are in the same bundle', () => {
    for (const m of cluster.model.etcdMembers) {
      const bundle = cluster.bundle(m.name);
      const tls = [
        ...parseEnvironmentFile(fileText(bundle, ETCD_FILES.environment)).filter(([n]) => n.endsWith('_FILE')),
        ...parseEnvironmentFile(fileText(bundle, ETCD_FILES.etcdctlEnvironment)).filter(([n]) => /CACERT|CERT|KEY/.test(n)),
      ];
      expect(tls.length).toBe(9);
      for (const [name, file] of tls) expect([m.name, name, file, bundle.hasFile(file)]).toEqual([m.name, name, file, true]);
    }
  });

  test('etcdctl settings name every member', () => {
    for (const m of cluster.model.etcdMembers) {
      const vars = new Map(parseEnvironmentFile(fileText(cluster.bundle(m.name), ETCD_FILES.etcdctlEnvironment)));
      expect(vars.get('ETCDCTL_API')).toBe('3');
      expect(vars.get('ETCDCTL_ENDPOINTS')!.split(',')).toEqual(cluster.model.etcdMembers.map((x) => `https://${x.ip}:2379`));
    }
  });

  test('only the first etcd member writes the flannel network config, after etcd', () => {
    const [first, ...others] = cluster.model.etcdMembers;
    const bundle = cluster.bundle(first.name);
    expect(bundle.hasFile(ETCD_FILES.networkConfigScript)).toBe(true);
    expect(bundle.files.find((f) => `/${f.path}` === ETCD_FILES.networkConfigScript)!.mode).toBe(0o755);
    const unit = fileText(bundle, ETCD_FILES.networkConfigUnit);
    expect(unitValue(unit, 'Unit', 'After')).toEqual(['etcd.service']);
    expect(unitValue(unit, 'Unit', 'Requires')).toEqual(['etcd.service']);
    expect(unitValue(unit, 'Service', 'Type')).toEqual(['oneshot']);
    expect(unitValue(unit, 'Service', 'ExecStart')).toEqual([ETCD_FILES.networkConfigScript]);
    const service = bundle.services.find((s) => s.unit === 'flannel-network-config.service')!;
    expect(service.order).toBe(componentSpec('flannel-network-config').order);
    expect(service.order).toBeGreaterThan(componentSpec('etcd').order);
    expect(service.order).toBeLessThan(componentSpec('flanneld').order);
    for (const b of cluster.bundles.filter((x) => x.host.name !== first.name)) {
      expect([b.host.name, b.hasFile(ETCD_FILES.networkConfigScript), b.hasFile(ETCD_FILES.networkConfigUnit)]).toEqual([b.host.name, false, false]);
      expect(b.services.map((s) => s.unit)).not.toContain('flannel-network-config.service');
    }
    expect(others.length).toBe(cluster.model.etcdMembers.length - 1);
  });

  test('the network config is the pod CIDR and the backend of the definition, for the v3 API', () => {
    const script = fileText(cluster.bundle(cluster.model.etcdMembers[0].name), ETCD_FILES.networkConfigScript);
    const value = /^VALUE='(.*)'$/m.exec(script)![1];
    expect(JSON.parse(value)).toEqual({ Network: def.network.podCidr, Backend: { Type: def.network.flannelBackend } });
    expect(script).toContain(`KEY=${FLANNEL_NETWORK_CONFIG_KEY}`);
    expect(FLANNEL_NETWORK_CONFIG_KEY).toBe('/coreos.com/network/config');
    expect(script).not.toMatch(/etcdctl[^\n]* set /);
  });
});

describe('flannel-network-config.sh', () => {
  let script: string;
  let etcdctlEnv: string;
  beforeAll(async () => {
    const cluster = await etcdCluster(SEED_ECDSA);
    const bundle = cluster.bundle('k8s1');
    script = fileText(bundle, ETCD_FILES.networkConfigScript);
    etcdctlEnv = fileText(bundle, ETCD_FILES.etcdctlEnvironment);
  });

  /** A fake etcdctl keeping one value in a file; it fails while <dir>/down counts down. */
  function setup(): string {
    const dir = tempDir('kubesmith-netconf-');
    fs.writeFileSync(path.join(dir, 'etcdctl.env'), etcdctlEnv);
    fs.writeFileSync(path.join(dir, 'etcdctl'), [
      '#!/bin/sh',
      'D=$(dirname "$0")',
      '[ "$ETCDCTL_API" = 3 ] && [ -n "$ETCDCTL_ENDPOINTS" ] && [ -n "$ETCDCTL_CERT" ] || { echo "etcdctl settings not loaded" >&2; exit 2; }',
      'echo "$*" >> "$D/calls"',
      'if [ -f "$D/down" ]; then n=$(cat "$D/down"); if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$D/down"; echo "context deadline exceeded" >&2; exit 1; fi; fi',
      'case "$1" in',
      '  get) [ "$2" = --print-value-only ] || exit 3; if [ -f "$D/value" ]; then cat "$D/value"; fi ;;',
      '  put) printf "%s\\n" "$3" > "$D/value"; echo OK ;;',
      '  *) exit 4 ;;',
      'esac',
      '',
    ].join('\n'), { mode: 0o755 });
    const local = script
      .split(ETCD_FILES.etcdctlEnvironment).join(path.join(dir, 'etcdctl.env'))
      .split(ETCD_FILES.etcdctl).join(path.join(dir, 'etcdctl'))
      .replace('sleep 5', 'sleep 0');
    fs.writeFileSync(path.join(dir, 'run.sh'), local, { mode: 0o755 });
    return dir;
  }

  const run = (dir: string) => spawnSync('sh', [path.join(dir, 'run.sh')], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  const calls = (dir: string) => fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
  const expected = '{"Network":"172.20.0.0/16","Backend":{"Type":"vxlan"}}';

  test('writes the config when etcd has none, then leaves it alone', () => {
    const dir = setup();
    const first = run(dir);
    expect(first.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'value'), 'utf8')).toBe(`${expected}\n`);
    expect(calls(dir)).toEqual(['get', 'put']);
    const second = run(dir);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('up to date');
    expect(calls(dir)).toEqual(['get', 'put', 'get']);
  });

  test('replaces a different config', () => {
    const dir = setup();
    fs.writeFileSync(path.join(dir, 'value'), '{"Network":"10.1.0.0/16","Backend":{"Type":"udp"}}\n');
    expect(run(dir).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'value'), 'utf8')).toBe(`${expected}\n`);
  });

  test('retries while etcd does not answer, and gives up after the attempts', () => {
    const dir = setup();
    fs.writeFileSync(path.join(dir, 'down'), '2');
    expect(run(dir).status).toBe(0);
    expect(calls(dir)).toEqual(['get', 'get', 'get', 'put']);

    const dead = setup();
    fs.writeFileSync(path.join(dead, 'down'), '100');
    const r = run(dead);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`after ${NETWORK_CONFIG_ATTEMPTS} attempts`);
    expect(calls(dead)).toEqual(Array(NETWORK_CONFIG_ATTEMPTS).fill('get'));
    expect(fs.existsSync(path.join(dead, 'value'))).toBe(false);
  });
});

describe('options', () => {
  test('the initial cluster token is derived from the cluster name, so members of different clusters never join each other', async () => {
    const cluster = await etcdCluster(withChanges(SEED_ECDSA, { name: 'blue' }));
    expect(etcdVars(cluster, 'k8s2').get('ETCD_INITIAL_CLUSTER_TOKEN')).toBe('blue-etcd');
  });

  test('a single member is a cluster of one', async () => {
    const def = withChanges(SEED_ECDSA, {
      hosts: SEED_ECDSA.hosts.map((h) => ({ ...h, roles: h.roles.filter((r) => r !== 'etcd' || h.name === 'k8s3') })),
    });
    const cluster = await etcdCluster(def);
    expect(etcdVars(cluster, 'k8s3').get('ETCD_INITIAL_CLUSTER')).toBe('k8s3=https://192.168.100.30:2380');
    expect(cluster.bundle('k8s3').hasFile(ETCD_FILES.networkConfigUnit)).toBe(true);
    expect(cluster.bundle('k8s1').hasFile(ETCD_FILES.environment)).toBe(false);
  });
});

describe('renderEnvironmentFile', () => {
  test('quotes values and keeps section comments', () => {
    expect(renderEnvironmentFile([{ comment: '[A]', variables: [['X', '1']] }, { variables: [['Y', 'a,b']] }]))
      .toBe('#[A]\nX="1"\n\nY="a,b"\n');
  });

  test('refuses a variable set twice, a bad name, and values needing escapes', () => {
    expect(() => renderEnvironmentFile([{ variables: [['X', '1']] }, { variables: [['X', '2']] }])).toThrow('X is set twice');
    expect(() => renderEnvironmentFile([{ variables: [['x-y', '1']] }])).toThrow('not an environment variable name');
    for (const v of ['a"b', 'a$b', 'a\\b', 'a`b', 'a\nb']) {
      expect(() => renderEnvironmentFile([{ variables: [['X', v]] }])).toThrow('cannot be written unescaped');
    }
  });
});
