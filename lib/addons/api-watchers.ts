import { ResolvedAddons } from '../model';
import { COREDNS_WORKLOAD } from './coredns';
import { DASHBOARD_WORKLOADS } from './dashboard';
import { INGRESS_NGINX_WORKLOAD } from './ingress-nginx';

/** A workload of the addons whose pods hold a watch cache of the API (a restore makes it stale). */
export interface ApiWatcher {
  readonly kind: 'deployment' | 'daemonset';
  readonly namespace: string;
  readonly name: string;
}

/** The addons' workloads that talk to the apiserver, for those the definition enables. */
export function apiWatchers(addons: ResolvedAddons): ApiWatcher[] {
  return [
    ...(addons.coreDns.enabled ? [COREDNS_WORKLOAD] : []),
    ...(addons.dashboard.enabled ? DASHBOARD_WORKLOADS : []),
    ...(addons.ingressNginx.enabled ? [INGRESS_NGINX_WORKLOAD] : []),
  ];
}
