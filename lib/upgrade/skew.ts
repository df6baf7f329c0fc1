import { minorOf } from '../versions/kubernetes';

/**
 * The version-skew policy (https://kubernetes.io/releases/version-skew-policy/), as data: how many minors each
 * component may lag behind (older) or lead (newer) the oldest kube-apiserver of the cluster. The upgrade plan states
 * it after each wave; the roll-out checks it on the live cluster after every host.
 */
export const VERSION_SKEW = {
  /** The newest and the oldest kube-apiserver of an HA cluster: at most one minor apart. */
  'kube-apiserver': { older: 1, newer: 1 },
  /** Never newer than any apiserver; up to three minors older (two before 1.28). */
  kubelet: { older: 3, newer: 0 },
  'kube-proxy': { older: 3, newer: 0 },
  'kube-controller-manager': { older: 1, newer: 0 },
  'kube-scheduler': { older: 1, newer: 0 },
  /** The client: one minor either side of the apiservers. */
  kubectl: { older: 1, newer: 1 },
} as const;
export type SkewComponent = keyof typeof VERSION_SKEW;

/** Versions read from a live cluster: apiserver by master (its /version), kubelet by Node (status.nodeInfo.kubeletVersion). */
export interface ObservedVersions {
  readonly apiservers: Readonly<Record<string, string>>;
  readonly kubelets: Readonly<Record<string, string>>;
}

const minor = (v: string): number => minorOf(v.replace(/^v/, '').replace(/[-+].*$/, ''));

/** What breaks the policy in the observed versions, one sentence each; empty when it holds. */
export function skewViolations(o: ObservedVersions): string[] {
  const problems: string[] = [];
  const api = Object.entries(o.apiservers);
  for (const [name, v] of [...api, ...Object.entries(o.kubelets)]) {
    if (Number.isNaN(minor(v))) problems.push(`${name} reports version "${v}", which is not 1.N.P`);
  }
  if (problems.length > 0 || api.length === 0) return api.length === 0 ? ['no kube-apiserver answered /version'] : problems;
  const oldest = api.reduce((a, b) => (minor(b[1]) < minor(a[1]) ? b : a));
  const newest = api.reduce((a, b) => (minor(b[1]) > minor(a[1]) ? b : a));
  if (minor(newest[1]) - minor(oldest[1]) > VERSION_SKEW['kube-apiserver'].older) {
    problems.push(`kube-apiserver on ${newest[0]} is ${newest[1]} and on ${oldest[0]} ${oldest[1]}: more than one minor apart`);
  }
  for (const [node, v] of Object.entries(o.kubelets)) {
    const d = minor(v) - minor(oldest[1]);
    if (d > VERSION_SKEW.kubelet.newer) problems.push(`the kubelet of ${node} is ${v}, newer than kube-apiserver on ${oldest[0]} (${oldest[1]})`);
    const older = minor(oldest[1]) >= 28 ? VERSION_SKEW.kubelet.older : 2;
    if (-d > older) problems.push(`the kubelet of ${node} is ${v}, more than ${older} minors older than kube-apiserver on ${oldest[0]} (${oldest[1]})`);
  }
  return problems;
}
