/** Defaults of the `addons` and `apps` sections; kept import-free so validation can use them. */
export const ADDON_DEFAULTS = {
  coreDnsReplicas: 2,
  dashboardNodePort: 30001,
  appReplicas: 1,
  appContainerPort: 8080,
  appProbePath: '/',
  appRequests: { cpu: '250m', memory: '512Mi' },
  appLimits: { cpu: '1', memory: '1Gi' },
  volumeSize: '5Gi',
  volumeAccessMode: 'ReadWriteMany',
} as const;

/** Namespaces the addons own or Kubernetes reserves; apps may not use them. */
export const RESERVED_NAMESPACES: readonly string[] = [
  'kube-system', 'kube-public', 'kube-node-lease', 'kubernetes-dashboard', 'ingress-nginx',
];
