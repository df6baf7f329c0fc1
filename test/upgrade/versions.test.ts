import { ClusterDefinitionError, ClusterModel } from '../../lib/model';
import { componentSpec } from '../../lib/components';
import {
  UPGRADE_WAVES, skewViolations, upgradeIssues, upgradePlan, versionsOf, waveStepOf,
} from '../../lib/upgrade';
import { KUBERNETES_MINORS } from '../../lib/versions/kubernetes';
import { SEED, withChanges } from '../support/clusters';

const at = (version: string, patch: Record<string, unknown> = {}) => ClusterModel.fromDefinition(withChanges(SEED, { kubernetesVersion: version, ...patch }));
const versionsAt = (version: string) => versionsOf(at(version));

describe('what synth refuses in a version change', () => {
  test('over every pair of minors kubesmith compiles: a skipped minor and a downgrade across minors are refused, one minor up is not', () => {
    for (const a of KUBERNETES_MINORS) {
      for (const b of KUBERNETES_MINORS) {
        const issues = upgradeIssues(versionsAt(a.newest), at(b.newest)).filter((i) => i.path === 'kubernetesVersion' && /Kubernetes|downgrades the cluster/.test(i.message));
        const expected = b.minor > a.minor + 1 ? 'skips' : b.minor < a.minor ? 'downgrades' : 'ok';
        const got = issues.length === 0 ? 'ok' : /skips/.test(issues[0].message) ? 'skips' : 'downgrades';
        expect([a.newest, b.newest, got]).toEqual([a.newest, b.newest, expected]);
      }
    }
  });

  test('the refusal names the field, the value and the way: one minor at a time; a minor rollback is a snapshot restore', () => {
    const skip = upgradeIssues(versionsAt('1.35.8'), at('1.37.2'));
    expect(skip).toContainEqual({
      path: 'kubernetesVersion', value: '1.37.2',
      message: "skips Kubernetes 1.36 (the cluster runs 1.35.8); upgrade one minor at a time: set '1.36.x', synth and roll out, then the next",
    });
    const down = upgradeIssues(versionsAt('1.37.2'), at('1.36.5'));
    expect(down.find((i) => i.path === 'kubernetesVersion')!.message).toMatch(/^downgrades the cluster from 1\.37\.2 across minors; .*restoring the etcd snapshot/);
  });

  test('a patch rollback within a minor is not refused (it is rolling out the previous synth)', () => {
    expect(upgradeIssues(versionsAt('1.37.2'), at('1.37.1'))).toEqual([]);
  });

  test('etcd moves as its upgrade guide says: one minor at a time, from the patch the guide names; never down across minors', () => {
    const from = { ...versionsAt('1.36.5'), etcd: '3.5.36' };
    const skip = upgradeIssues(from, at('1.36.5', { binaries: { etcd: { version: '3.7.4' } } }));
    expect(skip).toEqual([expect.objectContaining({ path: 'binaries.etcd.version', value: '3.7.4', message: expect.stringContaining("goes through 3.6.17 first: set binaries.etcd.version to '3.6.17'") })]);
    const low = upgradeIssues({ ...from, etcd: '3.5.20' }, at('1.36.5', { binaries: { etcd: { version: '3.6.17' } } }));
    // 3.6.17 is also 1.36's own companion, so the refusal names the version that chose it.
    expect(low).toEqual([expect.objectContaining({ path: 'kubernetesVersion', message: expect.stringContaining("goes through 3.5.32 first: set binaries.etcd.version to '3.5.32'") })]);
    const down = upgradeIssues(versionsAt('1.37.2'), at('1.37.2', { binaries: { etcd: { version: '3.6.17' } } }));
    expect(down).toEqual([expect.objectContaining({ path: 'binaries.etcd.version', message: expect.stringContaining('downgrade across minors') })]);
    // The table's own companions move one etcd minor at a time between neighbouring Kubernetes minors.
    for (let i = 1; i < KUBERNETES_MINORS.length; i++) {
      expect([KUBERNETES_MINORS[i].newest, upgradeIssues(versionsAt(KUBERNETES_MINORS[i - 1].newest), at(KUBERNETES_MINORS[i].newest))]).toEqual([KUBERNETES_MINORS[i].newest, []]);
    }
  });

  test('containerd and runc are not moved down across minors', () => {
    const issues = upgradeIssues(versionsAt('1.36.5'), at('1.36.5', { binaries: { containerd: { version: '1.7.36' } } }));
    expect(issues).toEqual([expect.objectContaining({ path: 'binaries.containerd.version', value: '1.7.36', message: expect.stringContaining("keep binaries.containerd.version at '2.3.7'") })]);
  });
});

