/**
 * API versions a Kubernetes minor stops serving, from upstream's Deprecated API Migration Guide
 * (https://kubernetes.io/docs/reference/using-api/deprecation-guide/, "Removed APIs by release"; it lists none after
 * 1.32). An upgrade's preflight refuses to move into a minor while one of its removed APIs is still requested
 * (apiserver_requested_deprecated_apis) or still lists objects. Adding a minor: copy its section here.
 */
export interface RemovedApi {
  /** The minor that no longer serves it. */
  readonly minor: number;
  /** group/version */
  readonly api: string;
  readonly resources: readonly string[];
  /** Where its objects are served now. */
  readonly replacement: string;
}

export const REMOVED_APIS: readonly RemovedApi[] = [
  { minor: 27, api: 'storage.k8s.io/v1beta1', resources: ['csistoragecapacities'], replacement: 'storage.k8s.io/v1' },
  { minor: 29, api: 'flowcontrol.apiserver.k8s.io/v1beta2', resources: ['flowschemas', 'prioritylevelconfigurations'], replacement: 'flowcontrol.apiserver.k8s.io/v1' },
  { minor: 32, api: 'flowcontrol.apiserver.k8s.io/v1beta3', resources: ['flowschemas', 'prioritylevelconfigurations'], replacement: 'flowcontrol.apiserver.k8s.io/v1' },
];

/** The APIs that stop being served on the way from one minor to a later one. */
export function removedBetween(fromMinor: number, toMinor: number): RemovedApi[] {
  return REMOVED_APIS.filter((r) => r.minor > fromMinor && r.minor <= toMinor);
}
