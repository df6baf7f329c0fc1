import { ClusterDefinition } from '../../lib';
import { cluster as seed } from '../../main';

/** The cluster main.ts declares. */
export const SEED: ClusterDefinition = seed;

/** A second, different cluster: 3 masters, 5 nodes, its own CIDRs and ports, ECDSA keys. */
export const LARGE: ClusterDefinition = {
  name: 'prod-east',
  kubernetesVersion: '1.27.3',
  hosts: [
    { name: 'cp1', ip: '10.20.0.11', interface: 'eth0', roles: ['master', 'etcd', 'lb'] },
    { name: 'cp2', ip: '10.20.0.12', interface: 'eth0', roles: ['master', 'etcd', 'lb'] },
    { name: 'cp3', ip: '10.20.0.13', interface: 'eth0', roles: ['master', 'etcd'] },
    ...[1, 2, 3, 4, 5].map((i) => ({ name: `worker${i}`, ip: `10.20.0.${20 + i}`, interface: 'eth1', roles: ['node' as const] })),
  ],
  loadBalancer: { vip: '10.20.0.100/24', port: 8443, virtualRouterId: 77 },
  apiServerPort: 6443,
  network: {
    serviceCidr: '10.96.0.0/16',
    dnsDomain: 'prod.internal',
    podCidr: '10.244.0.0/16',
    flannelBackend: 'host-gw',
    kubeProxyMode: 'iptables',
  },
  certificates: { subject: { country: 'DE', locality: 'Berlin' }, keyAlgorithm: 'ecdsa', validityDays: 90, caValidityDays: 1825 },
  imageRegistry: 'mirror.example.com/k8s',
};

/** A definition with some fields replaced; `hosts` may be patched per index. */
export function withChanges(base: ClusterDefinition, patch: Record<string, unknown>): ClusterDefinition {
  return JSON.parse(JSON.stringify({ ...base, ...patch }));
}
