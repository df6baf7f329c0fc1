import { Ipv4Cidr, parseCidr } from '../ipv4';
import { Issues } from './issue';

/** The value domains rules check against; each regular expression in one place. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or white space, not '.' or '..'; kept to
 * letters, digits, '_', '.' and '-' so every config that names one can hold it unquoted. */
export const IFNAME = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,15}$/;
export const REGISTRY = /^(?=.{1,255}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]([-._a-z0-9]*[a-z0-9])?)*$/;
export const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
export const EXTRA_GROUP = /^system:bootstrappers:[a-z0-9:-]{0,233}[a-z0-9]$/;
/** The largest replica count Kubernetes stores (int32). */
export const MAX_REPLICAS = 2 ** 31 - 1;
/** Names that are Ansible group names in dist/ansible/inventory.ini (the roles, and Ansible's own). */
export const ANSIBLE_GROUPS: readonly string[] = ['master', 'etcd', 'node', 'lb', 'all', 'ungrouped', 'localhost'];

export function parsePortRange(value: unknown): { low: number; high: number } | undefined {
  const m = typeof value === 'string' ? /^(\d{1,5})-(\d{1,5})$/.exec(value) : null;
  if (!m) return undefined;
  const low = Number(m[1]);
  const high = Number(m[2]);
  return isPort(low) && isPort(high) && low <= high ? { low, high } : undefined;
}

export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

export function isPositiveInt(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.pop()!;
  return LABEL_NAME.test(name) && (parts.length === 0 || DNS1123_SUBDOMAIN.test(parts[0]));
}

export function isAbsolutePath(value: unknown): value is string {
  return typeof value === 'string' && /^\/[^\0\s]*$/.test(value) && !value.split('/').includes('..');
}

export function checkBoolean(issues: Issues, path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') issues.add(path, value, 'must be true or false');
}

/** Parses a CIDR, adding an issue when it is malformed or (unless allowed) has host bits set. */
export function checkCidr(issues: Issues, path: string, value: unknown, example: string, allowHostBits = false): Ipv4Cidr | undefined {
  const cidr = parseCidr(value);
  if (!cidr) {
    issues.add(path, value, `is not an IPv4 CIDR; expected address/prefix like "${example}"`);
    return undefined;
  }
  if (!allowHostBits && cidr.network !== String(value).split('/')[0]) {
    issues.add(path, value, `has host bits set; did you mean "${cidr.text}"?`);
    return undefined;
  }
  return cidr;
}

/** The closest known name, for a typo: same letters in another case, or at most two edits away. */
export function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length];
  };
  return known.map((k) => [k, distance(lower, k.toLowerCase())] as const).filter(([, d]) => d <= 2).sort((a, b) => a[1] - b[1])[0]?.[0];
}
