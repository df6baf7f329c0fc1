import { ClusterModel } from '../model/cluster-model';
import {
  CONFIG_TYPES, KubernetesComponent, configTypeOf, fieldPaths, fieldReference, knownField, knownFlag, normalizeFlag,
} from '../versions/references';
import { Flags } from './systemd-unit';

/** Components that take feature gates in their config file rather than on the command line. */
const GATES_IN_CONFIG: readonly KubernetesComponent[] = ['kubelet', 'kube-proxy'];

/**
 * A Kubernetes component's command line: kubesmith's flags, then the definition's extraArgs (one that names a flag
 * kubesmith sets replaces it, as kubeadm's do) and --feature-gates. Validation checked the definition's against the
 * target minor; kubesmith's own are checked here, so a flag a minor dropped fails every synth for that minor.
 */
export function kubernetesFlags(model: ClusterModel, component: KubernetesComponent, flags: Flags): Flags {
  const minor = model.kubernetes.minor;
  for (const [name] of flags) {
    if (!knownFlag(minor, component, name)) {
      throw new Error(`kubesmith sets --${name} on ${component}, which Kubernetes ${model.kubernetesVersion} does not accept (lib/versions)`);
    }
  }
  const extra = model.components.extraArgs[component];
  const replaced = new Set(extra.map(([n]) => normalizeFlag(n)));
  const out: (readonly [string, string | number | boolean])[] = [...flags.filter(([n]) => !replaced.has(normalizeFlag(n))), ...extra];
  if (!GATES_IN_CONFIG.includes(component) && model.components.featureGates.length > 0) {
    out.push(['feature-gates', model.components.featureGates.map(([g, on]) => `${g}=${on}`).join(',')]);
  }
  return out;
}

/**
 * A component's config file: kubesmith's document with the definition's fields merged over it (objects merge, other
 * values replace) and, for the kubelet and kube-proxy, the feature gates. kubesmith's own fields are checked against
 * the target minor's reference, as its flags are.
 */
export function componentConfig(model: ClusterModel, component: KubernetesComponent, doc: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const type = configTypeOf(component);
  if (!type) throw new Error(`${component} has no config file`);
  const ref = fieldReference(model.kubernetes.minor, type);
  for (const p of fieldPaths(doc, ref.maps)) {
    if (!knownField(ref, p)) {
      throw new Error(`kubesmith writes ${p} in ${CONFIG_TYPES[type].kind}, which Kubernetes ${model.kubernetesVersion} does not have (lib/versions)`);
    }
  }
  const merged = merge(doc, model.components.config[component] ?? {});
  if (GATES_IN_CONFIG.includes(component) && model.components.featureGates.length > 0) {
    merged.featureGates = { ...(merged.featureGates as Record<string, boolean> | undefined), ...Object.fromEntries(model.components.featureGates) };
  }
  return merged;
}

function merge(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? merge(b, v) : v;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
