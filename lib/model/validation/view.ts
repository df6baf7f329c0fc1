import { DEFAULTS } from '../defaults';
import { ClusterDefinition, HostDefinition, HostRole } from '../definition';
import { Ipv4Cidr, parseCidr } from '../ipv4';
import { parsePortRange } from './values';

/**
 * What several rule groups read of a definition that may be malformed: the hosts by role, and the values other
 * fields are checked against, parsed once (undefined where malformed; the group owning the field reports that).
 */
export interface DefinitionView {
  readonly d: Partial<ClusterDefinition>;
  readonly hosts: readonly HostDefinition[];
  withRole(role: HostRole): HostDefinition[];
  readonly serviceCidr?: Ipv4Cidr;
  readonly podCidr?: Ipv4Cidr;
  readonly nodePorts?: { readonly low: number; readonly high: number };
  /** apiServerPort with its default; may be anything. */
  readonly apiPort: unknown;
}

function networkCidr(value: unknown): Ipv4Cidr | undefined {
  const cidr = parseCidr(value);
  return cidr && cidr.network === String(value).split('/')[0] ? cidr : undefined;
}

export function viewOf(def: ClusterDefinition): DefinitionView {
  const d = (def ?? {}) as Partial<ClusterDefinition>;
  const hosts = Array.isArray(d.hosts) ? d.hosts : [];
  const n = (d.network ?? {}) as Partial<ClusterDefinition['network']>;
  return {
    d,
    hosts,
    withRole: (role) => hosts.filter((h) => Array.isArray(h?.roles) && h.roles.includes(role)),
    serviceCidr: networkCidr(n.serviceCidr),
    podCidr: networkCidr(n.podCidr),
    nodePorts: parsePortRange(n.nodePortRange ?? DEFAULTS.network.nodePortRange),
    apiPort: d.apiServerPort ?? DEFAULTS.apiServerPort,
  };
}
