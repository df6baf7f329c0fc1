/**
 * components: feature gates, extra flags and config fields, each checked against the target minor's own reference.
 * The property: for every minor, everything an earlier minor's binaries had and this minor's lack is refused for
 * this minor, naming the component, the item and the version; the same definition compiles for a minor that has it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ClusterDefinition, ClusterDefinitionError, synthesizeCluster, validateDefinition } from '../../lib';
import { KUBERNETES_MINORS } from '../../lib/versions/kubernetes';
import {
  CONFIG_TYPES, CONFIG_TYPE_NAMES, KUBERNETES_COMPONENTS, configTypeOf, featureGates, fieldReference, flagReference, knownField, knownFlag,
} from '../../lib/versions/references';
import { OWNED_FIELDS, OWNED_FLAGS } from '../../lib/model/validation/components';
import { SEED, withChanges } from '../support/clusters';
import { synthBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const at = (version: string, components: Record<string, unknown>): ClusterDefinition => withChanges(SEED, { kubernetesVersion: version, components });
const issues = (def: ClusterDefinition) => validateDefinition(def).map((i) => ({ path: i.path, value: i.value, message: i.message }));
const pairs = KUBERNETES_MINORS.slice(1).map((m, i) => [KUBERNETES_MINORS[i], m] as const);

/** An object holding `value` at a field path ("a.b", "list[].c"). */
function objectAt(p: string, value: unknown): Record<string, unknown> {
  const parts = p.split('.');
  const build = (i: number): unknown => {
    if (i === parts.length) return value;
    const part = parts[i];
    if (part.endsWith('[]')) return { [part.slice(0, -2)]: [build(i + 1)] };
    return { [part]: build(i + 1) };
  };
  return build(0) as Record<string, unknown>;
}

