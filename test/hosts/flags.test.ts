import * as path from 'path';
import { parse } from 'yaml';
import { ClusterDefinition } from '../../lib/model';
import { KUBERNETES_MINORS, minorOf } from '../../lib/versions/kubernetes';
import { LARGE, SEED, withChanges } from '../support/clusters';
import {
  COMPONENTS, Component, FieldReferenceName, checkFields, checkFlags, extractEnvFile, extractFieldPaths, extractFlags,
  loadFieldReferenceDetailed, loadRemovedFlags,
} from '../support/flag-reference';
import { SynthesizedBundles, synthBundles } from '../support/synth-bundles';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

/** Config files whose fields are checked, by the component whose --config names them. */
const CONFIG_REFERENCE: Partial<Record<Component, FieldReferenceName>> = {
  kubelet: 'kubelet-config.v1beta1',
  'kube-proxy': 'kube-proxy-config.v1alpha1',
  'kube-scheduler': 'kube-scheduler-config.v1',
};

interface Invocation {
  readonly host: string;
  readonly unit: string;
  readonly component: string;
  /** Flags from ExecStart and from the variables of its EnvironmentFiles. */
  readonly flags: ReturnType<typeof extractFlags>;
  /** Variables of its EnvironmentFiles. */
  readonly env: Map<string, string>;
}

/** Every unit in every bundle: which program it runs and with which flags and environment. */
function invocations(s: SynthesizedBundles): Invocation[] {
  const out: Invocation[] = [];
  for (const [host, entries] of s.bundles) {
    for (const [p, entry] of entries) {
      if (!p.startsWith('usr/lib/systemd/system/') || !p.endsWith('.service')) continue;
      const unit = entry.content.toString();
      const exec = /^ExecStart=(\S+)/m.exec(unit);
      if (!exec) continue;
      // An optional one ('-') the bundle does not hold is written on the host when needed (etcd's rejoin mark).
      const envFiles = [...unit.matchAll(/^EnvironmentFile=(-?)(\S+)/gm)]
        .filter((m) => m[1] === '' || s.bundles.get(host)!.has(m[2].replace(/^\//, ''))).map((m) => m[2]);
      const env = new Map<string, string>();
      const flags = extractFlags(unit);
      for (const f of envFiles) {
        const text = s.text(host, f.replace(/^\//, ''));
        for (const [k, v] of extractEnvFile(text)) env.set(k, v);
        // Only variables the command line expands carry flags.
        for (const [k, v] of extractEnvFile(text)) if (unit.includes(`$${k}`)) flags.push(...extractFlags(v));
      }
      out.push({ host, unit: path.basename(p), component: path.basename(exec[1]), flags, env });
    }
  }
  return out;
}

/** The seed at the newest release of every minor, and the large cluster at the seed's: each against its own references. */
const CASES: [string, ClusterDefinition][] = [
  ...KUBERNETES_MINORS.map((m) => [`seed at ${m.newest}`, withChanges(SEED, { kubernetesVersion: m.newest })] as [string, ClusterDefinition]),
  ['large', LARGE],
];

describe.each(CASES)('%s: every flag and field is valid for its minor', (_n, def) => {
  let s: SynthesizedBundles;
  let all: Invocation[];
  const minor = minorOf(def.kubernetesVersion);
  beforeAll(async () => {
    s = await synthBundles(def);
    all = invocations(s);
  });

  test('the units cover every component with a flag reference', () => {
    const seen = new Set(all.map((i) => i.component));
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'flanneld']) {
      expect(seen).toContain(c);
    }
  });

  test('no unknown or deprecated flag on any command line', () => {
    const problems = all.filter((i) => (COMPONENTS as readonly string[]).includes(i.component) && i.component !== 'etcd')
      .flatMap((i) => checkFlags(i.component as Component, i.flags, minor).map((p) => `${i.host} ${i.unit}: ${p.message}`));
    expect(problems).toEqual([]);
  });

  test('etcd takes ETCD_* variables only, each valid in its etcd minor, and no flag', () => {
    for (const i of all.filter((x) => x.component === 'etcd')) {
      expect(i.flags).toEqual([]);
      expect(checkFlags('etcd', [...i.env.keys()], minor).map((p) => p.message)).toEqual([]);
    }
  });

  test('no flag the old tutorial used that 1.27 and later removed', () => {
    const removed = loadRemovedFlags();
    const used = all.flatMap((i) => i.flags.map((f) => `${i.component} --${f.name}`));
    for (const r of removed) expect(used).not.toContain(`${r.component} --${r.name}`);
  });

  test('every KubeletConfiguration, KubeProxyConfiguration and KubeSchedulerConfiguration field exists in its minor', () => {
    let checked = 0;
    for (const i of all) {
      const ref = CONFIG_REFERENCE[i.component as Component];
      const config = i.flags.find((f) => f.name === 'config')?.value;
      if (!ref || !config) continue;
      const obj = parse(s.text(i.host, config.replace(/^\//, '')));
      const { maps } = loadFieldReferenceDetailed(ref, minor);
      const paths = extractFieldPaths(obj, maps).filter((p) => p !== 'apiVersion' && p !== 'kind');
      expect(checkFields(ref, paths, minor).map((p) => `${i.host} ${config}: ${p.message}`)).toEqual([]);
      checked++;
    }
    // kubelet and kube-proxy on every node and master, the scheduler on masters.
    const kubeletHosts = s.result.model.hosts.filter((h) => h.has('node') || h.has('master')).length;
    expect(checked).toBe(2 * kubeletHosts + s.result.model.masters.length);
  });
});

describe('the check fails on a bad flag or field', () => {
  test('an injected removed flag and an unknown field are reported', () => {
    const unit = '[Service]\nEnvironmentFile=/opt/kubernetes/cfg/kube-apiserver\nExecStart=/opt/kubernetes/bin/kube-apiserver $KUBE_APISERVER_OPTS\n';
    const opts = 'KUBE_APISERVER_OPTS="--etcd-servers=https://1.2.3.4:2379 \\\n--insecure-port=0 \\\n--kubelet-https=true"\n';
    const flags = [...extractFlags(unit), ...[...extractEnvFile(opts).values()].flatMap((v) => extractFlags(v))];
    expect(checkFlags('kube-apiserver', flags).map((p) => p.name)).toEqual(['insecure-port', 'kubelet-https']);
    expect(checkFields('kubelet-config.v1beta1', ['cgroupDriver', 'cgroupDrivers']).map((p) => p.name)).toEqual(['cgroupDrivers']);
  });
});
