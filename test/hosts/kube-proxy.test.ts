import { parse } from 'yaml';
import { KUBE_PROXY } from '../../hosts';
import { PATHS } from '../../lib/model';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { ecdsa, parseOptionFile, mustFileText, parseKubeconfig, snapshotFiles, synth, Synthesized } from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const FILES = [KUBE_PROXY.optionFile, KUBE_PROXY.config, KUBE_PROXY.kubeconfig, `${PATHS.systemdUnits}/${KUBE_PROXY.unit}`];

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Synthesized;
  beforeAll(async () => { s = await synth(ecdsa(def)); });

  test('emitted files', () => {
    expect(snapshotFiles(s.result, FILES)).toMatchSnapshot();
  });

  test('nodes and masters, and only they, run kube-proxy (the apiservers reach Services, masters run pods)', () => {
    for (const b of s.result.cluster.bundles) {
      expect([b.host.name, b.services.some((x) => x.unit === KUBE_PROXY.unit)]).toEqual([b.host.name, b.host.has('node') || b.host.has('master')]);
    }
  });

  test('clusterCIDR is the pod network (not the Service range); mode and node name from the model', () => {
    const { model } = s.result;
    for (const node of [...model.nodes, ...model.masters]) {
      const config = parse(mustFileText(s.result, node.name, KUBE_PROXY.config));
      expect(config.apiVersion).toBe('kubeproxy.config.k8s.io/v1alpha1');
      expect(config.kind).toBe('KubeProxyConfiguration');
      expect(config.clusterCIDR).toBe(model.network.podCidr.text);
      expect(config.clusterCIDR).not.toBe(model.network.serviceCidr.text);
      expect(config.hostnameOverride).toBe(node.name);
      expect(config.mode).toBe(model.network.kubeProxyMode);
      expect(config.ipvs).toEqual(model.network.kubeProxyMode === 'ipvs' ? { scheduler: 'rr' } : undefined);
      expect(config.clientConnection).toEqual({ kubeconfig: KUBE_PROXY.kubeconfig });
    }
  });

  test('every setting is in the config file: the option file holds --config and --v only', () => {
    const text = mustFileText(s.result, s.result.model.nodes[0].name, KUBE_PROXY.optionFile);
    expect(parseOptionFile(text).flags.map(([k]) => k)).toEqual(['config', 'v']);
  });

  test('its kubeconfig reaches the apiserver endpoint (VIP)', () => {
    const { model } = s.result;
    const kc = parseKubeconfig(mustFileText(s.result, model.nodes[0].name, KUBE_PROXY.kubeconfig));
    expect(kc.clusters[0].cluster.server).toBe(model.apiServerEndpoint);
    expect(kc.users[0].user).toEqual({ 'client-certificate': '/opt/kubernetes/ssl/kube-proxy.pem', 'client-key': '/opt/kubernetes/ssl/kube-proxy-key.pem' });
  });
});

test('metrics listen on loopback, as kubeadm\'s do, unless the definition exposes them', async () => {
  const loopback = await synth(ecdsa(SEED));
  const exposed = await synth(ecdsa(withChanges(SEED, { exposeMetrics: true })));
  const metrics = (x: Synthesized) => parse(mustFileText(x.result, 'k8s4', KUBE_PROXY.config)).metricsBindAddress;
  expect(metrics(loopback)).toBe('127.0.0.1:10249');
  expect(metrics(exposed)).toBe('192.168.100.40:10249');
  const bind = (x: Synthesized, file: string) => parseOptionFile(mustFileText(x.result, 'k8s1', file)).flags.find(([k]) => k === 'bind-address')![1];
  expect([bind(loopback, '/opt/kubernetes/cfg/kube-controller-manager'), bind(loopback, '/opt/kubernetes/cfg/kube-scheduler')]).toEqual(['127.0.0.1', '127.0.0.1']);
  expect([bind(exposed, '/opt/kubernetes/cfg/kube-controller-manager'), bind(exposed, '/opt/kubernetes/cfg/kube-scheduler')]).toEqual(['0.0.0.0', '0.0.0.0']);
});