describe('what a minor dropped is refused for it and accepted for the minor before', () => {
  test.each(pairs.map(([before, after]) => [before.newest, after.newest, before.minor, after.minor] as const))('%s → %s: every removed flag', (v0, v1, m0, m1) => {
    let removed = 0;
    for (const component of KUBERNETES_COMPONENTS) {
      const gone = [...flagReference(m0, component).valid].filter((f) => !knownFlag(m1, component, f) && !['feature-gates', 'help', 'version'].includes(f));
      for (const flag of gone) {
        removed++;
        const def = at(v1, { [component]: { extraArgs: { [flag]: 'x' } } });
        expect(issues(def)).toEqual([{
          path: `components.${component}.extraArgs.${flag}`, value: 'x',
          message: `is not a flag of ${component} in Kubernetes ${v1} (removed in 1.${m1}; 1.${m0} is the last minor that has this flag)`,
        }]);
        expect([flag, issues(at(v0, { [component]: { extraArgs: { [flag]: 'x' } } }))]).toEqual([flag, []]);
      }
    }
    expect(removed).toBeGreaterThanOrEqual(0);
  });

  test.each(pairs.map(([before, after]) => [before.newest, after.newest, before.minor, after.minor] as const))('%s → %s: every removed feature gate', (v0, v1, m0, m1) => {
    const gone = [...featureGates(m0).values()].filter((g) => !featureGates(m1).has(g.name));
    for (const g of gone) {
      expect(issues(at(v1, { featureGates: { [g.name]: g.default } }))).toEqual([{
        path: `components.featureGates.${g.name}`, value: g.default,
        message: `is not a feature gate of Kubernetes ${v1} (removed in 1.${m1}; 1.${m0} is the last minor that has this feature gate)`,
      }]);
      expect([g.name, issues(at(v0, { featureGates: { [g.name]: g.default } }))]).toEqual([g.name, []]);
    }
  });

  test.each(pairs.map(([before, after]) => [before.newest, after.newest, before.minor, after.minor] as const))('%s → %s: every removed config field', (v0, v1, m0, m1) => {
    for (const type of CONFIG_TYPE_NAMES) {
      const { component, kind, apiVersion } = CONFIG_TYPES[type];
      const now = fieldReference(m1, type);
      const gone = [...fieldReference(m0, type).paths].filter((p) => !now.paths.has(p) && !fieldReference(m0, type).maps.has(p)
        && ![...now.paths].some((q) => q.startsWith(`${p}.`) || q.startsWith(`${p}[]`)));
      for (const p of gone) {
        const config = objectAt(p, 1);
        const got = issues(at(v1, { [component]: { config } }));
        expect(got.map((i) => [i.path, i.message])).toEqual([[
          `components.${component}.config.${p.replace(/\[\]/g, '[*]')}`,
          `is not a field of ${kind} (${apiVersion}) in Kubernetes ${v1} (removed in 1.${m1}; 1.${m0} is the last minor that has this field)`,
        ]]);
        expect([p, issues(at(v0, { [component]: { config } }))]).toEqual([p, []]);
      }
    }
  });

  test.each(pairs.map(([before, after]) => [before.newest, after.newest, before.minor, after.minor] as const))('%s → %s: what the later minor added is refused for the earlier one', (v0, v1, m0, m1) => {
    const earlier = KUBERNETES_MINORS.filter((m) => m.minor <= m0).map((m) => m.minor);
    for (const component of KUBERNETES_COMPONENTS) {
      const added = [...flagReference(m1, component).valid].filter((f) => earlier.every((m) => !knownFlag(m, component, f)));
      for (const flag of added) {
        expect(issues(at(v0, { [component]: { extraArgs: { [flag]: 'x' } } })).map((i) => i.message)).toEqual([
          `is not a flag of ${component} in Kubernetes ${v0} (it first appears in 1.${m1})`,
        ]);
        expect([flag, issues(at(v1, { [component]: { extraArgs: { [flag]: 'x' } } }))]).toEqual([flag, []]);
      }
    }
    const gates = [...featureGates(m1).values()].filter((g) => earlier.every((m) => !featureGates(m).has(g.name)));
    for (const g of gates) {
      expect(issues(at(v0, { featureGates: { [g.name]: g.default } })).map((i) => i.message)).toEqual([
        `is not a feature gate of Kubernetes ${v0} (it first appears in 1.${m1})`,
      ]);
    }
    for (const type of CONFIG_TYPE_NAMES) {
      const { component } = CONFIG_TYPES[type];
      const ref = fieldReference(m1, type);
      const added = [...ref.paths].filter((p) => !ref.maps.has(p) && earlier.every((m) => !fieldReference(m, type).paths.has(p))
        && !earlier.some((m) => [...fieldReference(m, type).maps].some((mp) => p.startsWith(`${mp}.`) || p.startsWith(`${mp}[]`))));
      for (const p of added) {
        const got = issues(at(v0, { [component]: { config: objectAt(p, 1) } }));
        expect([p, got.length > 0, got.every((i) => /it first appears in 1\.\d+\)$/.test(i.message))]).toEqual([p, true, true]);
        expect([p, issues(at(v1, { [component]: { config: objectAt(p, 1) } }))]).toEqual([p, []]);
      }
    }
  });

  test('a kubelet config field a later minor added: failCgroupV1 (1.31) is refused for 1.30', () => {
    expect(issues(at('1.30.14', { kubelet: { config: { failCgroupV1: false } } }))).toEqual([{
      path: 'components.kubelet.config.failCgroupV1', value: false,
      message: 'is not a field of KubeletConfiguration (kubelet.config.k8s.io/v1beta1) in Kubernetes 1.30.14 (it first appears in 1.31)',
    }]);
    expect(issues(at('1.31.14', { kubelet: { config: { failCgroupV1: false } } }))).toEqual([]);
  });

  test('the issue\'s examples: kube-scheduler --lock-object-namespace from 1.28, a gate 1.29 removed', () => {
    expect(issues(at('1.28.15', { 'kube-scheduler': { extraArgs: { 'lock-object-namespace': 'kube-system' } } }))).toEqual([{
      path: 'components.kube-scheduler.extraArgs.lock-object-namespace', value: 'kube-system',
      message: 'is not a flag of kube-scheduler in Kubernetes 1.28.15 (removed in 1.28; 1.27 is the last minor that has this flag)',
    }]);
    expect(issues(at('1.29.15', { featureGates: { CronJobTimeZone: true } }))).toEqual([{
      path: 'components.featureGates.CronJobTimeZone', value: true,
      message: 'is not a feature gate of Kubernetes 1.29.15 (removed in 1.29; 1.28 is the last minor that has this feature gate)',
    }]);
  });
});

