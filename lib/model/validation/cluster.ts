import { acceptsVersion, release } from '../releases';
import { DefinitionIssue, Issues } from './issue';
import { DNS1123_LABEL, REGISTRY, checkBoolean } from './values';
import { DefinitionView } from './view';

/** name, kubernetesVersion, imageRegistry, auditLog. */
export function clusterRules({ d }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  if (typeof d.name !== 'string' || !DNS1123_LABEL.test(d.name)) {
    issues.add('name', d.name, 'is not an RFC 1123 label; use lowercase letters, digits and "-", at most 63 characters, e.g. "kubesmith"');
  }
  const k8s = release('kubernetes');
  if (!acceptsVersion(k8s, d.kubernetesVersion)) {
    issues.add('kubernetesVersion', d.kubernetesVersion, `is not supported; use ${k8s.acceptsText}, e.g. "${k8s.example}"`);
  }
  if (d.imageRegistry !== undefined && (typeof d.imageRegistry !== 'string' || !REGISTRY.test(d.imageRegistry))) {
    issues.add('imageRegistry', d.imageRegistry, 'is not a registry prefix; use host[:port][/path], e.g. "registry.aliyuncs.com/google_containers"');
  }
  checkBoolean(issues, 'auditLog', d.auditLog);
  checkBoolean(issues, 'exposeMetrics', d.exposeMetrics);
  return issues.list;
}
