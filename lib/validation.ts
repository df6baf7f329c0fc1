import {
  ClusterDefinition, FLANNEL_BACKENDS, HOST_ROLES, KEY_ALGORITHMS, KUBE_PROXY_MODES,
} from './cluster-definition';
import { Ipv4Cidr, cidrContains, cidrsOverlap, isIpv4, nthAddress, parseCidr } from './ipv4';

/** One problem with a cluster definition: where it is, what it was, what would be valid. */
export interface DefinitionIssue {
  /** Field path, e.g. 'hosts[2].ip'. */
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

/** Thrown before anything is written; lists every issue found, not just the first. */
export class ClusterDefinitionError extends Error {
  constructor(public readonly issues: readonly DefinitionIssue[]) {
    super(`invalid cluster definition (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n`
      + issues.map((i) => `  - ${i.path}: ${show(i.value)} ${i.message}`).join('\n'));
    this.name = 'ClusterDefinitionError';
  }
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  return JSON.stringify(value);
}

export const DEFAULTS = {
  apiServerPort: 6443,
  lbPort: 6444,
  virtualRouterId: 51,
  interface: 'eth0',
  dnsDomain: 'cluster.local',
  clusterDnsOffset: 10,
  flannelBackend: 'vxlan',
  kubeProxyMode: 'ipvs',
  nodePortRange: '30000-32767',
  caValidityDays: 3650,
  validityDays: 365,
  keyAlgorithm: 'rsa',
  /** flannel's default SubnetLen: each node leases one /24 of the pod network. */
  flannelSubnetLen: 24,
} as const;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const REGISTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]([-._a-z0-9]*[a-z0-9])?)*$/;