describe('bad values', () => {
  test.each([
    [{ featureGates: { NoSuchGate: true } }, 'components.featureGates.NoSuchGate', true,
      'is not a feature gate of Kubernetes 1.37.2 (no Kubernetes minor from 1.27 to 1.37 has it; check the spelling)'],
    [{ featureGates: { InPlacePodVerticalScaling: 'yes' } }, 'components.featureGates.InPlacePodVerticalScaling', 'yes', 'must be true or false'],
    [{ kubelet: { extraArgs: { 'max-podz': '200' } } }, 'components.kubelet.extraArgs.max-podz', '200',
      'is not a flag of kubelet in Kubernetes 1.37.2 (no Kubernetes minor from 1.27 to 1.37 has it; check the spelling)'],
    [{ 'kube-apiserver': { extraArgs: { '--profiling': 'false' } } }, 'components.kube-apiserver.extraArgs.--profiling', 'false',
      'is not a flag name; write it without leading dashes or "=", e.g. "profiling" for --profiling'],
    [{ 'kube-apiserver': { extraArgs: { 'feature-gates': 'A=true' } } }, 'components.kube-apiserver.extraArgs.feature-gates', 'A=true',
      'is not taken here; put each gate in components.featureGates, e.g. { InPlacePodVerticalScaling: true }'],
    [{ 'kube-apiserver': { extraArgs: { 'audit-log-path': '/var/log/a b' } } }, 'components.kube-apiserver.extraArgs.audit-log-path', '/var/log/a b',
      'must be a string without white space, quotes, backslashes, "$" or "`", e.g. "false"'],
    [{ kubelet: { config: { kind: 'Pod' } } }, 'components.kubelet.config.kind', 'Pod',
      "is kubesmith's to set (KubeletConfiguration); remove it"],
    [{ kubelet: { config: { maxPod: 200 } } }, 'components.kubelet.config.maxPod', 200,
      'is not a field of KubeletConfiguration (kubelet.config.k8s.io/v1beta1) in Kubernetes 1.37.2 (no Kubernetes minor from 1.27 to 1.37 has it; check the spelling)'],
    [{ 'kube-proxy': { config: { ipvs: { strictArp: true } } } }, 'components.kube-proxy.config.ipvs.strictArp', true,
      'is not a field of KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) in Kubernetes 1.37.2 (no Kubernetes minor from 1.27 to 1.37 has it; check the spelling)'],
  ])('%j: %s', (components, p, value, message) => {
    expect(issues(at('1.37.2', components))).toEqual([{ path: p, value, message }]);
  });

  test('flags and fields another setting owns (ports, addresses, ranges) are refused, naming that setting', () => {
    const setBy = (by: string) => `is set from ${by}; set ${by} instead: the certificates, the nginx upstream and the checks follow it, a value here would not`;
    const fixed = (port: number) => `is kubesmith's to set: port ${port}, which its health checks, port checks and firewall rules use; remove it`;
    expect(issues(at('1.37.2', {
      'kube-apiserver': { extraArgs: { 'secure-port': '7443', 'service-node-port-range': '30000-32767', profiling: 'false' } },
      'kube-controller-manager': { extraArgs: { secure_port: '10300' } },
      'kubelet': { extraArgs: { 'node-ip': '10.0.0.9' }, config: { healthzPort: 10249, maxPods: 120 } },
      'kube-proxy': { config: { clusterCIDR: '10.8.0.0/16' } },
    }))).toEqual([
      { path: 'components.kube-apiserver.extraArgs.secure-port', value: '7443', message: setBy('apiServerPort') },
      { path: 'components.kube-apiserver.extraArgs.service-node-port-range', value: '30000-32767', message: setBy('network.nodePortRange') },
      { path: 'components.kube-controller-manager.extraArgs.secure_port', value: '10300', message: fixed(10257) },
      { path: 'components.kubelet.extraArgs.node-ip', value: '10.0.0.9', message: setBy('hosts[].ip') },
      { path: 'components.kubelet.config.healthzPort', value: 10249, message: fixed(10248) },
      { path: 'components.kube-proxy.config.clusterCIDR', value: '10.8.0.0/16', message: setBy('network.podCidr') },
    ]);
  });

  test.each(KUBERNETES_MINORS.map((m) => [m.newest, m.minor] as const))('%s: every owned flag and field is one of the minor (the table has no typo)', (_v, minor) => {
    const unknown = [
      ...Object.entries(OWNED_FLAGS).flatMap(([c, flags]) => Object.keys(flags).filter((f) => !knownFlag(minor, c as never, f)).map((f) => `${c} --${f}`)),
      ...Object.entries(OWNED_FIELDS).flatMap(([c, fields]) => Object.keys(fields)
        .filter((f) => !knownField(fieldReference(minor, configTypeOf(c as never)!), f)).map((f) => `${c} ${f}`)),
    ];
    expect(unknown).toEqual([]);
  });

  test('a locked gate set to the other value is refused; to its own, accepted', () => {
    const locked = [...featureGates(37).values()].find((g) => g.locked)!;
    expect(issues(at('1.37.2', { featureGates: { [locked.name]: !locked.default } }))).toEqual([{
      path: `components.featureGates.${locked.name}`, value: !locked.default,
      message: `cannot be set: the gate is ${locked.stage} and locked to ${locked.default} in Kubernetes 1.37.2; remove it`,
    }]);
    expect(issues(at('1.37.2', { featureGates: { [locked.name]: locked.default } }))).toEqual([]);
  });

  test('a misspelled component or field is caught by the shape check', () => {
    const got = issues(at('1.37.2', { kubeApiserver: {}, kubelet: { extraArg: {} } }));
    expect(got.map((i) => i.path)).toEqual(['components.kubeApiserver', 'components.kubelet.extraArg']);
  });

  test('synth refuses before anything is written', async () => {
    const dir = tempDir();
    const run = synthesizeCluster(at('1.28.15', { 'kube-scheduler': { extraArgs: { 'lock-object-namespace': 'x' } } }), {
      outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined,
    });
    await expect(run).rejects.toThrow(ClusterDefinitionError);
    await expect(run).rejects.toThrow(/components\.kube-scheduler\.extraArgs\.lock-object-namespace: "x" is not a flag of kube-scheduler in Kubernetes 1\.28\.15/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('what the components get', () => {
  const opts = (text: string) => text.split('\n').map((l) => l.trim().replace(/ \\$/, '').replace(/^[A-Z_]+="/, '').replace(/"$/, '')).filter((l) => l.startsWith('--'));

  test('extraArgs are added, replace a flag kubesmith sets, and feature gates reach every component', async () => {
    const s = await synthBundles(at('1.37.2', {
      featureGates: { InPlacePodVerticalScaling: true, MemoryQoS: false },
      'kube-apiserver': { extraArgs: { profiling: 'false', v: '4' } },
      kubelet: { config: { maxPods: 200, authentication: { webhook: { cacheTTL: '1m0s' } } } },
      'kube-scheduler': { config: { percentageOfNodesToScore: 50 } },
    }));
    const api = opts(s.text('k8s1', 'opt/kubernetes/cfg/kube-apiserver'));
    expect(api).toContain('--profiling=false');
    expect(api.filter((f) => f.startsWith('--v='))).toEqual(['--v=4']);
    expect(api).toContain('--feature-gates=InPlacePodVerticalScaling=true,MemoryQoS=false');
    expect(opts(s.text('k8s1', 'opt/kubernetes/cfg/kube-controller-manager'))).toContain('--feature-gates=InPlacePodVerticalScaling=true,MemoryQoS=false');
    expect(opts(s.text('k8s1', 'opt/kubernetes/cfg/kube-scheduler'))).toContain('--feature-gates=InPlacePodVerticalScaling=true,MemoryQoS=false');
    const kubelet = parse(s.text('k8s4', 'opt/kubernetes/cfg/kubelet-config.yaml'));
    expect(kubelet.featureGates).toEqual({ InPlacePodVerticalScaling: true, MemoryQoS: false });
    expect(kubelet.maxPods).toBe(200);
    // Objects merge: kubesmith's other authentication settings stay.
    expect(kubelet.authentication).toEqual({ anonymous: { enabled: false }, webhook: { enabled: true, cacheTTL: '1m0s' }, x509: { clientCAFile: expect.any(String) } });
    expect(opts(s.text('k8s4', 'opt/kubernetes/cfg/kubelet')).filter((f) => f.startsWith('--feature-gates'))).toEqual([]);
    expect(parse(s.text('k8s4', 'opt/kubernetes/cfg/kube-proxy-config.yaml')).featureGates).toEqual({ InPlacePodVerticalScaling: true, MemoryQoS: false });
    expect(parse(s.text('k8s1', 'opt/kubernetes/cfg/kube-scheduler-config.yaml')).percentageOfNodesToScore).toBe(50);
  });

  test.each(KUBERNETES_MINORS.map((m) => [m.newest, m] as const))('%s: the minor\'s companions, images and containerd config', async (_v, m) => {
    const s = await synthBundles(withChanges(SEED, { kubernetesVersion: m.newest }));
    const model = s.result.model;
    expect(model.kubernetes).toBe(m);
    expect(model.releaseOf('etcd').version).toBe(m.companions.etcd);
    expect(model.releaseOf('containerd').version).toBe(m.companions.containerd);
    expect(model.addons.coreDns.image).toBe(m.images.coreDns);
    const toml = s.text('k8s4', 'etc/containerd/config.toml');
    const v3 = m.companions.containerd.startsWith('2.');
    expect(toml).toMatch(v3 ? /^version = 3$/m : /^version = 2$/m);
    expect(toml).toContain(v3 ? `sandbox = "${m.images.pause}"` : `sandbox_image = "${m.images.pause}"`);
    const coredns = fs.readFileSync(path.join(s.dir, 'dist', 'addons', '20-coredns.yaml'), 'utf8');
    expect(coredns).toContain(`image: ${m.images.coreDns}`);
  });
});
