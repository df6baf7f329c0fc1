// The cluster, as in the tutorial's environment plan. `npx cdk8s synth` compiles it into dist/.
import { ClusterDefinition, synthesize } from './lib';

export const cluster: ClusterDefinition = {
  name: 'kubesmith',
  kubernetesVersion: '1.27.16',
  hosts: [
    { name: 'k8s1', ip: '192.168.100.10', interface: 'ens33', roles: ['master', 'etcd', 'lb'] }, // lb MASTER
    { name: 'k8s2', ip: '192.168.100.20', interface: 'ens33', roles: ['master', 'etcd', 'lb'] }, // lb BACKUP
    { name: 'k8s3', ip: '192.168.100.30', interface: 'ens33', roles: ['node', 'etcd'] },
    { name: 'k8s4', ip: '192.168.100.40', interface: 'ens33', roles: ['node'] },
  ],
  loadBalancer: { vip: '192.168.100.50/24', port: 6444 },
  apiServerPort: 6443,
  network: {
    serviceCidr: '10.0.0.0/24',
    clusterDns: '10.0.0.2',
    dnsDomain: 'cluster.local',
    podCidr: '172.20.0.0/16',
    flannelBackend: 'vxlan',
    kubeProxyMode: 'ipvs',
    nodePortRange: '30000-50000',
  },
  certificates: { subject: { country: 'CN', state: 'Beijing', locality: 'Beijing' } },
};

if (require.main === module) synthesize(cluster);
