import { ClusterDefinition } from '../../lib';
import { Cluster, renderEnvironmentFile } from '../../lib/components';
import { PATHS } from '../../lib/model';
import { ETCD_FILES, Etcd } from '../../hosts/etcd';
import { LARGE, withChanges } from '../support/clusters';
import {
  SEED_ECDSA, componentCluster, emittedFiles, fileText, parseEnvironmentFile, unitValue,
} from '../support/component-cluster';
import { cleanupTempDirs } from '../support/tmp';

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
      // The rebuild's rejoin mark, read after the environment file when it exists.
      expect(unitValue(unit, 'Service', 'EnvironmentFile')).toEqual([ETCD_FILES.environment, `-${ETCD_FILES.rejoin}`]);
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

  test('etcd holds no flannel state, and only etcd members and masters hold an etcd credential', () => {
    // flanneld uses the Kubernetes subnet manager: a node's subnet is its Node's podCIDR.
    for (const b of cluster.bundles) {
      const etcdFiles = b.files.map((f) => `/${f.path}`).filter((f) => f.startsWith(`${PATHS.etcdSsl}/`));
      const holds = b.host.has('etcd') || b.host.has('master');
      expect([b.host.name, etcdFiles.length > 0]).toEqual([b.host.name, holds]);
      expect(b.services.map((s) => s.unit)).not.toContain('flannel-network-config.service');
      for (const f of b.files) expect([b.host.name, f.path, /coreos\.com\/network/.test(f.content.toString())]).toEqual([b.host.name, f.path, false]);
    }
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
    expect(cluster.bundle('k8s3').hasFile(ETCD_FILES.unit)).toBe(true);
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
