/** Cross-object checks over a set of manifests; each returns human-readable problems (empty = fine). */
import { Manifest } from './helpers';

const WORKLOADS = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);
const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'IngressClass']);
const FORBIDDEN_SUBJECTS = ['system:anonymous', 'system:unauthenticated'];

const id = (o: Manifest) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
const containsLabels = (labels: Record<string, string> = {}, wanted: Record<string, string> = {}) =>
  Object.entries(wanted).every(([k, v]) => labels[k] === v);

/** Workload selectors match their own pod template; Services select some workload's pods. */
export function selectorProblems(objects: Manifest[]): string[] {
  const problems: string[] = [];
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind));
  for (const w of workloads) {
    const sel = w.spec.selector?.matchLabels;
    if (!sel || Object.keys(sel).length === 0) problems.push(`${id(w)}: empty selector`);
    if (!containsLabels(w.spec.template.metadata?.labels, sel)) problems.push(`${id(w)}: selector ${JSON.stringify(sel)} does not match its pod labels`);
  }
  for (const svc of objects.filter((o) => o.kind === 'Service' && o.spec?.selector)) {
    const targets = workloads.filter((w) => w.metadata.namespace === svc.metadata.namespace
      && containsLabels(w.spec.template.metadata?.labels, svc.spec.selector));
    if (targets.length === 0) {
      problems.push(`${id(svc)}: selector ${JSON.stringify(svc.spec.selector)} matches no pods`);
      continue;
    }
    const containerPorts = targets.flatMap((w) => w.spec.template.spec.containers.flatMap((c: Manifest) => c.ports ?? []));
    for (const p of svc.spec.ports ?? []) {
      const target = p.targetPort ?? p.port;
      if (!containerPorts.some((cp: Manifest) => cp.containerPort === target || cp.name === target)) {
        problems.push(`${id(svc)}: targetPort ${target} is no container port of its pods`);
      }
    }
  }
  return problems;
}

/** Every probe targets a port the container declares. */
export function probeProblems(objects: Manifest[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter((o) => WORKLOADS.has(o.kind))) {
    for (const c of w.spec.template.spec.containers) {
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const probe = c[kind];
        if (!probe) continue;
        const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
        if (port === undefined) continue;
        if (!(c.ports ?? []).some((p: Manifest) => p.containerPort === port || p.name === port)) {
          problems.push(`${id(w)} container ${c.name}: ${kind} port ${port} is not a container port`);
        }
      }
    }
  }
  return problems;
}

/** Every claim binds to exactly its volume, and every volume is reserved for exactly its claim. */
export function bindingProblems(objects: Manifest[]): string[] {
  const problems: string[] = [];
  const pvs = objects.filter((o) => o.kind === 'PersistentVolume');
  const pvcs = objects.filter((o) => o.kind === 'PersistentVolumeClaim');
  for (const pvc of pvcs) {
    const pv = pvs.find((v) => v.metadata.name === pvc.spec.volumeName);
    if (!pv) {
      problems.push(`${id(pvc)}: volumeName ${pvc.spec.volumeName} names no PersistentVolume`);
      continue;
    }
    if (pvc.spec.storageClassName !== pv.spec.storageClassName) problems.push(`${id(pvc)}: storageClassName differs from ${id(pv)}`);
    if (pvc.spec.storageClassName === undefined) problems.push(`${id(pvc)}: no storageClassName, so the default StorageClass may provision instead`);
    if (JSON.stringify(pvc.spec.accessModes) !== JSON.stringify(pv.spec.accessModes)) problems.push(`${id(pvc)}: accessModes differ from ${id(pv)}`);
    if (pvc.spec.resources?.requests?.storage !== pv.spec.capacity?.storage) problems.push(`${id(pvc)}: request differs from ${id(pv)} capacity`);
    if (pvc.spec.volumeMode !== pv.spec.volumeMode) problems.push(`${id(pvc)}: volumeMode differs from ${id(pv)}`);
  }
  for (const pv of pvs) {
    const ref = pv.spec.claimRef;
    if (!ref || !pvcs.some((c) => c.metadata.name === ref.name && c.metadata.namespace === ref.namespace && c.spec.volumeName === pv.metadata.name)) {
      problems.push(`${id(pv)}: claimRef ${JSON.stringify(ref)} is not a claim bound back to it`);
    }
  }
  for (const w of objects.filter((o) => WORKLOADS.has(o.kind))) {
    for (const v of w.spec.template.spec.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !pvcs.some((c) => c.metadata.name === claim && c.metadata.namespace === w.metadata.namespace)) {
        problems.push(`${id(w)}: claim ${claim} does not exist in its namespace`);
      }
    }
  }
  return problems;
}

/** No binding hands permissions to unauthenticated users. */
export function anonymousBindingProblems(objects: Manifest[]): string[] {
  return objects
    .filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
    .flatMap((b) => (b.subjects ?? [])
      .filter((s: Manifest) => FORBIDDEN_SUBJECTS.includes(s.name))
      .map((s: Manifest) => `${id(b)}: binds ${b.roleRef.name} to ${s.name}`));
}

/** Objects a pod or Ingress refers to by name exist in the same namespace (or are built in). */
export function referenceProblems(objects: Manifest[]): string[] {
  const problems: string[] = [];
  const has = (kind: string, ns: string, name: string) => objects.some((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === ns);
  for (const w of objects.filter((o) => WORKLOADS.has(o.kind))) {
    const ns = w.metadata.namespace;
    const spec = w.spec.template.spec;
    if (spec.serviceAccountName && !has('ServiceAccount', ns, spec.serviceAccountName)) problems.push(`${id(w)}: ServiceAccount ${spec.serviceAccountName} missing`);
    for (const v of spec.volumes ?? []) {
      if (v.configMap && !has('ConfigMap', ns, v.configMap.name)) problems.push(`${id(w)}: ConfigMap ${v.configMap.name} missing`);
      if (v.secret && !has('Secret', ns, v.secret.secretName)) problems.push(`${id(w)}: Secret ${v.secret.secretName} missing`);
    }
    for (const s of spec.imagePullSecrets ?? []) if (!has('Secret', ns, s.name)) problems.push(`${id(w)}: pull Secret ${s.name} missing`);
  }
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    const ns = ing.metadata.namespace;
    if (!objects.some((o) => o.kind === 'IngressClass' && o.metadata.name === ing.spec.ingressClassName)) {
      problems.push(`${id(ing)}: IngressClass ${ing.spec.ingressClassName} missing`);
    }
    for (const rule of ing.spec.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const svc = objects.find((o) => o.kind === 'Service' && o.metadata.namespace === ns && o.metadata.name === p.backend.service.name);
        if (!svc || !svc.spec.ports.some((sp: Manifest) => sp.port === p.backend.service.port.number)) {
          problems.push(`${id(ing)}: backend ${p.backend.service.name}:${p.backend.service.port.number} missing`);
        }
      }
    }
  }
  return problems;
}

/**
 * `kubectl apply -f dir` reads files in name order and each file top to bottom:
 * every namespaced object must come after its Namespace.
 */
export function applyOrderProblems(files: ReadonlyArray<{ name: string; objects: Manifest[] }>): string[] {
  const known = new Set(BUILTIN_NAMESPACES);
  const problems: string[] = [];
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const o of f.objects) {
      if (o.kind === 'Namespace') known.add(o.metadata.name);
      else if (!CLUSTER_SCOPED.has(o.kind) && !known.has(o.metadata.namespace)) {
        problems.push(`${f.name}: ${id(o)} comes before its Namespace`);
      }
    }
  }
  return problems;
}
