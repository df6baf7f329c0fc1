import { HOST_ROLES } from '../definition';
import { isIpv4 } from '../ipv4';
import { DefinitionIssue, Issues } from './issue';
import { DNS1123_SUBDOMAIN, IFNAME } from './values';
import { DefinitionView } from './view';

/** Each host's name, address, interface and roles; the cluster's master and etcd member counts. */
export function hostRules({ d, hosts, withRole }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  if (!Array.isArray(d.hosts) || hosts.length === 0) issues.add('hosts', d.hosts, 'must list at least one host');
  const names = new Map<string, number>();
  const ips = new Map<string, number>();
  hosts.forEach((h, i) => {
    const p = `hosts[${i}]`;
    if (typeof h?.name !== 'string' || !DNS1123_SUBDOMAIN.test(h.name)) {
      issues.add(`${p}.name`, h?.name, 'is not an RFC 1123 host name; use lowercase letters, digits, "-" and ".", e.g. "k8s1"');
    } else if (names.has(h.name)) {
      issues.add(`${p}.name`, h.name, `duplicates hosts[${names.get(h.name)}].name; every host needs its own name`);
    } else names.set(h.name, i);
    if (!isIpv4(h?.ip)) {
      issues.add(`${p}.ip`, h?.ip, 'is not a valid IPv4 address; expected a dotted quad like "192.168.100.10"');
    } else if (ips.has(h.ip)) {
      issues.add(`${p}.ip`, h.ip, `duplicates hosts[${ips.get(h.ip)}].ip; every host needs its own address`);
    } else ips.set(h.ip, i);
    if (h?.interface !== undefined && (typeof h.interface !== 'string' || !IFNAME.test(h.interface))) {
      issues.add(`${p}.interface`, h.interface, 'is not a network interface name; use 1-15 characters without "/" or spaces, e.g. "ens33"');
    }
    const roles: unknown[] = Array.isArray(h?.roles) ? h.roles : [];
    if (!Array.isArray(h?.roles) || roles.length === 0) {
      issues.add(`${p}.roles`, h?.roles, `must list at least one role of ${HOST_ROLES.join(', ')}`);
    }
    roles.forEach((r, j) => {
      if (!HOST_ROLES.includes(r as never)) issues.add(`${p}.roles[${j}]`, r, `is not a role; use one of ${HOST_ROLES.join(', ')}`);
      else if (roles.indexOf(r) !== j) issues.add(`${p}.roles[${j}]`, r, 'is listed twice; remove the duplicate');
    });
  });
  const etcd = withRole('etcd');
  if (hosts.length > 0 && withRole('master').length === 0) {
    issues.add('hosts', hosts.map((h) => h?.name), 'has no host with the "master" role; add it to at least one host');
  }
  if (hosts.length > 0 && (etcd.length === 0 || etcd.length % 2 === 0)) {
    issues.add('hosts', etcd.map((h) => h?.name), `has ${etcd.length} etcd members; etcd needs an odd number (1, 3 or 5) to keep a quorum`);
  }
  return issues.list;
}
