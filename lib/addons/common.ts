import { ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';

/** Labels on every object kubesmith emits (metadata only: selectors stay explicit). */
export const CHART_PROPS: ChartProps = { labels: { 'app.kubernetes.io/managed-by': 'kubesmith' } };

export const int = (n: number) => k8s.IntOrString.fromNumber(n);
export const quantity = (s: string) => k8s.Quantity.fromString(s);

/** An HTTP GET probe on a numbered port, so tests can match it against container ports. */
export function httpProbe(path: string, port: number, opts: Omit<k8s.Probe, 'httpGet'> & { scheme?: 'HTTP' | 'HTTPS' } = {}): k8s.Probe {
  const { scheme, ...rest } = opts;
  return { httpGet: { path, port: int(port), scheme: scheme ?? 'HTTP' }, ...rest };
}

export function fieldEnv(name: string, fieldPath: string): k8s.EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/** A ClusterRoleBinding / RoleBinding roleRef. */
export function roleRef(kind: 'ClusterRole' | 'Role', name: string): k8s.RoleRef {
  return { apiGroup: 'rbac.authorization.k8s.io', kind, name };
}

export function rule(apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): k8s.PolicyRule {
  return { apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) };
}