export function parsePortRange(value: unknown): { low: number; high: number } | undefined {
  const m = typeof value === 'string' ? /^(\d{1,5})-(\d{1,5})$/.exec(value) : null;
  if (!m) return undefined;
  const low = Number(m[1]);
  const high = Number(m[2]);
  return isPort(low) && isPort(high) && low <= high ? { low, high } : undefined;
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

function isPositiveInt(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

/**
 * Checks every rule and returns all issues found (empty = valid). Takes `unknown`-ish
 * input on purpose: main.ts may be plain JavaScript or built from data.
 */
export function validateDefinition(def: ClusterDefinition): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const add = (path: string, value: unknown, message: string) => issues.push({ path, value, message });
  const d = (def ?? {}) as Partial<ClusterDefinition>;

  if (typeof d.name !== 'string' || !DNS1123_LABEL.test(d.name)) {
    add('name', d.name, 'is not an RFC 1123 label; use lowercase letters, digits and "-", at most 63 characters, e.g. "kubesmith"');
  }
  if (typeof d.kubernetesVersion !== 'string' || !/^1\.27\.\d+$/.test(d.kubernetesVersion)) {
    add('kubernetesVersion', d.kubernetesVersion, 'is not supported; use a Kubernetes 1.27.x version, e.g. "1.27.16"');
  }

  // Hosts
  const hosts = Array.isArray(d.hosts) ? d.hosts : [];
  if (!Array.isArray(d.hosts) || hosts.length === 0) add('hosts', d.hosts, 'must list at least one host');
  const names = new Map<string, number>();
  const ips = new Map<string, number>();
  hosts.forEach((h, i) => {
    const p = `hosts[${i}]`;
    if (typeof h?.name !== 'string' || !DNS1123_SUBDOMAIN.test(h.name)) {
      add(`${p}.name`, h?.name, 'is not an RFC 1123 host name; use lowercase letters, digits, "-" and ".", e.g. "k8s1"');
    } else if (names.has(h.name)) {
      add(`${p}.name`, h.name, `duplicates hosts[${names.get(h.name)}].name; every host needs its own name`);
    } else names.set(h.name, i);
    if (!isIpv4(h?.ip)) {
      add(`${p}.ip`, h?.ip, 'is not a valid IPv4 address; expected a dotted quad like "192.168.100.10"');
    } else if (ips.has(h.ip)) {
      add(`${p}.ip`, h.ip, `duplicates hosts[${ips.get(h.ip)}].ip; every host needs its own address`);
    } else ips.set(h.ip, i);
    if (h?.interface !== undefined && (typeof h.interface !== 'string' || !IFNAME.test(h.interface))) {
      add(`${p}.interface`, h.interface, 'is not a network interface name; use 1-15 characters without "/" or spaces, e.g. "ens33"');
    }
    const roles: unknown[] = Array.isArray(h?.roles) ? h.roles : [];
    if (!Array.isArray(h?.roles) || roles.length === 0) {
      add(`${p}.roles`, h?.roles, `must list at least one role of ${HOST_ROLES.join(', ')}`);
    }
    roles.forEach((r, j) => {
      if (!HOST_ROLES.includes(r as never)) add(`${p}.roles[${j}]`, r, `is not a role; use one of ${HOST_ROLES.join(', ')}`);
      else if (roles.indexOf(r) !== j) add(`${p}.roles[${j}]`, r, 'is listed twice; remove the duplicate');
    });
  });
  const withRole = (role: string) => hosts.filter((h) => Array.isArray(h?.roles) && h.roles.includes(role as never));
  const etcd = withRole('etcd');
  if (hosts.length > 0 && withRole('master').length === 0) {
    add('hosts', hosts.map((h) => h?.name), 'has no host with the "master" role; add it to at least one host');
  }
  if (hosts.length > 0 && (etcd.length === 0 || etcd.length % 2 === 0)) {
    add('hosts', etcd.map((h) => h?.name), `has ${etcd.length} etcd members; etcd needs an odd number (1, 3 or 5) to keep a quorum`);
  }

  // Ports
  const apiPort = d.apiServerPort ?? DEFAULTS.apiServerPort;
  if (!isPort(apiPort)) add('apiServerPort', d.apiServerPort, 'is not a port; use an integer from 1 to 65535, e.g. 6443');

  // Network
  const n = (d.network ?? {}) as Partial<ClusterDefinition['network']>;
  if (d.network === undefined) add('network', undefined, 'is required: serviceCidr and podCidr at least');
  const serviceCidr = checkCidr(add, 'network.serviceCidr', n.serviceCidr, '10.0.0.0/24');
  const podCidr = checkCidr(add, 'network.podCidr', n.podCidr, '172.20.0.0/16');
  if (serviceCidr && (serviceCidr.prefix < 12 || serviceCidr.prefix > 29)) {
    add('network.serviceCidr', n.serviceCidr, 'has a size the apiserver rejects or that leaves no room for Services; use a prefix from /12 to /29');
  }
  if (serviceCidr) {
    const first = nthAddress(serviceCidr, 1);
    if (n.clusterDns !== undefined) {
      if (!isIpv4(n.clusterDns)) {
        add('network.clusterDns', n.clusterDns, 'is not a valid IPv4 address; expected e.g. "10.0.0.2"');
      } else if (!cidrContains(serviceCidr, n.clusterDns)
        || n.clusterDns === serviceCidr.network || n.clusterDns === nthAddress(serviceCidr, serviceCidr.size - 1)) {
        add('network.clusterDns', n.clusterDns, `is outside the usable addresses of network.serviceCidr ${serviceCidr.text}; pick one like ${nthAddress(serviceCidr, 2)}`);
      } else if (n.clusterDns === first) {
        add('network.clusterDns', n.clusterDns, `is the first Service IP, which the "kubernetes" Service takes; pick another, e.g. ${nthAddress(serviceCidr, 2)}`);
      }
    }
  }
  if (podCidr && serviceCidr && cidrsOverlap(podCidr, serviceCidr)) {
    add('network.podCidr', n.podCidr, `overlaps network.serviceCidr ${serviceCidr.text}; pod and Service networks must be disjoint`);
  }
  if (podCidr && podCidr.prefix >= DEFAULTS.flannelSubnetLen) {
    add('network.podCidr', n.podCidr, `leaves no room for per-node /${DEFAULTS.flannelSubnetLen} subnets; use a prefix shorter than /${DEFAULTS.flannelSubnetLen}, e.g. /16`);
  } else if (podCidr) {
    const subnets = 2 ** (DEFAULTS.flannelSubnetLen - podCidr.prefix);
    const nodes = withRole('node').length;
    if (nodes > subnets) {
      add('network.podCidr', n.podCidr, `has room for ${subnets} node subnets (/${DEFAULTS.flannelSubnetLen}) but ${nodes} hosts have the node role; use a larger range`);
    }
  }
  hosts.forEach((h, i) => {
    if (!isIpv4(h?.ip)) return;
    for (const [field, cidr] of [['network.podCidr', podCidr], ['network.serviceCidr', serviceCidr]] as const) {
      if (cidr && cidrContains(cidr, h.ip)) {
        add(`hosts[${i}].ip`, h.ip, `lies inside ${field} ${cidr.text}; host, pod and Service networks must be disjoint`);
      }
    }
  });
  if (n.dnsDomain !== undefined && (typeof n.dnsDomain !== 'string' || !DNS1123_SUBDOMAIN.test(n.dnsDomain))) {
    add('network.dnsDomain', n.dnsDomain, 'is not a DNS domain; use lowercase labels separated by dots, e.g. "cluster.local"');
  }
  if (n.flannelBackend !== undefined && !FLANNEL_BACKENDS.includes(n.flannelBackend)) {
    add('network.flannelBackend', n.flannelBackend, `is not supported; use one of ${FLANNEL_BACKENDS.join(', ')}`);
  }
  if (n.kubeProxyMode !== undefined && !KUBE_PROXY_MODES.includes(n.kubeProxyMode)) {
    add('network.kubeProxyMode', n.kubeProxyMode, `is not supported; use one of ${KUBE_PROXY_MODES.join(', ')}`);
  }
  const nodePorts = parsePortRange(n.nodePortRange ?? DEFAULTS.nodePortRange);
  if (!nodePorts) {
    add('network.nodePortRange', n.nodePortRange, 'is not a port range; use "low-high" with ports from 1 to 65535 and low <= high, e.g. "30000-32767"');
  }

  // Load balancer
  const lbHosts = withRole('lb');
  const lb = d.loadBalancer;
  if (lb === undefined) {
    if (lbHosts.length > 0) {
      add('loadBalancer', undefined, `is required because ${lbHosts.map((h) => h?.name).join(', ')} ha${lbHosts.length === 1 ? 's' : 've'} the lb role; set loadBalancer.vip, e.g. "192.168.100.50/24"`);
    }
  } else {
    if (lbHosts.length === 0) {
      add('loadBalancer', lb, 'is set but no host has the lb role; add "lb" to the hosts that run nginx and keepalived, or remove loadBalancer');
    }
    const vip = checkCidr(add, 'loadBalancer.vip', lb.vip, '192.168.100.50/24', true);
    if (vip) {
      const vipIp = String(lb.vip).split('/')[0];
      hosts.forEach((h, i) => {
        if (h?.ip === vipIp) add('loadBalancer.vip', lb.vip, `equals hosts[${i}].ip; the VIP must be an unused address`);
      });
      lbHosts.forEach((h) => {
        if (isIpv4(h?.ip) && !cidrContains(vip, h.ip)) {
          add('loadBalancer.vip', lb.vip, `is outside the subnet of lb host ${h.name} (${h.ip}); use a free address in the lb hosts' own subnet, where keepalived can hold it`);
        }
      });
      for (const [field, cidr] of [['network.podCidr', podCidr], ['network.serviceCidr', serviceCidr]] as const) {
        if (cidr && cidrsOverlap(cidr, vip)) {
          add('loadBalancer.vip', lb.vip, `overlaps ${field} ${cidr.text}; host, pod and Service networks must be disjoint`);
        }
      }
    }
    const lbPort = lb.port ?? DEFAULTS.lbPort;
    if (!isPort(lbPort)) {
      add('loadBalancer.port', lb.port, 'is not a port; use an integer from 1 to 65535, e.g. 6444');
    } else if (lbPort === apiPort && lbHosts.some((h) => h.roles.includes('master'))) {
      add('loadBalancer.port', lb.port ?? lbPort, `equals apiServerPort on hosts that are both lb and master; use another port, e.g. ${apiPort + 1}`);
    }
    if (isPort(lbPort) && nodePorts && lbPort >= nodePorts.low && lbPort <= nodePorts.high) {
      add('loadBalancer.port', lbPort, `lies inside network.nodePortRange ${nodePorts.low}-${nodePorts.high}; pick a port outside it`);
    }
    if (lb.virtualRouterId !== undefined && !(Number.isInteger(lb.virtualRouterId) && lb.virtualRouterId >= 1 && lb.virtualRouterId <= 255)) {
      add('loadBalancer.virtualRouterId', lb.virtualRouterId, 'is not a VRRP router id; use an integer from 1 to 255');
    }
  }
  if (isPort(apiPort) && nodePorts && apiPort >= nodePorts.low && apiPort <= nodePorts.high) {
    add('apiServerPort', apiPort, `lies inside network.nodePortRange ${nodePorts.low}-${nodePorts.high}; pick a port outside it`);
  }

  // Certificates
  const c = d.certificates ?? {};
  if (c.caValidityDays !== undefined && !isPositiveInt(c.caValidityDays)) {
    add('certificates.caValidityDays', c.caValidityDays, 'must be a positive whole number of days, e.g. 3650');
  }
  if (c.validityDays !== undefined && !isPositiveInt(c.validityDays)) {
    add('certificates.validityDays', c.validityDays, 'must be a positive whole number of days, e.g. 365');
  }
  if (isPositiveInt(c.caValidityDays ?? DEFAULTS.caValidityDays) && isPositiveInt(c.validityDays ?? DEFAULTS.validityDays)
    && (c.validityDays ?? DEFAULTS.validityDays) > (c.caValidityDays ?? DEFAULTS.caValidityDays)) {
    add('certificates.validityDays', c.validityDays, `exceeds certificates.caValidityDays (${c.caValidityDays ?? DEFAULTS.caValidityDays}); a leaf cannot outlive its CA, so use at most ${c.caValidityDays ?? DEFAULTS.caValidityDays}`);
  }
  if (c.keyAlgorithm !== undefined && !KEY_ALGORITHMS.includes(c.keyAlgorithm)) {
    add('certificates.keyAlgorithm', c.keyAlgorithm, `is not supported; use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  if (c.subject?.country !== undefined && !/^[A-Z]{2}$/.test(String(c.subject.country))) {
    add('certificates.subject.country', c.subject.country, 'is not a country code; use two capital letters (ISO 3166), e.g. "CN"');
  }
  for (const f of ['state', 'locality'] as const) {
    const v = c.subject?.[f];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > 128)) {
      add(`certificates.subject.${f}`, v, 'must be a non-empty string of at most 128 characters');
    }
  }

  if (d.imageRegistry !== undefined && (typeof d.imageRegistry !== 'string' || !REGISTRY.test(d.imageRegistry))) {
    add('imageRegistry', d.imageRegistry, 'is not a registry prefix; use host[:port][/path], e.g. "registry.aliyuncs.com/google_containers"');
  }
  return issues;
}

function checkCidr(
  add: (path: string, value: unknown, message: string) => void,
  path: string, value: unknown, example: string, allowHostBits = false,
): Ipv4Cidr | undefined {
  const cidr = parseCidr(value);
  if (!cidr) {
    add(path, value, `is not an IPv4 CIDR; expected address/prefix like "${example}"`);
    return undefined;
  }
  if (!allowHostBits && cidr.network !== String(value).split('/')[0]) {
    add(path, value, `has host bits set; did you mean "${cidr.text}"?`);
    return undefined;
  }
  return cidr;
}