describe('the waves', () => {
  test('every component whose programs kubesmith fetches is in exactly one wave step; nginx and keepalived (the OS\'s) in none', () => {
    const steps = UPGRADE_WAVES.flatMap((w) => w.steps);
    expect(new Set(steps.map((s) => s.name)).size).toBe(steps.length);
    const all = steps.flatMap((s) => s.components);
    expect(new Set(all).size).toBe(all.length);
    for (const id of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'etcd-snapshot', 'kubelet', 'kube-proxy', 'flanneld', 'containerd', 'kubelet-bootstrap-cleanup'] as const) {
      expect([id, waveStepOf(id)]).toEqual([id, expect.anything()]);
    }
    for (const id of ['nginx', 'keepalived'] as const) {
      expect(componentSpec(id).packaged).toBe(true);
      expect(waveStepOf(id)).toBeUndefined();
    }
  });

  test('a minor: etcd member by member, each master\'s apiserver then its controller-manager and scheduler, then node programs masters first, each drained', () => {
    const model = at('1.37.2');
    const plan = upgradePlan(versionsAt('1.36.5'), model, versionsOf(model))!;
    expect(plan.kind).toBe('minor');
    expect(plan.changed).toEqual(['kubernetes', 'etcd']);
    expect(plan.waves.flatMap((w) => w.steps.map((s) => `${s.wave}/${s.step} ${s.host.name}${s.drain ? ' drain' : ''}`))).toEqual([
      'etcd/etcd k8s1', 'etcd/etcd k8s2', 'etcd/etcd k8s3',
      'control-plane/kube-apiserver k8s1', 'control-plane/controller-manager-scheduler k8s1',
      'control-plane/kube-apiserver k8s2', 'control-plane/controller-manager-scheduler k8s2',
      'node/node k8s1 drain', 'node/node k8s2 drain', 'node/node k8s3 drain', 'node/node k8s4 drain',
    ]);
    const k8s1node = plan.waves[2].steps[0];
    expect(k8s1node.programs.map((p) => `${p.path} ${p.from} → ${p.to}`)).toEqual([
      '/opt/kubernetes/bin/kubelet 1.36.5 → 1.37.2', '/opt/kubernetes/bin/kube-proxy 1.36.5 → 1.37.2',
    ]);
    expect(k8s1node.units).toEqual(['containerd.service', 'kube-proxy.service', 'kubelet.service', 'flanneld.service', 'kubelet-bootstrap-cleanup.service']);
    expect(plan.target).toBe('kubernetes=1.37.2 etcd=3.7.4');
    expect(plan.rollback).toMatch(/restore the snapshot the preflight took/);
  });

  test('a patch: no etcd wave and no drain unless the definition asks; unchanged versions plan nothing', () => {
    const model = at('1.36.5');
    const plan = upgradePlan(versionsAt('1.36.4'), model, versionsOf(model))!;
    expect([plan.kind, plan.waves.map((w) => w.spec.name), plan.waves.flatMap((w) => w.steps).some((s) => s.drain)]).toEqual(['patch', ['control-plane', 'node'], false]);
    expect(plan.rollback).toMatch(/roll out the previous synth \(kubernetesVersion '1\.36\.4'\)/);
    const always = at('1.36.5', { upgrades: { drain: 'always' } });
    expect(upgradePlan(versionsAt('1.36.4'), always, versionsOf(always))!.waves[1].steps.every((s) => s.drain)).toBe(true);
    expect(upgradePlan(versionsAt('1.36.5'), model, versionsOf(model))).toBeUndefined();
  });
});

describe('the version-skew policy on observed versions', () => {
  const cases: [string, Record<string, string>, Record<string, string>, RegExp | null][] = [
    ['all on one release', { k8s1: 'v1.36.5', k8s2: 'v1.36.5' }, { k8s1: 'v1.36.5', k8s3: 'v1.36.5' }, null],
    ['one apiserver upgraded, kubelets old', { k8s1: 'v1.37.2', k8s2: 'v1.36.5' }, { k8s1: 'v1.36.5' }, null],
    ['a kubelet newer than the oldest apiserver', { k8s1: 'v1.37.2', k8s2: 'v1.36.5' }, { k8s1: 'v1.37.2' }, /the kubelet of k8s1 is v1\.37\.2, newer than kube-apiserver on k8s2 \(v1\.36\.5\)/],
    ['apiservers two minors apart', { k8s1: 'v1.37.2', k8s2: 'v1.35.8' }, {}, /more than one minor apart/],
    ['a kubelet four minors older', { k8s1: 'v1.37.2' }, { k8s3: 'v1.33.13' }, /more than 3 minors older/],
    ['a kubelet three minors older', { k8s1: 'v1.37.2' }, { k8s3: 'v1.34.12' }, null],
    ['an apiserver that did not answer', { k8s1: 'unreachable' }, {}, /not 1\.N\.P/],
  ];
  test.each(cases)('%s', (_what, apiservers, kubelets, problem) => {
    const v = skewViolations({ apiservers, kubelets });
    if (problem) expect(v.join('\n')).toMatch(problem);
    else expect(v).toEqual([]);
  });
});

test('a definition with a bad upgrades setting is refused naming the field', () => {
  expect(() => at('1.37.2', { upgrades: { drain: 'sometimes', drainTimeoutSeconds: 5 } })).toThrow(ClusterDefinitionError);
  try {
    at('1.37.2', { upgrades: { drain: 'sometimes', drainTimeoutSeconds: 5 } });
  } catch (e) {
    expect((e as Error).message).toContain('upgrades.drain: "sometimes" must be \'minor\'');
    expect((e as Error).message).toContain('upgrades.drainTimeoutSeconds: 5 must be a whole number of seconds from 30 to 86400');
  }
});
