import { DEFAULTS } from '../defaults';
import { ClusterDefinition, FLANNEL_BACKENDS, KUBE_PROXY_MODES } from '../definition';
import { FLANNEL_SUBNET_LEN } from '../constants';
import {
  Ipv4Cidr, cidrContains, cidrsOverlap, isIpv4, nthAddress, unusableHostAddress,
} from '../ipv4';
import { DefinitionIssue, Issues } from './issue';
import { DNS1123_SUBDOMAIN, checkCidr, isPort } from './values';
import { DefinitionView } from './view';

/** apiServerPort and the network section: ranges, their sizes, and that host, pod and Service networks are disjoint. */
export function networkRules({ d, hosts, withRole, nodePorts, apiPort }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  if (!isPort(apiPort)) issues.add('apiServerPort', d.apiServerPort, 'is not a port; use an integer from 1 to 65535, e.g. 6443');

  const n = (d.network ?? {}) as Partial<ClusterDefinition['network']>;
  if (d.network === undefined) issues.add('network', undefined, 'is required: serviceCidr and podCidr at least');
  const serviceCidr = checkCidr(issues, 'network.serviceCidr', n.serviceCidr, '10.0.0.0/24');
  const podCidr = checkCidr(issues, 'network.podCidr', n.podCidr, '172.20.0.0/16');
  for (const [field, cidr, value] of [['network.serviceCidr', serviceCidr, n.serviceCidr], ['network.podCidr', podCidr, n.podCidr]] as const) {
    const why = cidr && unusableRange(cidr);
    if (why) issues.add(field, value, `is ${why}, which pods and Services cannot use; use a private range, e.g. "${field === 'network.podCidr' ? '172.20.0.0/16' : '10.0.0.0/24'}"`);
  }
  if (serviceCidr && (serviceCidr.prefix < 12 || serviceCidr.prefix > 29)) {
    issues.add('network.serviceCidr', n.serviceCidr, 'has a size the apiserver rejects or that leaves no room for Services; use a prefix from /12 to /29');
  }
  if (serviceCidr && n.clusterDns !== undefined) {
    const first = nthAddress(serviceCidr, 1);
    if (!isIpv4(n.clusterDns)) {
      issues.add('network.clusterDns', n.clusterDns, 'is not a valid IPv4 address; expected e.g. "10.0.0.2"');
    } else if (!cidrContains(serviceCidr, n.clusterDns)
      || n.clusterDns === serviceCidr.network || n.clusterDns === nthAddress(serviceCidr, serviceCidr.size - 1)) {
      issues.add('network.clusterDns', n.clusterDns, `is outside the usable addresses of network.serviceCidr ${serviceCidr.text}; pick one like ${nthAddress(serviceCidr, 2)}`);
    } else if (n.clusterDns === first) {
      issues.add('network.clusterDns', n.clusterDns, `is the first Service IP, which the "kubernetes" Service takes; pick another, e.g. ${nthAddress(serviceCidr, 2)}`);
    }
  }
  if (podCidr && serviceCidr && cidrsOverlap(podCidr, serviceCidr)) {
    issues.add('network.podCidr', n.podCidr, `overlaps network.serviceCidr ${serviceCidr.text}; pod and Service networks must be disjoint`);
  }
  if (podCidr && podCidr.prefix >= FLANNEL_SUBNET_LEN) {
    issues.add('network.podCidr', n.podCidr, `leaves no room for per-node /${FLANNEL_SUBNET_LEN} subnets; use a prefix shorter than /${FLANNEL_SUBNET_LEN}, e.g. /16`);
  } else if (podCidr) {
    const subnets = 2 ** (FLANNEL_SUBNET_LEN - podCidr.prefix);
    // Masters run a kubelet too: every master and node takes one subnet.
    const nodes = new Set([...withRole('node'), ...withRole('master')]).size;
    if (nodes > subnets) {
      issues.add('network.podCidr', n.podCidr, `has room for ${subnets} node subnets (/${FLANNEL_SUBNET_LEN}) but ${nodes} hosts are masters or nodes; use a larger range, e.g. a /16`);
    }
  }
  hosts.forEach((h, i) => {
    if (!isIpv4(h?.ip)) return;
    for (const [field, cidr] of [['network.podCidr', podCidr], ['network.serviceCidr', serviceCidr]] as const) {
      if (cidr && cidrContains(cidr, h.ip)) {
        issues.add(`hosts[${i}].ip`, h.ip, `lies inside ${field} ${cidr.text}; host, pod and Service networks must be disjoint`, typeof h.name === 'string' ? h.name : undefined);
      }
    }
  });
  if (n.dnsDomain !== undefined && (typeof n.dnsDomain !== 'string' || !DNS1123_SUBDOMAIN.test(n.dnsDomain))) {
    issues.add('network.dnsDomain', n.dnsDomain, 'is not a DNS domain; use lowercase labels separated by dots, e.g. "cluster.local"');
  }
  if (n.flannelBackend !== undefined && !FLANNEL_BACKENDS.includes(n.flannelBackend)) {
    issues.add('network.flannelBackend', n.flannelBackend, `is not supported; use one of ${FLANNEL_BACKENDS.join(', ')}`);
  }
  if (n.kubeProxyMode !== undefined && !KUBE_PROXY_MODES.includes(n.kubeProxyMode)) {
    issues.add('network.kubeProxyMode', n.kubeProxyMode, `is not supported; use one of ${KUBE_PROXY_MODES.join(', ')}`);
  }
  if (!nodePorts) {
    issues.add('network.nodePortRange', n.nodePortRange, `is not a port range; use "low-high" with ports from 1 to 65535 and low <= high, e.g. "${DEFAULTS.network.nodePortRange}"`);
  }
  return issues.list;
}

/** Why a range cannot hold pods or Services: it starts in loopback, link-local, multicast, class E or 0.0.0.0/8. */
function unusableRange(cidr: Ipv4Cidr): string | undefined {
  const why = unusableHostAddress(cidr.network);
  return why === undefined || why === 'a broadcast address' ? undefined : why.replace(/address$/, 'range');
}
