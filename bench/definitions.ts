import { ClusterDefinition, HostDefinition, KeyAlgorithm } from '../lib/model/definition';
import { cluster as seed } from '../main';

/** The seed cluster's size: main.ts as it is. */
export const SEED_SIZE = seed.hosts.length;
/** Generated clusters: 3 masters, 3 etcd members, 2 lb hosts, the rest nodes. */
const CONTROL_HOSTS = 8;

/**
 * The benchmark's cluster of `size` hosts: the seed (main.ts) for its own size, otherwise the seed's settings
 * with 3 masters, 3 etcd members, 2 lb hosts (separate machines) and size − 8 nodes on 192.168.0.0/16.
 */
export function benchDefinition(size: number, keyAlgorithm: KeyAlgorithm): ClusterDefinition {
  const certificates = { ...seed.certificates, keyAlgorithm };
  if (size === SEED_SIZE) return { ...seed, certificates };
  if (!Number.isInteger(size) || size <= CONTROL_HOSTS) {
    throw new Error(`cluster size ${size}: use ${SEED_SIZE} (the seed) or more than ${CONTROL_HOSTS} hosts (3 masters, 3 etcd, 2 lb, the rest nodes)`);
  }
  // 200 hosts per /24 from 192.168.100.10 up; .250 of 192.168.100.0 stays free for the VIP.
  const ip = (i: number) => `192.168.${100 + Math.floor(i / 200)}.${10 + (i % 200)}`;
  const host = (i: number, name: string, role: HostDefinition['roles'][number]): HostDefinition => (
    { name, ip: ip(i), interface: 'ens33', roles: [role] });
  const hosts: HostDefinition[] = [
    ...[1, 2, 3].map((n, i) => host(i, `master${n}`, 'master')),
    ...[1, 2, 3].map((n, i) => host(3 + i, `etcd${n}`, 'etcd')),
    ...[1, 2].map((n, i) => host(6 + i, `lb${n}`, 'lb')),
    ...Array.from({ length: size - CONTROL_HOSTS }, (_, i) => host(CONTROL_HOSTS + i, `node${i + 1}`, 'node')),
  ];
  return {
    ...seed,
    name: `bench-${size}`,
    hosts,
    loadBalancer: { vip: '192.168.100.250/16', port: 6444 },
    network: { ...seed.network, podCidr: '172.16.0.0/12' }, // 4096 node subnets
    certificates,
  };
}
