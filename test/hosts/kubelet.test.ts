import { parse } from 'yaml';
import { KUBELET } from '../../hosts';
import { certPath } from '../../lib/pki';
import { PATHS } from '../../lib/model';
import { LARGE, SEED, withChanges } from '../support/clusters';
import {
  decodeBase64, ecdsa, flagMap, mustFileText, parseKubeconfig, snapshotFiles, synth, Synthesized,
} from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const FILES = [KUBELET.optionFile, KUBELET.config, KUBELET.bootstrapKubeconfig, `${PATHS.systemdUnits}/${KUBELET.unit}`];

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Synthesized;
  beforeAll(async () => { s = await synth(ecdsa(def)); });

  test('emitted files', () => {
    expect(snapshotFiles(s.result, FILES)).toMatchSnapshot();
  });

  test('nodes and masters, and only they, run kubelet', () => {
    const { model, cluster } = s.result;
    for (const b of cluster.bundles) {
      const has = b.host.has('node') || b.host.has('master');
      expect([b.host.name, b.services.some((x) => x.unit === KUBELET.unit)]).toEqual([b.host.name, has]);
      expect([b.host.name, b.hasFile(KUBELET.config), b.hasFile(KUBELET.bootstrapKubeconfig)]).toEqual([b.host.name, has, has]);
    }
    expect(model.nodes.length).toBeGreaterThan(0);
  });

  test('KubeletConfiguration: cluster DNS, domain, webhook auth with the cluster CA, containerd endpoint', () => {
    const { model } = s.result;
    for (const node of [...model.nodes, ...model.masters]) {
      const config = parse(mustFileText(s.result, node.name, KUBELET.config));
      expect(config.apiVersion).toBe('kubelet.config.k8s.io/v1beta1');
      expect(config.kind).toBe('KubeletConfiguration');
      expect(config.clusterDNS).toEqual([model.network.clusterDns]);
      expect(config.clusterDomain).toBe(model.network.dnsDomain);
      expect(config.address).toBe(node.ip);
      expect(config.readOnlyPort).toBe(0);
      expect(config.authentication).toEqual({
        anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: certPath('kubernetes-ca') },
      });
      expect(config.authorization).toEqual({ mode: 'Webhook' });
      expect(config.containerRuntimeEndpoint).toBe('unix:///run/containerd/containerd.sock');
      expect(config.cgroupDriver).toBe('systemd');
      expect(config.rotateCertificates).toBe(true);
    }
  });

  test('the kubelet names itself after the host and bootstraps with the cluster bootstrap token through the apiserver endpoint', () => {
    const { model, pki, cluster } = s.result;
    for (const node of [...model.nodes, ...model.masters]) {
      const flags = flagMap(mustFileText(s.result, node.name, KUBELET.optionFile));
      expect(flags.get('hostname-override')).toBe(node.name);
      expect(flags.get('node-ip')).toBe(node.ip);
      expect(flags.get('bootstrap-kubeconfig')).toBe(KUBELET.bootstrapKubeconfig);
      expect(flags.get('kubeconfig')).toBe(KUBELET.kubeconfig);
      const kc = parseKubeconfig(mustFileText(s.result, node.name, KUBELET.bootstrapKubeconfig));
      expect(kc.clusters[0].cluster.server).toBe(model.apiServerEndpoint);
      expect(decodeBase64(kc.clusters[0].cluster['certificate-authority-data']!)).toBe(pki.ca('kubernetes-ca').certPem);
      expect(kc.users).toEqual([{ name: 'kubelet-bootstrap', user: { token: cluster.secrets.bootstrapToken.token } }]);
      expect(cluster.secrets.bootstrapToken.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    }
  });

  test('the bootstrap kubeconfig (holds the token) is readable by root only', () => {
    for (const b of s.result.cluster.bundles.filter((x) => x.hasFile(KUBELET.bootstrapKubeconfig))) {
      expect(b.files.find((f) => `/${f.path}` === KUBELET.bootstrapKubeconfig)!.mode).toBe(0o600);
    }
  });

  test('kubelet starts after containerd and requires it', () => {
    const unit = mustFileText(s.result, s.result.model.nodes[0].name, `${PATHS.systemdUnits}/${KUBELET.unit}`);
    expect(unit).toContain('After=containerd.service');
    expect(unit).toContain('Requires=containerd.service');
  });

  test('masters register with the control-plane NoSchedule taint; nodes with none', () => {
    for (const host of [...s.result.model.nodes, ...s.result.model.masters]) {
      const config = parse(mustFileText(s.result, host.name, KUBELET.config));
      const tainted = host.has('master') && !host.has('node');
      expect([host.name, config.registerWithTaints]).toEqual([host.name, tainted ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : undefined]);
    }
  });
});

test('a master that also has the node role takes pods: no taint; the other master keeps it', async () => {
  const def = withChanges(ecdsa(SEED), {
    hosts: SEED.hosts.map((h) => (h.name === 'k8s1' ? { ...h, roles: [...h.roles, 'node'] } : h)),
  });
  const s = await synth(def);
  const units = (host: string) => s.result.cluster.bundle(host).services.map((x) => x.unit);
  for (const m of ['k8s1', 'k8s2']) expect(units(m)).toEqual(expect.arrayContaining(['kube-apiserver.service', 'kubelet.service', 'kube-proxy.service']));
  const taints = (host: string) => parse(mustFileText(s.result, host, KUBELET.config)).registerWithTaints;
  expect(taints('k8s1')).toBeUndefined();
  expect(taints('k8s2')).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
});
