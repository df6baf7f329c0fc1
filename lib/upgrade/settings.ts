import { parse } from 'yaml';
import { componentSpec } from '../components/component-list';
import { HostBundle } from '../components/host-bundle';
import { PATHS } from '../model/constants';
import { KubernetesComponent } from '../versions/references';

/**
 * Each Kubernetes component's flags and config fields as one host of the last synth ran them: kept in the synth
 * record so that an upgrade's plan shows what changes in them. Paths and addresses only: no secret is a flag.
 */
export type ComponentSettings = Readonly<Partial<Record<KubernetesComponent, {
  readonly flags: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, string>>;
}>>>;

const COMPONENTS: readonly KubernetesComponent[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'];
const FLAG = /--([A-Za-z0-9-]+)(?:=("[^"]*"|\S+))?/g;

function flagsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(FLAG)].map((m) => [m[1], (m[2] ?? 'true').replace(/^"|"$/g, '').replace(/\\$/, '')]));
}

function flatten(value: unknown, prefix: string, out: Record<string, string>): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = JSON.stringify(value);
  }
  return out;
}

/** The settings of the first host running each component. */
export function settingsOf(bundles: readonly HostBundle[]): ComponentSettings {
  const out: Partial<Record<KubernetesComponent, { flags: Record<string, string>; config?: Record<string, string> }>> = {};
  for (const id of COMPONENTS) {
    const options = componentSpec(id).options?.file.slice(1);
    const configPath = `${PATHS.k8sCfg}/${id}-config.yaml`.slice(1);
    for (const b of bundles) {
      const opt = b.files.find((f) => f.path === options);
      if (!opt) continue;
      const cfg = b.files.find((f) => f.path === configPath);
      out[id] = {
        flags: flagsOf(opt.content.toString('utf8')),
        ...(cfg ? { config: flatten(parse(cfg.content.toString('utf8')), '', {}) } : {}),
      };
      break;
    }
  }
  return out;
}

/** What changed per component: '+ --flag=value', '- --flag', '~ --flag: a → b', the same for config fields. */
export function settingsChanges(from: ComponentSettings, to: ComponentSettings): { component: KubernetesComponent; changes: string[] }[] {
  const diff = (a: Readonly<Record<string, string>> = {}, b: Readonly<Record<string, string>> = {}, show: (k: string) => string) => {
    const lines: string[] = [];
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in a)) lines.push(`+ ${show(k)}=${b[k]}`);
      else if (!(k in b)) lines.push(`- ${show(k)}`);
      else if (a[k] !== b[k]) lines.push(`~ ${show(k)}: ${a[k]} → ${b[k]}`);
    }
    return lines;
  };
  return COMPONENTS.map((component) => ({
    component,
    changes: [
      ...diff(from[component]?.flags, to[component]?.flags, (k) => `--${k}`),
      ...diff(from[component]?.config, to[component]?.config, (k) => k),
    ],
  })).filter((c) => c.changes.length > 0 && from[c.component] !== undefined);
}
