import * as fs from 'fs';
import * as path from 'path';

/**
 * What each Kubernetes minor's own binaries accept, as committed references (lib/versions/references/1.NN/):
 * every component's flags (`--help`, plus hidden deprecated ones its parser accepts), every feature gate the
 * components register, and the fields of the component config types. scripts/regenerate-references.ts writes
 * them from binaries built by scripts/build-kubernetes.sh; synth refuses what a target's reference lacks.
 */

export const KUBERNETES_COMPONENTS = [
  'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy',
] as const;
export type KubernetesComponent = typeof KUBERNETES_COMPONENTS[number];

/** The component config types kubesmith writes, by reference name. */
export const CONFIG_TYPES = {
  'kubelet-config.v1beta1': { component: 'kubelet', apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration' },
  'kube-proxy-config.v1alpha1': { component: 'kube-proxy', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration' },
  'kube-scheduler-config.v1': { component: 'kube-scheduler', apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration' },
} as const;
export type ConfigTypeName = keyof typeof CONFIG_TYPES;
export const CONFIG_TYPE_NAMES = Object.keys(CONFIG_TYPES) as ConfigTypeName[];

/** The config type a component reads, if it reads one. */
export function configTypeOf(component: KubernetesComponent): ConfigTypeName | undefined {
  return CONFIG_TYPE_NAMES.find((t) => CONFIG_TYPES[t].component === component);
}

export const REFERENCES_DIR = path.join(__dirname, 'references');

export interface FlagReference {
  /** Every accepted name, without dashes, as the binary spells it. */
  readonly valid: ReadonlySet<string>;
  /** The subset its usage text calls deprecated (or that --help hides while the parser accepts it). */
  readonly deprecated: ReadonlySet<string>;
}

export interface FieldReference {
  /** Dotted leaf paths ("a.b", "list[].c"); map-valued fields are their own path. */
  readonly paths: ReadonlySet<string>;
  /** Map-valued fields: their keys are user data. */
  readonly maps: ReadonlySet<string>;
}

export type GateStage = 'ALPHA' | 'BETA' | 'GA' | 'DEPRECATED';

export interface FeatureGateSpec {
  readonly name: string;
  readonly stage: GateStage;
  readonly default: boolean;
  /** Locked to its default: setting the other value is refused by the components. */
  readonly locked: boolean;
}

interface RefLine {
  readonly name: string;
  readonly marks: readonly string[];
}

/** Non-comment lines of a reference file: a name, then marks. */
export function readReferenceLines(file: string, allowedMarks: (mark: string) => boolean): RefLine[] {
  const out: RefLine[] = [];
  const seen = new Set<string>();
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name, ...marks] = line.split(/\s+/);
    if (seen.has(name)) throw new Error(`${file}: duplicate entry ${name}`);
    const bad = marks.find((m) => !allowedMarks(m));
    if (bad !== undefined) throw new Error(`${file}: unknown mark "${bad}" on ${name}`);
    seen.add(name);
    out.push({ name, marks });
  }
  if (out.length === 0) throw new Error(`${file}: no entries`);
  return out;
}

/** The minors whose references are committed, ascending. */
export function referencedMinors(): number[] {
  return fs.readdirSync(REFERENCES_DIR)
    .map((d) => /^1\.(\d+)$/.exec(d)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1])).sort((a, b) => a - b);
}

export function referenceFile(minor: number, kind: 'flags' | 'fields', name: string): string;
export function referenceFile(minor: number, kind: 'feature-gates'): string;
export function referenceFile(minor: number, kind: 'flags' | 'fields' | 'feature-gates', name?: string): string {
  const dir = path.join(REFERENCES_DIR, `1.${minor}`);
  return kind === 'feature-gates' ? path.join(dir, 'feature-gates.txt') : path.join(dir, kind, `${name}.txt`);
}

const flagCache = new Map<string, FlagReference>();
const fieldCache = new Map<string, FieldReference>();
const gateCache = new Map<string, ReadonlyMap<string, FeatureGateSpec>>();

function requireMinor(minor: number): void {
  if (!fs.existsSync(path.join(REFERENCES_DIR, `1.${minor}`))) {
    throw new Error(`no references for Kubernetes 1.${minor} in ${REFERENCES_DIR}`);
  }
}

