import { DEFAULTS } from '../defaults';
import { ClusterDefinition } from '../definition';
import { DefinitionIssue, Issues } from './issue';
import {
  EXTRA_GROUP, LABEL_NAME, MAX_REPLICAS, checkBoolean, isLabelKey, isPositiveInt, isRecord,
} from './values';
import { DefinitionView } from './view';

/** addons: CoreDNS, Dashboard, ingress-nginx and the bootstrap token's groups. */
export function addonRules({ d, nodePorts }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  const a = (d.addons ?? {}) as NonNullable<ClusterDefinition['addons']>;
  if (d.addons !== undefined && (typeof d.addons !== 'object' || d.addons === null)) {
    issues.add('addons', d.addons, 'must be an object, e.g. { dashboard: { nodePort: 30001 } }');
  }
  checkBoolean(issues, 'addons.coreDns.enabled', a.coreDns?.enabled);
  if (a.coreDns?.replicas !== undefined && !(isPositiveInt(a.coreDns.replicas) && a.coreDns.replicas <= MAX_REPLICAS)) {
    issues.add('addons.coreDns.replicas', a.coreDns.replicas, `must be a positive whole number, at most ${MAX_REPLICAS}, e.g. ${DEFAULTS.addons.coreDns.replicas}`);
  }

  const dash = a.dashboard ?? {};
  checkBoolean(issues, 'addons.dashboard.enabled', dash.enabled);
  checkBoolean(issues, 'addons.dashboard.adminUser', dash.adminUser);
  const dashPort = dash.nodePort ?? DEFAULTS.addons.dashboard.nodePort;
  if (!Number.isInteger(dashPort)) {
    issues.add('addons.dashboard.nodePort', dash.nodePort, `is not a port number; use an integer inside network.nodePortRange, e.g. ${DEFAULTS.addons.dashboard.nodePort}`);
  } else if (dash.enabled !== false && nodePorts && (dashPort < nodePorts.low || dashPort > nodePorts.high)) {
    issues.add('addons.dashboard.nodePort', dash.nodePort ?? dashPort, `is outside network.nodePortRange ${nodePorts.low}-${nodePorts.high}; pick a port inside it`);
  }
  if (dash.adminUser === true && dash.enabled === false) {
    issues.add('addons.dashboard.adminUser', true, 'needs the dashboard; remove adminUser or set addons.dashboard.enabled to true');
  }

  const ing = a.ingressNginx ?? {};
  checkBoolean(issues, 'addons.ingressNginx.enabled', ing.enabled);
  for (const field of ['nodeSelector', 'config'] as const) {
    const v = ing[field];
    if (v !== undefined && !isRecord(v)) issues.add(`addons.ingressNginx.${field}`, v, 'must be an object of string keys and values');
  }
  for (const [k, v] of Object.entries(isRecord(ing.nodeSelector) ? ing.nodeSelector : {})) {
    if (!isLabelKey(k)) issues.add(`addons.ingressNginx.nodeSelector["${k}"]`, k, 'is not a label key; use [prefix/]name, name up to 63 letters, digits, "-", "_", ".", e.g. "node-role.kubernetes.io/ingress"');
    if (typeof v !== 'string' || (v !== '' && !LABEL_NAME.test(v))) {
      issues.add(`addons.ingressNginx.nodeSelector["${k}"]`, v, 'is not a label value; use up to 63 letters, digits, "-", "_", ".", e.g. "true"');
    }
  }
  for (const [k, v] of Object.entries(isRecord(ing.config) ? ing.config : {})) {
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(k)) issues.add(`addons.ingressNginx.config["${k}"]`, k, 'is not a ConfigMap key; use 1 to 253 letters, digits, "-", "_" or ".", e.g. "proxy-body-size"');
    if (typeof v !== 'string') issues.add(`addons.ingressNginx.config["${k}"]`, v, 'must be a string; ingress-nginx reads every value as text, e.g. "true"');
  }

  const ttl = a.bootstrapToken?.ttlHours;
  if (ttl !== undefined && !(isPositiveInt(ttl) && ttl <= 720)) {
    issues.add('addons.bootstrapToken.ttlHours', ttl, `must be a whole number of hours from 1 to 720, e.g. ${DEFAULTS.addons.bootstrapToken.ttlHours}`);
  }
  const extraGroups = a.bootstrapToken?.extraGroups;
  if (extraGroups !== undefined && !Array.isArray(extraGroups)) {
    issues.add('addons.bootstrapToken.extraGroups', extraGroups, 'must be a list of group names, e.g. ["system:bootstrappers:workers"]');
  }
  const groups: unknown[] = Array.isArray(extraGroups) ? [...extraGroups] : [];
  groups.forEach((g, i) => {
    if (typeof g !== 'string' || !EXTRA_GROUP.test(g)) {
      issues.add(`addons.bootstrapToken.extraGroups[${i}]`, g, 'is not a bootstrap group; use "system:bootstrappers:<name>" with lowercase letters, digits, ":" and "-", e.g. "system:bootstrappers:workers"');
    } else if (groups.indexOf(g) !== i) issues.add(`addons.bootstrapToken.extraGroups[${i}]`, g, 'is listed twice; remove the duplicate');
  });
  return issues.list;
}
