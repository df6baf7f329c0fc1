import * as ipaddr from 'ipaddr.js';

/** A parsed IPv4 CIDR. Parsing and matching come from ipaddr.js; only offsets are ours. */
export interface Ipv4Cidr {
  readonly network: string;
  readonly prefix: number;
  /** Number of addresses in the range. */
  readonly size: number;
  readonly text: string;
}

export function isIpv4(value: unknown): value is string {
  return typeof value === 'string' && ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** Parses 'a.b.c.d/n'; undefined when malformed. Host bits may be set (see isNetworkAddress). */
export function parseCidr(value: unknown): Ipv4Cidr | undefined {
  if (typeof value !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(value)) return undefined;
  const [addr] = value.split('/');
  if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) return undefined;
  try {
    const [, prefix] = ipaddr.IPv4.parseCIDR(value);
    const network = ipaddr.IPv4.networkAddressFromCIDR(value).toString();
    return { network, prefix, size: 2 ** (32 - prefix), text: `${network}/${prefix}` };
  } catch {
    return undefined;
  }
}

/**
 * Why an IPv4 address cannot be a machine's own unicast address (unspecified, loopback, link-local, multicast,
 * broadcast or class E), or undefined when it can.
 */
export function unusableHostAddress(ip: string): string | undefined {
  const addr = ipaddr.IPv4.parse(ip);
  const range = addr.range();
  if (['unspecified', 'loopback', 'linkLocal', 'multicast', 'broadcast'].includes(range)) return `a ${range} address`;
  if (addr.match(ipaddr.IPv4.parse('240.0.0.0'), 4)) return 'a reserved (class E) address';
  return undefined;
}

export function cidrContains(cidr: Ipv4Cidr, ip: string): boolean {
  return ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parse(cidr.network), cidr.prefix);
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b.network) || cidrContains(b, a.network);
}

/** The address `offset` places after the network address of `cidr`. */
export function nthAddress(cidr: Ipv4Cidr, offset: number): string {
  const base = ipaddr.IPv4.parse(cidr.network).toByteArray().reduce((n, b) => n * 256 + b, 0);
  const n = base + offset;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