/** A reference file of a minor, read once. */
function cached<T>(cache: Map<string, T>, minor: number, key: string, read: () => T): T {
  let ref = cache.get(`${minor}/${key}`);
  if (!ref) {
    requireMinor(minor);
    ref = read();
    cache.set(`${minor}/${key}`, ref);
  }
  return ref;
}

export function flagReference(minor: number, component: KubernetesComponent): FlagReference {
  return cached(flagCache, minor, component, () => {
    const lines = readReferenceLines(referenceFile(minor, 'flags', component), (m) => m === 'deprecated');
    return {
      valid: new Set(lines.map((l) => l.name)),
      deprecated: new Set(lines.filter((l) => l.marks.includes('deprecated')).map((l) => l.name)),
    };
  });
}

export function fieldReference(minor: number, config: ConfigTypeName): FieldReference {
  return cached(fieldCache, minor, config, () => {
    const lines = readReferenceLines(referenceFile(minor, 'fields', config), (m) => m === 'map');
    return { paths: new Set(lines.map((l) => l.name)), maps: new Set(lines.filter((l) => l.marks.includes('map')).map((l) => l.name)) };
  });
}

/** Every feature gate the minor's components register (one registry for all of them), GA and deprecated included. */
export function featureGates(minor: number): ReadonlyMap<string, FeatureGateSpec> {
  return cached(gateCache, minor, 'feature-gates', () => {
    const file = referenceFile(minor, 'feature-gates');
    const lines = readReferenceLines(file, (m) => /^(ALPHA|BETA|GA|DEPRECATED|true|false|locked)$/.test(m));
    return new Map(lines.map(({ name, marks }) => {
      const [stage, def, locked] = marks;
      if (!/^(ALPHA|BETA|GA|DEPRECATED)$/.test(stage) || !/^(true|false)$/.test(def) || (locked !== undefined && locked !== 'locked')) {
        throw new Error(`${file}: "${name} ${marks.join(' ')}" is not "<Name> <stage> <default>[ locked]"`);
      }
      return [name, { name, stage: stage as GateStage, default: def === 'true', locked: locked === 'locked' }];
    }));
  });
}

/** Kubernetes components parse flags with pflag's WordSepNormalizeFunc: "_" and "-" are the same. */
export const normalizeFlag = (name: string): string => name.replace(/_/g, '-');

/** The reference's spelling of a flag, if the component accepts it. */
export function knownFlag(minor: number, component: KubernetesComponent, name: string): string | undefined {
  const ref = flagReference(minor, component);
  if (ref.valid.has(name)) return name;
  const n = normalizeFlag(name);
  return [...ref.valid].find((v) => normalizeFlag(v) === n);
}

/** Whether a config field path is in the type (keys below map-valued fields are user data). */
export function knownField(ref: FieldReference, p: string): boolean {
  if (ref.paths.has(p)) return true;
  for (const m of ref.maps) if (p.startsWith(`${m}.`) || p.startsWith(`${m}[]`)) return true;
  // A non-leaf path (an empty list or object) is fine when a reference path lies below it.
  for (const r of ref.paths) if (r.startsWith(`${p}.`) || r.startsWith(`${p}[]`)) return true;
  return false;
}

/** Dotted paths to the leaves of a parsed document; lists of objects give "list[].field"; stops at `stopAt`. */
export function fieldPaths(obj: unknown, stopAt: Iterable<string> = []): string[] {
  const stop = new Set(stopAt);
  const out = new Set<string>();
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const walk = (v: unknown, p: string): void => {
    if (p !== '' && stop.has(p)) {
      out.add(p);
    } else if (Array.isArray(v)) {
      const objs = v.filter(isObj);
      if (objs.length === 0) out.add(p);
      for (const o of objs) walk(o, `${p}[]`);
    } else if (isObj(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 && p !== '') out.add(p);
      for (const k of keys) walk(v[k], p === '' ? k : `${p}.${k}`);
    } else if (p !== '') {
      out.add(p);
    }
  };
  if (!isObj(obj)) throw new Error('fieldPaths expects an object at the top level');
  walk(obj, '');
  return [...out];
}

/** The last minor before `minor` whose reference has the item, for "removed in" messages. */
export function lastMinorWith(minor: number, has: (m: number) => boolean): number | undefined {
  return referencedMinors().filter((m) => m < minor).reverse().find(has);
}
