import { HOST_ROLES } from '../definition';
import { isIpv4, unusableHostAddress } from '../ipv4';
import { DefinitionIssue, Issues } from './issue';
import { ANSIBLE_GROUPS, DNS1123_LABEL, IFNAME } from './values';
import { DefinitionView } from './view';

/** Each host's name, address, interface and roles; the cluster's master and etcd member counts. */
export function hostRules({ d, hosts, withRole }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  if (!Array.isArray(d.hosts) || hosts.length === 0) {
    issues.add('hosts', d.hosts, 'must list at least one host, e.g. [{ name: "k8s1", ip: "192.168.100.10", roles: ["master", "etcd", "node"] }]');
  }
  const names = new Map<string, number>();
  const ips = new Map<string, number>();
  hosts.forEach((h, i) => {
    const p = `hosts[${i}]`;
    const named = typeof h?.name === 'string' && DNS1123_LABEL.test(h.name) ? h.name : undefined;
    // The name is also the node name, a file name (dist/hosts/<name>.tar.gz), an Ansible inventory host and a
    // keepalived router_id: an RFC 1123 label is safe in all of them.
    if (typeof h?.name !== 'string' || !DNS1123_LABEL.test(h.name)) {
      issues.add(`${p}.name`, h?.name, 'is not an RFC 1123 label; use 1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. "k8s1"');
    } else if (ANSIBLE_GROUPS.includes(h.name)) {
      issues.add(`${p}.name`, h.name, `is a group name in dist/ansible/inventory.ini (${ANSIBLE_GROUPS.join(', ')}), so plays would mistake the host for the group; pick another, e.g. "${h.name}1"`, named);
    } else if (names.has(h.name)) {
      issues.add(`${p}.name`, h.name, `duplicates hosts[${names.get(h.name)}].name; every host needs its own name`, named);
    } else names.set(h.name, i);
    if (!isIpv4(h?.ip)) {
      issues.add(`${p}.ip`, h?.ip, 'is not a valid IPv4 address; expected a dotted quad like "192.168.100.10"', named);
    } else if (unusableHostAddress(h.ip)) {
      issues.add(`${p}.ip`, h.ip, `is ${unusableHostAddress(h.ip)}, which no machine can be reached at; use the host's own unicast address, e.g. "192.168.100.10"`, named);
    } else if (ips.has(h.ip)) {
      issues.add(`${p}.ip`, h.ip, `duplicates hosts[${ips.get(h.ip)}].ip; every host needs its own address`, named);
    } else ips.set(h.ip, i);
    if (h?.interface !== undefined && (typeof h.interface !== 'string' || !IFNAME.test(h.interface))) {
      issues.add(`${p}.interface`, h.interface, 'is not a Linux network interface name; use 1 to 15 letters, digits, "_", "." or "-" (not "." or ".."), e.g. "ens33"', named);
    }
    const roles: unknown[] = Array.isArray(h?.roles) ? h.roles : [];
    if (!Array.isArray(h?.roles) || roles.length === 0) {
      issues.add(`${p}.roles`, h?.roles, `must list at least one role of ${HOST_ROLES.join(', ')}, e.g. ["node"]`, named);
    }
    roles.forEach((r, j) => {
      if (!HOST_ROLES.includes(r as never)) issues.add(`${p}.roles[${j}]`, r, `is not a role; use one of ${HOST_ROLES.join(', ')}`, named);
      else if (roles.indexOf(r) !== j) issues.add(`${p}.roles[${j}]`, r, 'is listed twice; remove the duplicate', named);
    });
  });
  const etcd = withRole('etcd');
  if (hosts.length > 0 && withRole('master').length === 0) {
    issues.add('hosts', hosts.map((h) => h?.name), 'has no host with the "master" role; add it to at least one host');
  }
  if (hosts.length > 0 && (etcd.length === 0 || etcd.length % 2 === 0)) {
    issues.add('hosts', etcd.map((h) => h?.name), `has ${etcd.length} etcd members; etcd needs an odd number to keep a quorum: add the etcd role to a host or remove it from one, e.g. 3 members`);
  }
  return issues.list;
}
