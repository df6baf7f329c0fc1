import { parse } from 'yaml';
import { KUBE_APISERVER } from '../../hosts';
import { certPath } from '../../lib/pki';
import { PATHS } from '../../lib/model';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { ecdsa, flagMap, mustFileText, snapshotFiles, synth, Synthesized } from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const FILES = [KUBE_APISERVER.optionFile, KUBE_APISERVER.auditPolicy, KUBE_APISERVER.encryptionConfig, `${PATHS.systemdUnits}/${KUBE_APISERVER.unit}`];

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Synthesized;
  beforeAll(async () => { s = await synth(ecdsa(def)); });

  test('emitted files', () => {
    expect(snapshotFiles(s.result, FILES)).toMatchSnapshot();
  });

  test('every master, and only masters, runs kube-apiserver', () => {
    const { model, cluster } = s.result;
    const running = cluster.bundles.filter((b) => b.services.some((x) => x.unit === KUBE_APISERVER.unit)).map((b) => b.host.name);
    expect(running).toEqual(model.masters.map((h) => h.name));
    for (const b of cluster.bundles.filter((x) => x.host.has('master'))) {
      expect(b.services.find((x) => x.unit === KUBE_APISERVER.unit)).toEqual({
        unit: 'kube-apiserver.service', order: 40, binaries: ['/opt/kubernetes/bin/kube-apiserver'],
        source: `kubernetes-server-linux-amd64.tar.gz v${model.kubernetesVersion}, fetched by dist/fetch-binaries.sh`,
      });
    }
  });

  test('Secrets are encrypted at rest: secretbox with the state\'s keys (first writes), identity last, on masters only, 0600', () => {
    const { model, cluster } = s.result;
    const keys = cluster.secrets.encryptionKeys;
    expect(keys).toHaveLength(1);
    expect(Buffer.from(keys[0].secret, 'base64')).toHaveLength(32);
    for (const b of cluster.bundles) {
      const file = b.files.find((f) => `/${f.path}` === KUBE_APISERVER.encryptionConfig);
      expect([b.host.name, file?.mode]).toEqual([b.host.name, b.host.has('master') ? 0o600 : undefined]);
    }
    for (const m of model.masters) {
      expect(flagMap(mustFileText(s.result, m.name, KUBE_APISERVER.optionFile)).get('encryption-provider-config')).toBe(KUBE_APISERVER.encryptionConfig);
      expect(parse(mustFileText(s.result, m.name, KUBE_APISERVER.encryptionConfig))).toEqual({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'EncryptionConfiguration',
        resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: keys[0].name, secret: keys[0].secret }] } }, { identity: {} }] }],
      });
    }
  });

  test('--etcd-servers lists every etcd member, and the etcd client certificate', () => {
    const { model } = s.result;
    for (const m of model.masters) {
      const flags = flagMap(mustFileText(s.result, m.name, KUBE_APISERVER.optionFile));
      expect(flags.get('etcd-servers')!.split(',').sort())
        .toEqual(model.etcdMembers.map((h) => `https://${h.ip}:2379`).sort());
      expect(flags.get('etcd-certfile')).toBe(certPath('apiserver-etcd-client'));
    }
  });

  test('per-host address, cluster ranges and port come from the model', () => {
    const { model } = s.result;
    for (const m of model.masters) {
      const flags = flagMap(mustFileText(s.result, m.name, KUBE_APISERVER.optionFile));
      expect(flags.get('advertise-address')).toBe(m.ip);
      expect(flags.get('secure-port')).toBe(String(model.apiServerPort));
      expect(flags.get('service-cluster-ip-range')).toBe(model.network.serviceCidr.text);
      expect(flags.get('service-node-port-range')).toBe(`${model.network.nodePortRange.low}-${model.network.nodePortRange.high}`);
      expect(flags.get('service-account-issuer')).toBe(`https://kubernetes.default.svc.${model.network.dnsDomain}`);
      expect(flags.get('authorization-mode')).toBe('Node,RBAC');
      expect(flags.get('enable-bootstrap-token-auth')).toBe('true');
    }
  });

  test('the audit policy is a valid audit.k8s.io/v1 Policy ending in a catch-all Metadata rule', () => {
    const policy = parse(mustFileText(s.result, s.result.model.masters[0].name, KUBE_APISERVER.auditPolicy));
    expect(policy.apiVersion).toBe('audit.k8s.io/v1');
    expect(policy.kind).toBe('Policy');
    expect(policy.rules.at(-1)).toEqual({ level: 'Metadata' });
    expect(JSON.stringify(policy)).not.toMatch(/Request(Response)?"/);
  });
});

test('a master that is not an etcd member does not order itself after etcd.service', async () => {
  const def = withChanges(ecdsa(SEED), {
    hosts: SEED.hosts.map((h) => {
      if (h.name === 'k8s2') return { ...h, roles: ['master', 'lb'] };
      if (h.name === 'k8s4') return { ...h, roles: ['node', 'etcd'] };
      return h;
    }),
  });
  const s = await synth(def);
  expect(mustFileText(s.result, 'k8s1', `${PATHS.systemdUnits}/${KUBE_APISERVER.unit}`)).toContain('After=etcd.service');
  expect(mustFileText(s.result, 'k8s2', `${PATHS.systemdUnits}/${KUBE_APISERVER.unit}`)).not.toContain('etcd.service');
  expect(flagMap(mustFileText(s.result, 'k8s2', KUBE_APISERVER.optionFile)).get('etcd-servers'))
    .toBe('https://192.168.100.10:2379,https://192.168.100.30:2379,https://192.168.100.40:2379');
});
