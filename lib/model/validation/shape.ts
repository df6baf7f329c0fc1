import { ClusterDefinition } from '../definition';
import { DEFINED_RELEASES, DefinedReleaseId } from '../releases';
import { DefinitionIssue, Issues } from './issue';
import { closest, isRecord } from './values';

/**
 * The definition's shape: which fields each object has, which are lists and which hold user keys. The type below
 * makes it mirror ClusterDefinition exactly, so a field added to the definition must be added here too. Checked
 * first: a value of the wrong kind, or a field the definition does not have (a typo that would otherwise leave a
 * default in place silently), is an issue; the rule groups then check each value's domain.
 */
type Shape<T> =
  T extends readonly (infer E)[] ? { readonly list: Shape<E> }
    : T extends string | number | boolean ? 'value'
      : string extends keyof T ? 'record'
        : { readonly [K in keyof Required<T>]: Shape<Required<T>[K]> };

const DEFINITION: Shape<ClusterDefinition> = {
  name: 'value',
  kubernetesVersion: 'value',
  hosts: { list: { name: 'value', ip: 'value', interface: 'value', roles: { list: 'value' } } },
  apiServerPort: 'value',
  auditLog: 'value',
  exposeMetrics: 'value',
  loadBalancer: { vip: 'value', port: 'value', virtualRouterId: 'value', loadStreamModule: 'value', streamModulePath: 'value' },
  network: {
    serviceCidr: 'value', clusterDns: 'value', dnsDomain: 'value', podCidr: 'value',
    flannelBackend: 'value', kubeProxyMode: 'value', nodePortRange: 'value',
  },
  certificates: {
    subject: { country: 'value', state: 'value', locality: 'value' },
    caValidityDays: 'value', validityDays: 'value', keyAlgorithm: 'value',
    expiryCheck: { enabled: 'value', schedule: 'value', textfileDirectory: 'value' },
  },
  imageRegistry: 'value',
  binaries: {
    mirror: 'value',
    kubernetes: { checksum: 'value' },
    ...Object.fromEntries(DEFINED_RELEASES.map((r) => [r, { version: 'value', checksum: 'value' }])) as Record<DefinedReleaseId, { version: 'value'; checksum: 'value' }>,
  },
  addons: {
    coreDns: { enabled: 'value', replicas: 'value' },
    dashboard: { enabled: 'value', nodePort: 'value', adminUser: 'value' },
    ingressNginx: { enabled: 'value', nodeSelector: 'record', config: 'record' },
    bootstrapToken: { extraGroups: { list: 'value' }, ttlHours: 'value' },
  },
  upgrades: { drain: 'value', drainTimeoutSeconds: 'value' },
  etcd: { snapshots: { enabled: 'value', schedule: 'value', keep: 'value', afterSnapshot: 'value' } },
  components: {
    featureGates: 'record',
    'kube-apiserver': { extraArgs: 'record' },
    'kube-controller-manager': { extraArgs: 'record' },
    'kube-scheduler': { extraArgs: 'record', config: 'record' },
    kubelet: { extraArgs: 'record', config: 'record' },
    'kube-proxy': { extraArgs: 'record', config: 'record' },
  },
  apps: {
    list: {
      name: 'value', namespace: 'value', image: 'value', useImageRegistry: 'value', replicas: 'value',
      containerPort: 'value', probePath: 'value',
      resources: { requests: { cpu: 'value', memory: 'value' }, limits: { cpu: 'value', memory: 'value' } },
      env: 'record', host: 'value', tls: { secretName: 'value' }, sslRedirect: 'value',
      volumes: {
        list: {
          name: 'value', mountPath: 'value', server: 'value', path: 'value', size: 'value',
          accessMode: 'value', readOnly: 'value', perPod: 'value', mountOptions: { list: 'value' },
        },
      },
    },
  },
};

type AnyShape = 'value' | 'record' | { readonly list: AnyShape } | { readonly [field: string]: AnyShape };

function check(issues: Issues, path: string, value: unknown, shape: AnyShape): void {
  if (value === undefined || shape === 'value') return;
  const where = path || 'the definition';
  if (shape === 'record') {
    if (!isRecord(value)) issues.add(path, value, 'must be an object of names and string values, e.g. { "key": "value" }');
    return;
  }
  if ('list' in shape && Object.keys(shape).length === 1) {
    if (!Array.isArray(value)) {
      issues.add(path, value, 'must be a list, e.g. [ ... ]');
      return;
    }
    value.forEach((item, i) => {
      if (typeof shape.list === 'object' && !('list' in shape.list) && !isRecord(item)) {
        issues.add(`${path}[${i}]`, item, 'must be an object, e.g. { name: ... }');
        return;
      }
      check(issues, `${path}[${i}]`, item, shape.list);
    });
    return;
  }
  const fields = shape as { readonly [field: string]: AnyShape };
  if (!isRecord(value)) {
    issues.add(path, value, `must be an object with the fields ${Object.keys(fields).join(', ')}`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (!Object.hasOwn(fields, key)) {
      const hint = closest(key, Object.keys(fields));
      issues.add(path ? `${path}.${key}` : key, v, `is not a field of ${where}${hint ? `; did you mean "${hint}"?` : ''} Use one of ${Object.keys(fields).join(', ')}`);
      continue;
    }
    check(issues, path ? `${path}.${key}` : key, v, fields[key]);
  }
}

/** Objects where the definition has objects, lists where it has lists, and no field it does not have. */
export function shapeRules(def: unknown): DefinitionIssue[] {
  const issues = new Issues();
  if (!isRecord(def)) {
    issues.add('(definition)', def, 'must be an object: the ClusterDefinition main.ts exports, with name, kubernetesVersion, hosts and network at least');
    return issues.list;
  }
  check(issues, '', def, DEFINITION as unknown as AnyShape);
  return issues.list;
}
