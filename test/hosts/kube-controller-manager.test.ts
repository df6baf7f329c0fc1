import { KUBE_CONTROLLER_MANAGER } from '../../hosts';
import { certPath, keyPath } from '../../lib/pki';
import { PATHS } from '../../lib/model';
import { LARGE, SEED } from '../support/clusters';
import { ecdsa, flagMap, mustFileText, parseKubeconfig, snapshotFiles, synth, Synthesized } from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const FILES = [KUBE_CONTROLLER_MANAGER.optionFile, KUBE_CONTROLLER_MANAGER.kubeconfig, `${PATHS.systemdUnits}/${KUBE_CONTROLLER_MANAGER.unit}`];

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Synthesized;
  beforeAll(async () => { s = await synth(ecdsa(def)); });

  test('emitted files', () => {
    expect(snapshotFiles(s.result, FILES)).toMatchSnapshot();
  });

  test('every master, and only masters, runs it', () => {
    const { model, cluster } = s.result;
    const running = cluster.bundles.filter((b) => b.services.some((x) => x.unit === KUBE_CONTROLLER_MANAGER.unit)).map((b) => b.host.name);
    expect(running).toEqual(model.masters.map((h) => h.name));
  });

  test('signs kubelet certificates with the cluster CA for the leaf validity; allocates each Node a /24 of the pod network (its flannel subnet)', () => {
    const { model } = s.result;
    const flags = flagMap(mustFileText(s.result, model.masters[0].name, KUBE_CONTROLLER_MANAGER.optionFile));
    expect(flags.get('cluster-signing-cert-file')).toBe(certPath('kubernetes-ca'));
    expect(flags.get('cluster-signing-key-file')).toBe(keyPath('kubernetes-ca'));
    expect(flags.get('cluster-signing-duration')).toBe(`${model.certificates.validityDays * 24}h`);
    expect(flags.get('allocate-node-cidrs')).toBe('true');
    expect(flags.get('cluster-cidr')).toBe(model.network.podCidr.text);
    expect(flags.get('node-cidr-mask-size')).toBe('24');
    expect(flags.get('controllers')!.split(',')).toEqual(expect.arrayContaining(['*', 'bootstrapsigner', 'tokencleaner']));
    expect(flags.get('service-cluster-ip-range')).toBe(model.network.serviceCidr.text);
    expect(flags.get('cluster-name')).toBe(model.name);
  });

  test('its kubeconfig reaches the local apiserver', () => {
    const { model } = s.result;
    const kc = parseKubeconfig(mustFileText(s.result, model.masters[0].name, KUBE_CONTROLLER_MANAGER.kubeconfig));
    expect(kc.clusters[0].cluster.server).toBe(`https://127.0.0.1:${model.apiServerPort}`);
  });
});
