// The cluster, as in the tutorial's environment plan. `npx cdk8s synth` compiles it into dist/.
import { ClusterDefinition } from './lib/model/definition';
import { synthesize } from './lib/synth/synthesize'; // not './lib': heavy modules load while keys generate

export const cluster: ClusterDefinition = {
  name: 'kubesmith',
  kubernetesVersion: '1.37.2',
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
  addons: {
    dashboard: { nodePort: 30001 },
  },
  apps: [
    {
      // The tutorial's tomcat project (9.1). Pull credentials: KUBESMITH_REGISTRY_AUTH_JAVA_DEMO.
      name: 'java-demo',
      image: 'tomcat:9.0-jre17', // Tomcat 9 (javax.*, as the tutorial's war) is patched until 2027-03-31
      replicas: 3,
      containerPort: 8080,
      host: 'java.example.com',
      // k8s4 exports /data/nfs (tutorial 8.3); the war goes into webapps.
      volumes: [
        { name: 'webapps', mountPath: '/usr/local/tomcat/webapps', server: '192.168.100.40', path: '/data/nfs/java-demo/webapps', size: '5Gi' },
        { name: 'logs', mountPath: '/usr/local/tomcat/logs', server: '192.168.100.40', path: '/data/nfs/java-demo/logs', size: '10Gi', perPod: true },
      ],
    },
  ],
};

if (require.main === module) synthesize(cluster);
