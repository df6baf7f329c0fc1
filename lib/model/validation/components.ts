import {
  CONFIG_TYPES, KUBERNETES_COMPONENTS, configTypeOf, featureGates, fieldPaths, fieldReference,
  knownField, knownFlag, lastMinorWith, referencedMinors,
} from '../../versions/references';
import { minorOf } from '../../versions/kubernetes';
import { PORTS } from '../constants';
import { acceptsVersion, release } from '../releases';
import { DefinitionIssue, Issues } from './issue';
import { isRecord } from './values';
import { DefinitionView } from './view';

const IP = 'hosts[].ip';
const METRICS = 'exposeMetrics';
const fixedPort = (port: number) => `=${port}`;

/**
 * Flags and config fields another setting owns: certificates, the nginx upstream, the health checks, the port checks
 * and the firewall rules are built from that setting, so a value here would leave them behind. Refused, naming it.
 */
export const OWNED_FLAGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'kube-apiserver': {
    'secure-port': 'apiServerPort', 'advertise-address': IP, 'bind-address': IP, 'etcd-servers': 'the hosts with the etcd role',
    'service-cluster-ip-range': 'network.serviceCidr', 'service-node-port-range': 'network.nodePortRange',
  },
  'kube-controller-manager': {
    'secure-port': fixedPort(PORTS.kubeControllerManager), 'bind-address': METRICS,
    'cluster-cidr': 'network.podCidr', 'service-cluster-ip-range': 'network.serviceCidr',
  },
  'kube-scheduler': { 'secure-port': fixedPort(PORTS.kubeScheduler), 'bind-address': METRICS },
  'kubelet': { 'node-ip': IP, 'hostname-override': 'hosts[].name', 'port': fixedPort(PORTS.kubelet), 'healthz-port': fixedPort(PORTS.kubeletHealthz) },
  'kube-proxy': {
    'hostname-override': 'hosts[].name', 'bind-address': IP, 'cluster-cidr': 'network.podCidr',
    'healthz-bind-address': fixedPort(PORTS.kubeProxyHealthz), 'metrics-bind-address': METRICS,
  },
};
export const OWNED_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'kubelet': {
    port: fixedPort(PORTS.kubelet), healthzPort: fixedPort(PORTS.kubeletHealthz), address: IP,
    clusterDNS: 'network.clusterDns', clusterDomain: 'network.dnsDomain',
  },
  'kube-proxy': {
    bindAddress: IP, clusterCIDR: 'network.podCidr', hostnameOverride: 'hosts[].name',
    healthzBindAddress: fixedPort(PORTS.kubeProxyHealthz), metricsBindAddress: METRICS,
  },
};
/** The message for an owned item: `by` is a definition setting, or '=<port>' for a port kubesmith fixes. */
const owned = (by: string) => (by.startsWith('=')
  ? `is kubesmith's to set: port ${by.slice(1)}, which its health checks, port checks and firewall rules use; remove it`
  : `is set from ${by}; set ${by} instead: the certificates, the nginx upstream and the checks follow it, a value here would not`);

