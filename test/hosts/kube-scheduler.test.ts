import { parse } from 'yaml';
import { KUBE_SCHEDULER } from '../../hosts';
import { PATHS } from '../../lib/model';
import { LARGE, SEED } from '../support/clusters';
import { ecdsa, flagMap, mustFileText, parseKubeconfig, snapshotFiles, synth, Synthesized } from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

const FILES = [KUBE_SCHEDULER.optionFile, KUBE_SCHEDULER.config, KUBE_SCHEDULER.kubeconfig, `${PATHS.systemdUnits}/${KUBE_SCHEDULER.unit}`];

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Synthesized;
  beforeAll(async () => { s = await synth(ecdsa(def)); });

  test('emitted files', () => {
    expect(snapshotFiles(s.result, FILES)).toMatchSnapshot();
  });

  test('every master, and only masters, runs it', () => {
    const { model, cluster } = s.result;
    const running = cluster.bundles.filter((b) => b.services.some((x) => x.unit === KUBE_SCHEDULER.unit)).map((b) => b.host.name);
    expect(running).toEqual(model.masters.map((h) => h.name));
  });

  test('kubeconfig and leader election come from the KubeSchedulerConfiguration, not deprecated flags', () => {
    const { model } = s.result;
    const host = model.masters[0].name;
    const flags = flagMap(mustFileText(s.result, host, KUBE_SCHEDULER.optionFile));
    expect(flags.get('config')).toBe(KUBE_SCHEDULER.config);
    expect(flags.has('kubeconfig')).toBe(false);
    expect(flags.has('leader-elect')).toBe(false);
    const config = parse(mustFileText(s.result, host, KUBE_SCHEDULER.config));
    expect(config).toEqual({
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      clientConnection: { kubeconfig: KUBE_SCHEDULER.kubeconfig },
      leaderElection: { leaderElect: true },
    });
    const kc = parseKubeconfig(mustFileText(s.result, host, KUBE_SCHEDULER.kubeconfig));
    expect(kc.clusters[0].cluster.server).toBe(`https://127.0.0.1:${model.apiServerPort}`);
  });
});
