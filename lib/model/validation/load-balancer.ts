import { DEFAULTS } from '../defaults';
import {
  cidrContains, cidrsOverlap, isIpv4, nthAddress, unusableHostAddress,
} from '../ipv4';
import { DefinitionIssue, Issues } from './issue';
import {
  checkBoolean, checkCidr, isPort, isRecord,
} from './values';
import { DefinitionView } from './view';

/** VRRP priorities go down from 100 (hosts/keepalived.ts). */
const MAX_LB_HOSTS = 100;

/** loadBalancer: present exactly when a host has the lb role; a VIP the lb hosts can hold; free ports. */
export function loadBalancerRules({ d, hosts, withRole, serviceCidr, podCidr }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  const lbHosts = withRole('lb');
  // Not an object: the shape rules say so; here it counts as absent.
  const lb = isRecord(d.loadBalancer) ? d.loadBalancer as NonNullable<typeof d.loadBalancer> : undefined;
  if (lb === undefined) {
    if (lbHosts.length > 0 && d.loadBalancer === undefined) {
      issues.add('loadBalancer', undefined, `is required because ${lbHosts.map((h) => h?.name).join(', ')} ha${lbHosts.length === 1 ? 's' : 've'} the lb role; set loadBalancer.vip, e.g. "192.168.100.50/24"`);
    }
    return issues.list;
  }
  if (lbHosts.length > MAX_LB_HOSTS) {
    issues.add('hosts', lbHosts.map((h) => h?.name), `gives ${lbHosts.length} hosts the lb role; keepalived's priorities allow at most ${MAX_LB_HOSTS}: keep two or three`);
  }
  if (lbHosts.length === 0) {
    issues.add('loadBalancer', lb, 'is set but no host has the lb role; add "lb" to the hosts that run nginx and keepalived, or remove loadBalancer');
  }
  const vip = checkCidr(issues, 'loadBalancer.vip', lb.vip, '192.168.100.50/24', true);
  if (vip && unusableHostAddress(String(lb.vip).split('/')[0])) {
    issues.add('loadBalancer.vip', lb.vip, `is ${unusableHostAddress(String(lb.vip).split('/')[0])}, which keepalived cannot hold for clients; use a free address in the lb hosts' subnet, e.g. "192.168.100.50/24"`);
  } else if (vip && vip.prefix <= 30 && [vip.network, nthAddress(vip, vip.size - 1)].includes(String(lb.vip).split('/')[0])) {
    const vipIp = String(lb.vip).split('/')[0];
    const which = vipIp === vip.network ? 'network' : 'broadcast';
    issues.add('loadBalancer.vip', lb.vip, `is the ${which} address of ${vip.text}, which no host can answer for; use a free address between ${nthAddress(vip, 1)} and ${nthAddress(vip, vip.size - 2)}, e.g. "${nthAddress(vip, Math.min(50, vip.size - 2))}/${vip.prefix}"`);
  } else if (vip) {
    const vipIp = String(lb.vip).split('/')[0];
    hosts.forEach((h, i) => {
      if (h?.ip === vipIp) issues.add('loadBalancer.vip', lb.vip, `equals hosts[${i}].ip (${h.name}); the VIP must be an unused address, e.g. the subnet's next free one`);
    });
    lbHosts.forEach((h) => {
      if (isIpv4(h?.ip) && !cidrContains(vip, h.ip)) {
        issues.add('loadBalancer.vip', lb.vip, `is outside the subnet of lb host ${h.name} (${h.ip}); use a free address in the lb hosts' own subnet, where keepalived can hold it`);
      }
    });
    for (const [field, cidr] of [['network.podCidr', podCidr], ['network.serviceCidr', serviceCidr]] as const) {
      if (cidr && cidrsOverlap(cidr, vip)) {
        issues.add('loadBalancer.vip', lb.vip, `overlaps ${field} ${cidr.text}; host, pod and Service networks must be disjoint`);
      }
    }
  }
  const lbPort = lb.port ?? DEFAULTS.loadBalancer.port;
  if (!isPort(lbPort)) {
    issues.add('loadBalancer.port', lb.port, `is not a port; use an integer from 1 to 65535, e.g. ${DEFAULTS.loadBalancer.port}`);
  }
  if (lb.virtualRouterId !== undefined && !(Number.isInteger(lb.virtualRouterId) && lb.virtualRouterId >= 1 && lb.virtualRouterId <= 255)) {
    issues.add('loadBalancer.virtualRouterId', lb.virtualRouterId, 'is not a VRRP router id; use an integer from 1 to 255');
  }
  checkBoolean(issues, 'loadBalancer.loadStreamModule', lb.loadStreamModule);
  if (lb.streamModulePath !== undefined && (typeof lb.streamModulePath !== 'string' || !/^\/[^\s;'"{}#]+$/.test(lb.streamModulePath))) {
    issues.add('loadBalancer.streamModulePath', lb.streamModulePath,
      `is not an absolute file path nginx can load; use one without spaces, quotes, ";", "{", "}" or "#", e.g. "${DEFAULTS.loadBalancer.streamModulePath}"`);
  }
  return issues.list;
}
