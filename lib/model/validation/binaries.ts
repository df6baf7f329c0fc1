import { CHECKSUM, DEFINED_RELEASES, MIRROR, acceptsVersion, release } from '../releases';
import { DefinitionIssue, Issues } from './issue';
import { isRecord } from './values';
import { DefinitionView } from './view';

/** binaries: the mirror, and each release's version and checksum. */
export function binaryRules({ d }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  const b = isRecord(d.binaries) ? d.binaries : {};
  if (b.mirror !== undefined && (typeof b.mirror !== 'string' || !MIRROR.test(b.mirror))) {
    issues.add('binaries.mirror', b.mirror, 'is not a mirror base URL; use http(s)://host[:port][/path] without spaces, quotes or a query, e.g. "https://mirror.example.cn/k8s"');
  }
  const k8s = isRecord(b.kubernetes) ? b.kubernetes : {};
  if (k8s.checksum !== undefined && (typeof k8s.checksum !== 'string' || !/^sha512:[0-9a-f]{128}$/.test(k8s.checksum))) {
    issues.add('binaries.kubernetes.checksum', k8s.checksum, 'is not a sha512 checksum; use "sha512:" and 128 lowercase hex digits, as CHANGELOG-1.NN.md lists it');
  }
  for (const id of DEFINED_RELEASES) {
    const r = release(id);
    const given = isRecord(b[id]) ? b[id] : {};
    if (given.version !== undefined && !acceptsVersion(r, given.version)) {
      issues.add(`binaries.${id}.version`, given.version, `is not supported; use ${r.acceptsText} without the leading v, e.g. "${r.example}"`);
    }
    if (given.checksum !== undefined && (typeof given.checksum !== 'string' || !CHECKSUM.test(given.checksum))) {
      issues.add(`binaries.${id}.checksum`, given.checksum, 'is not a checksum; use "sha256:" and 64 hex digits or "sha512:" and 128, lowercase, as the release page shows it');
    }
  }
  return issues.list;
}