/** A flag's name as written in extraArgs: no dashes in front, no '=' or white space. */
const FLAG_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** What an option file can hold unquoted (lib/components/systemd-unit.ts renderOptionFile). */
const FLAG_VALUE = /^[^"\\$`\s]*$/;

/**
 * components: every feature gate, flag and config field is checked against the reference of the target minor (the
 * minor of kubernetesVersion), so a definition that would hand a binary something it does not know is refused
 * before anything is written. The message names the component, the item and the version.
 */
export function componentRules({ d }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  if (d.components === undefined || !isRecord(d.components)) return issues.list; // shape reports a non-object
  if (!acceptsVersion(release('kubernetes'), d.kubernetesVersion)) return issues.list; // clusterRules reports it
  const version = d.kubernetesVersion as string;
  const minor = minorOf(version);
  const c = d.components as Record<string, unknown>;

  if (isRecord(c.featureGates)) {
    const gates = featureGates(minor);
    for (const [name, value] of Object.entries(c.featureGates)) {
      const where = `components.featureGates.${name}`;
      if (typeof value !== 'boolean') {
        issues.add(where, value, 'must be true or false');
        continue;
      }
      const gate = gates.get(name);
      if (!gate) {
        issues.add(where, value, `is not a feature gate of Kubernetes ${version} (${gone(minor, (m) => featureGates(m).has(name), 'feature gate')})`);
      } else if (gate.locked && value !== gate.default) {
        issues.add(where, value, `cannot be set: the gate is ${gate.stage} and locked to ${gate.default} in Kubernetes ${version}; remove it`);
      }
    }
  }

  for (const component of KUBERNETES_COMPONENTS) {
    const settings = c[component];
    if (!isRecord(settings)) continue;
    if (isRecord(settings.extraArgs)) {
      for (const [name, value] of Object.entries(settings.extraArgs)) {
        const where = `components.${component}.extraArgs.${name}`;
        if (!FLAG_NAME.test(name)) {
          issues.add(where, value, `is not a flag name; write it without leading dashes or "=", e.g. "profiling" for --profiling`);
        } else if (name.replace(/_/g, '-') === 'feature-gates') {
          issues.add(where, value, 'is not taken here; put each gate in components.featureGates, e.g. { InPlacePodVerticalScaling: true }');
        } else if (OWNED_FLAGS[component]?.[name.replace(/_/g, '-')]) {
          issues.add(where, value, owned(OWNED_FLAGS[component][name.replace(/_/g, '-')]));
        } else if (!knownFlag(minor, component, name)) {
          const hasFlag = (m: number) => knownFlag(m, component, name) !== undefined;
          issues.add(where, value, `is not a flag of ${component} in Kubernetes ${version} (${gone(minor, hasFlag, 'flag')})`);
        } else if (!['string', 'number', 'boolean'].includes(typeof value) || !FLAG_VALUE.test(String(value))) {
          issues.add(where, value, 'must be a string without white space, quotes, backslashes, "$" or "`", e.g. "false"');
        }
      }
    }
    const type = configTypeOf(component);
    if (isRecord(settings.config) && type) {
      const ref = fieldReference(minor, type);
      const config = settings.config;
      for (const [field, by] of Object.entries(OWNED_FIELDS[component] ?? {})) {
        if (config[field] !== undefined) issues.add(`components.${component}.config.${field}`, config[field], owned(by));
      }
      for (const fixed of ['apiVersion', 'kind'] as const) {
        if (config[fixed] !== undefined) {
          issues.add(`components.${component}.config.${fixed}`, config[fixed], `is kubesmith's to set (${CONFIG_TYPES[type][fixed]}); remove it`);
        }
      }
      const paths = fieldPaths({ ...config, apiVersion: undefined, kind: undefined }, ref.maps).filter((p) => p !== 'apiVersion' && p !== 'kind');
      for (const p of paths) {
        if (knownField(ref, p)) continue;
        const has = (m: number) => knownField(fieldReference(m, type), p);
        issues.add(`components.${component}.config.${p.replace(/\[\]/g, '[*]')}`, valueAt(config, p),
          `is not a field of ${CONFIG_TYPES[type].kind} (${CONFIG_TYPES[type].apiVersion}) in Kubernetes ${version} (${gone(minor, has, 'field')})`);
      }
    }
  }
  return issues.list;
}

/** Where the item went: the last minor that had it, or a hint to check the spelling. */
function gone(minor: number, has: (m: number) => boolean, what: string): string {
  const last = lastMinorWith(minor, has);
  if (last !== undefined) return `removed in 1.${referencedMinors().find((m) => m > last) ?? last + 1}; 1.${last} is the last minor that has this ${what}`;
  const later = referencedMinors().find((m) => m > minor && has(m));
  if (later !== undefined) return `it first appears in 1.${later}`;
  const minors = referencedMinors();
  return `no Kubernetes minor from 1.${minors[0]} to 1.${minors[minors.length - 1]} has it; check the spelling`;
}

/** The value at a field path ("a.b", "list[].c": the first element's). */
function valueAt(obj: unknown, p: string): unknown {
  let v: unknown = obj;
  for (const part of p.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    v = isRecord(v) ? v[key] : undefined;
    if (list) v = Array.isArray(v) ? v.find(isRecord) : undefined;
  }
  return v;
}
