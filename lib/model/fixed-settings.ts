import { ClusterModel } from './cluster-model';
import { ClusterDefinitionError, DefinitionIssue } from './validation/issue';

/**
 * Settings a running cluster cannot change: each is written into state the cluster keeps (Node objects, pod and
 * Service addresses, every pod's resolv.conf), so a new value would leave the old one live beside it. Synth refuses
 * a change to any of them once a synth of the cluster exists, naming the field.
 */
export const FIXED_NETWORK = {
  podCidr: {
    path: 'network.podCidr',
    value: (m: ClusterModel) => m.network.podCidr.text,
    why: 'every Node\'s spec.podCIDR and flannel\'s lease come from it, and a Node\'s podCIDR never changes',
  },
  serviceCidr: {
    path: 'network.serviceCidr',
    value: (m: ClusterModel) => m.network.serviceCidr.text,
    why: 'every Service keeps the cluster IP it was given, the kubernetes Service its first address, and the apiserver certificate names it',
  },
  clusterDns: {
    path: 'network.clusterDns',
    value: (m: ClusterModel) => m.network.clusterDns,
    why: 'every running pod\'s resolv.conf names it, and the kube-dns Service\'s clusterIP cannot be changed in place',
  },
  dnsDomain: {
    path: 'network.dnsDomain',
    value: (m: ClusterModel) => m.network.dnsDomain,
    why: 'every running pod\'s resolv.conf searches it, and certificates and workloads name Services by it',
  },
} as const;

export type FixedNetwork = { readonly [K in keyof typeof FIXED_NETWORK]: string };

/** The fixed settings of a model, as the synth record keeps them. */
export function fixedNetworkOf(model: ClusterModel): FixedNetwork {
  const entries = (Object.keys(FIXED_NETWORK) as (keyof typeof FIXED_NETWORK)[]).map((k) => [k, FIXED_NETWORK[k].value(model)]);
  return Object.fromEntries(entries) as FixedNetwork;
}

/** Refuses a model whose fixed settings differ from the last synth's (`previous`; absent before the first synth). */
export function checkFixedNetwork(model: ClusterModel, previous: Partial<FixedNetwork> | undefined): void {
  if (!previous) return;
  const now = fixedNetworkOf(model);
  const issues: DefinitionIssue[] = [];
  for (const k of Object.keys(FIXED_NETWORK) as (keyof typeof FIXED_NETWORK)[]) {
    const was = previous[k];
    if (was === undefined || was === now[k]) continue;
    issues.push({
      path: FIXED_NETWORK[k].path,
      value: now[k],
      message: `differs from ${JSON.stringify(was)}, the value of the last synth, and cannot change on a running cluster: `
        + `${FIXED_NETWORK[k].why}. Keep ${JSON.stringify(was)}, or build a new cluster with its own state directory and move the workloads`,
    });
  }
  if (issues.length > 0) throw new ClusterDefinitionError(issues);
}
