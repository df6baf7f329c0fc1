import { ADDON_DEFAULTS, RESERVED_NAMESPACES } from './addons/defaults';
import { parseImageReference } from './addons/images';
import { parseQuantity } from './addons/quantity';
import {
  AppVolumeDefinition, ClusterDefinition, FLANNEL_BACKENDS, HOST_ROLES, KEY_ALGORITHMS, KUBE_PROXY_MODES, NFS_ACCESS_MODES,
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
  validateAddons(d, add, nodePorts);
  return issues;
}

type Add = (path: string, value: unknown, message: string) => void;

const DNS1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const EXTRA_GROUP = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

function checkBoolean(add: Add, path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') add(path, value, 'must be true or false');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.pop()!;
  return LABEL_NAME.test(name) && (parts.length === 0 || DNS1123_SUBDOMAIN.test(parts[0]));
}

function isAbsolutePath(value: unknown): value is string {
  return typeof value === 'string' && /^\/[^\0\s]*$/.test(value) && !value.split('/').includes('..');
}

/** Rules of the `addons` and `apps` sections; defaults come from ADDON_DEFAULTS. */
function validateAddons(d: Partial<ClusterDefinition>, add: Add, nodePorts: { low: number; high: number } | undefined): void {
  const a = (d.addons ?? {}) as NonNullable<ClusterDefinition['addons']>;
  if (d.addons !== undefined && (typeof d.addons !== 'object' || d.addons === null)) {
    add('addons', d.addons, 'must be an object, e.g. { dashboard: { nodePort: 30001 } }');
  }
  checkBoolean(add, 'addons.coreDns.enabled', a.coreDns?.enabled);
  if (a.coreDns?.replicas !== undefined && !isPositiveInt(a.coreDns.replicas)) {
    add('addons.coreDns.replicas', a.coreDns.replicas, `must be a positive whole number, e.g. ${ADDON_DEFAULTS.coreDnsReplicas}`);
  }

  const dash = a.dashboard ?? {};
  checkBoolean(add, 'addons.dashboard.enabled', dash.enabled);
  checkBoolean(add, 'addons.dashboard.adminUser', dash.adminUser);
  const dashPort = dash.nodePort ?? ADDON_DEFAULTS.dashboardNodePort;
  if (!Number.isInteger(dashPort)) {
    add('addons.dashboard.nodePort', dash.nodePort, `is not a port number; use an integer inside network.nodePortRange, e.g. ${ADDON_DEFAULTS.dashboardNodePort}`);
  } else if (dash.enabled !== false && nodePorts && (dashPort < nodePorts.low || dashPort > nodePorts.high)) {
    add('addons.dashboard.nodePort', dash.nodePort ?? dashPort, `is outside network.nodePortRange ${nodePorts.low}-${nodePorts.high}; pick a port inside it`);
  }
  if (dash.adminUser === true && dash.enabled === false) {
    add('addons.dashboard.adminUser', true, 'needs the dashboard; remove adminUser or set addons.dashboard.enabled to true');
  }

  const ing = a.ingressNginx ?? {};
  checkBoolean(add, 'addons.ingressNginx.enabled', ing.enabled);
  for (const field of ['nodeSelector', 'config'] as const) {
    const v = ing[field];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
      add(`addons.ingressNginx.${field}`, v, 'must be an object of string keys and values');
    }
  }
  for (const [k, v] of Object.entries(isRecord(ing.nodeSelector) ? ing.nodeSelector : {})) {
    if (!isLabelKey(k)) add(`addons.ingressNginx.nodeSelector["${k}"]`, k, 'is not a label key; use [prefix/]name, name up to 63 letters, digits, "-", "_", "."');
    if (typeof v !== 'string' || (v !== '' && !LABEL_NAME.test(v))) {
      add(`addons.ingressNginx.nodeSelector["${k}"]`, v, 'is not a label value; use up to 63 letters, digits, "-", "_", "."');
    }
  }
  for (const [k, v] of Object.entries(isRecord(ing.config) ? ing.config : {})) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k)) add(`addons.ingressNginx.config["${k}"]`, k, 'is not a ConfigMap key; use letters, digits, "-", "_", "."');
    if (typeof v !== 'string') add(`addons.ingressNginx.config["${k}"]`, v, 'must be a string; ingress-nginx reads every value as text, e.g. "true"');
  }

  const groups: unknown[] = a.bootstrapToken?.extraGroups !== undefined && Array.isArray(a.bootstrapToken.extraGroups)
    ? [...a.bootstrapToken.extraGroups] : [];
  if (a.bootstrapToken?.extraGroups !== undefined && !Array.isArray(a.bootstrapToken.extraGroups)) {
    add('addons.bootstrapToken.extraGroups', a.bootstrapToken.extraGroups, 'must be a list of group names');
  }
  groups.forEach((g, i) => {
    if (typeof g !== 'string' || !EXTRA_GROUP.test(g)) {
      add(`addons.bootstrapToken.extraGroups[${i}]`, g, 'is not a bootstrap group; use "system:bootstrappers:<name>" with lowercase letters, digits, ":" and "-"');
    } else if (groups.indexOf(g) !== i) add(`addons.bootstrapToken.extraGroups[${i}]`, g, 'is listed twice');
  });

  if (d.apps === undefined) return;
  if (!Array.isArray(d.apps)) {
    add('apps', d.apps, 'must be a list of apps');
    return;
  }
  const appNames = new Map<string, number>();
  const hosts = new Map<string, number>();
  const pvNames = new Map<string, string>();
  d.apps.forEach((app, i) => {
    const p = `apps[${i}]`;
    if (typeof app?.name !== 'string' || !DNS1035_LABEL.test(app.name)) {
      add(`${p}.name`, app?.name, 'is not an RFC 1035 label (it names a Service); start with a letter, then lowercase letters, digits and "-", e.g. "java-demo"');
    } else if (appNames.has(app.name)) {
      add(`${p}.name`, app.name, `duplicates apps[${appNames.get(app.name)}].name; every app needs its own name`);
    } else appNames.set(app.name, i);
    if (app?.namespace !== undefined) {
      if (typeof app.namespace !== 'string' || !DNS1123_LABEL.test(app.namespace)) {
        add(`${p}.namespace`, app.namespace, 'is not an RFC 1123 label; use lowercase letters, digits and "-", e.g. "java-demo"');
      } else if (RESERVED_NAMESPACES.includes(app.namespace)) {
        add(`${p}.namespace`, app.namespace, `is reserved for the system or an addon; pick another, e.g. "${app.name ?? 'my-app'}"`);
      }
    } else if (typeof app?.name === 'string' && RESERVED_NAMESPACES.includes(app.name)) {
      add(`${p}.namespace`, undefined, `defaults to the app name "${app.name}", which is reserved; set namespace explicitly`);
    }
    if (!parseImageReference(app?.image)) {
      add(`${p}.image`, app?.image, 'is not an image reference; expected [registry/]repository[:tag][@digest], e.g. "tomcat:8.5-jre8"');
    }
    checkBoolean(add, `${p}.useImageRegistry`, app?.useImageRegistry);
    if (app?.replicas !== undefined && !(Number.isInteger(app.replicas) && app.replicas >= 0)) {
      add(`${p}.replicas`, app.replicas, 'must be a whole number of 0 or more, e.g. 3');
    }
    if (app?.containerPort !== undefined && !isPort(app.containerPort)) {
      add(`${p}.containerPort`, app.containerPort, 'is not a port; use an integer from 1 to 65535, e.g. 8080');
    }
    if (app?.probePath !== undefined && (typeof app.probePath !== 'string' || !/^\/\S*$/.test(app.probePath))) {
      add(`${p}.probePath`, app.probePath, 'is not a URL path; start with "/" and use no spaces, e.g. "/"');
    }
    for (const kind of ['requests', 'limits'] as const) {
      for (const res of ['cpu', 'memory'] as const) {
        const v = app?.resources?.[kind]?.[res];
        if (v !== undefined && (parseQuantity(v) === undefined || parseQuantity(v) === 0)) {
          add(`${p}.resources.${kind}.${res}`, v, `is not a positive Kubernetes quantity, e.g. "${res === 'cpu' ? '500m' : '512Mi'}"`);
        }
      }
    }
    for (const res of ['cpu', 'memory'] as const) {
      const req = parseQuantity(app?.resources?.requests?.[res] ?? ADDON_DEFAULTS.appRequests[res]);
      const lim = parseQuantity(app?.resources?.limits?.[res] ?? ADDON_DEFAULTS.appLimits[res]);
      if (req !== undefined && lim !== undefined && req > lim) {
        add(`${p}.resources.requests.${res}`, app?.resources?.requests?.[res] ?? ADDON_DEFAULTS.appRequests[res],
          `exceeds the limit ${app?.resources?.limits?.[res] ?? ADDON_DEFAULTS.appLimits[res]}; a request may not exceed its limit`);
      }
    }
    if (app?.env !== undefined && !isRecord(app.env)) add(`${p}.env`, app.env, 'must be an object of variable names and string values');
    for (const [k, v] of Object.entries(isRecord(app?.env) ? app.env : {})) {
      if (!ENV_NAME.test(k)) add(`${p}.env["${k}"]`, k, 'is not an environment variable name; use letters, digits, "_", "-", "." and do not start with a digit');
      if (typeof v !== 'string') add(`${p}.env["${k}"]`, v, 'must be a string');
    }
    if (app?.host !== undefined) {
      if (typeof app.host !== 'string' || !DNS1123_SUBDOMAIN.test(app.host.replace(/^\*\./, ''))) {
        add(`${p}.host`, app.host, 'is not a DNS name; use lowercase labels separated by dots, e.g. "java.example.com"');
      } else if (hosts.has(app.host)) {
        add(`${p}.host`, app.host, `is already served by apps[${hosts.get(app.host)}]; every app needs its own host`);
      } else hosts.set(app.host, i);
      if (a.ingressNginx?.enabled === false) {
        add(`${p}.host`, app.host, 'needs the ingress controller; remove host or set addons.ingressNginx.enabled to true');
      }
    }
    if (app?.tls?.secretName !== undefined && (typeof app.tls.secretName !== 'string' || !DNS1123_SUBDOMAIN.test(app.tls.secretName))) {
      add(`${p}.tls.secretName`, app.tls.secretName, 'is not a Secret name; use lowercase letters, digits, "-" and ".", e.g. "java-demo-tls"');
    }
    if (app?.tls !== undefined && app.host === undefined) {
      add(`${p}.tls`, app.tls, 'is set but the app has no host; TLS needs an Ingress host');
    }
    checkBoolean(add, `${p}.sslRedirect`, app?.sslRedirect);

    if (app?.volumes === undefined) return;
    if (!Array.isArray(app.volumes)) {
      add(`${p}.volumes`, app.volumes, 'must be a list of volumes');
      return;
    }
    const volNames = new Map<string, number>();
    const mounts = new Map<string, number>();
    let perPod = false;
    (app.volumes as readonly AppVolumeDefinition[]).forEach((v, j) => {
      const q = `${p}.volumes[${j}]`;
      if (typeof v?.name !== 'string' || !DNS1123_LABEL.test(v.name)) {
        add(`${q}.name`, v?.name, 'is not an RFC 1123 label; use lowercase letters, digits and "-", e.g. "webapps"');
      } else if (volNames.has(v.name)) {
        add(`${q}.name`, v.name, `duplicates ${p}.volumes[${volNames.get(v.name)}].name`);
      } else {
        volNames.set(v.name, j);
        const pv = `${app.name}-${v.name}`;
        if (pvNames.has(pv)) add(`${q}.name`, v.name, `gives the PersistentVolume name "${pv}", which ${pvNames.get(pv)} already takes; rename one`);
        else pvNames.set(pv, q);
      }
      if (!isAbsolutePath(v?.mountPath) || v.mountPath === '/') {
        add(`${q}.mountPath`, v?.mountPath, 'is not an absolute directory in the container, e.g. "/usr/local/tomcat/webapps"');
      } else if (mounts.has(v.mountPath.replace(/\/+$/, ''))) {
        add(`${q}.mountPath`, v.mountPath, `is already mounted by ${p}.volumes[${mounts.get(v.mountPath.replace(/\/+$/, ''))}]`);
      } else mounts.set(v.mountPath.replace(/\/+$/, ''), j);
      // A dotted quad that is no valid IPv4 address is a typo, not a host name.
      if (!isIpv4(v?.server) && !(typeof v?.server === 'string' && DNS1123_SUBDOMAIN.test(v.server) && !/^[\d.]+$/.test(v.server))) {
        add(`${q}.server`, v?.server, 'is not an NFS server address; use an IPv4 address or host name, e.g. "192.168.100.40"');
      }
      if (!isAbsolutePath(v?.path)) add(`${q}.path`, v?.path, 'is not an absolute export path, e.g. "/data/nfs/java-demo/webapps"');
      if (v?.size !== undefined && !parseQuantity(v.size)) {
        add(`${q}.size`, v.size, 'is not a positive storage quantity, e.g. "5Gi"');
      }
      if (v?.accessMode !== undefined && !NFS_ACCESS_MODES.includes(v.accessMode)) {
        add(`${q}.accessMode`, v.accessMode, `is not an access mode; use one of ${NFS_ACCESS_MODES.join(', ')}`);
      }
      checkBoolean(add, `${q}.readOnly`, v?.readOnly);
      checkBoolean(add, `${q}.perPod`, v?.perPod);
      if (v?.perPod === true) perPod = true;
      if (v?.mountOptions !== undefined && (!Array.isArray(v.mountOptions)
        || v.mountOptions.some((o: unknown) => typeof o !== 'string' || !/^[^\s,]+$/.test(o)))) {
        add(`${q}.mountOptions`, v.mountOptions, 'must be a list of single NFS options without spaces or commas, e.g. ["nfsvers=4.1"]');
      }
    });
    if (perPod && app.env?.POD_NAME !== undefined) {
      add(`${p}.env["POD_NAME"]`, app.env.POD_NAME, 'is set by kubesmith for per-pod volumes; remove it');
    }
  });
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
