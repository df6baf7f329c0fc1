import { ClusterDefinition } from '../definition';
import { addonRules } from './addons';
import { appRules } from './apps';
import { binaryRules } from './binaries';
import { certificateRules } from './certificates';
import { clusterRules } from './cluster';
import { componentRules } from './components';
import { etcdRules, upgradeRules } from './etcd';
import { hostRules } from './hosts';
import { DefinitionIssue } from './issue';
import { loadBalancerRules } from './load-balancer';
import { networkRules } from './network';
import { portRules } from './ports';
import { shapeRules } from './shape';
import { DefinitionView, viewOf } from './view';

export { ClusterDefinitionError, DefinitionIssue } from './issue';
export { closest, parsePortRange } from './values';

/** The rule groups, by area; each returns its issues. */
const RULE_GROUPS: readonly ((view: DefinitionView) => DefinitionIssue[])[] = [
  clusterRules, hostRules, networkRules, loadBalancerRules, portRules, certificateRules, binaryRules, addonRules, appRules, etcdRules, upgradeRules,
  componentRules,
];

/**
 * Checks every rule and returns all issues found (empty = valid). Takes `unknown`-ish
 * input on purpose: main.ts may be plain JavaScript or built from data.
 */
export function validateDefinition(def: ClusterDefinition): DefinitionIssue[] {
  const shape = shapeRules(def);
  if (shape.some((i) => i.path === '(definition)')) return shape;
  const view = viewOf(def);
  return [...shape, ...RULE_GROUPS.flatMap((rules) => rules(view))];
}
