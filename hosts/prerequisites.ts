import { Construct } from 'constructs';
import { Cluster } from '../lib/components';
import { ClusterModel } from '../lib/model';

export const PREREQUISITE_FILES = {
  /** Applied by `sysctl --system` and at boot by systemd-sysctl. */
  sysctl: '/etc/sysctl.d/99-kubernetes.conf',
  /** Loaded at boot by systemd-modules-load; install.sh must modprobe them once itself. */
  modulesLoad: '/etc/modules-load.d/kubernetes.conf',
} as const;

/**
 * Kernel settings pods need: routed traffic, bridged traffic passing iptables (kube-proxy, flannel), and the
 * NodePort range kept out of the ephemeral ports the kernel hands out (30000-32767 overlaps its 32768-60999 only at
 * the edge, a wider range like 30000-50000 deeply), so no outgoing connection takes a NodePort kube-proxy holds.
 */
export function nodeSysctls(model: ClusterModel): [string, string][] {
  const { low, high } = model.network.nodePortRange;
  return [
    ['net.bridge.bridge-nf-call-iptables', '1'],
    ['net.bridge.bridge-nf-call-ip6tables', '1'],
    ['net.ipv4.ip_forward', '1'],
    ['net.ipv4.ip_local_reserved_ports', `${low}-${high}`],
  ];
}

/** overlay for containerd's snapshotter, br_netfilter for the bridge sysctls, IPVS for kube-proxy's ipvs mode. */
export function kernelModules(model: ClusterModel): string[] {
  const ipvs = model.network.kubeProxyMode === 'ipvs' ? ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh'] : [];
  return ['overlay', 'br_netfilter', ...ipvs, 'nf_conntrack'];
}

/**
 * What every kubelet host needs from the kernel before containerd, flannel and kube-proxy start.
 * Swap is not handled here: install.sh refuses to go on while swap is on (kubelet's failSwapOn).
 */
export class NodePrerequisites extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const modules = kernelModules(cluster.model);
    for (const bundle of cluster.bundlesRunning('kubelet')) {
      bundle.addFile(PREREQUISITE_FILES.sysctl, [
        '# Kubernetes node prerequisites (kubesmith)',
        ...nodeSysctls(cluster.model).map(([k, v]) => `${k} = ${v}`),
        '',
      ].join('\n'));
      bundle.addFile(PREREQUISITE_FILES.modulesLoad, [
        '# Kubernetes node prerequisites (kubesmith)',
        ...modules,
        '',
      ].join('\n'));
    }
  }
}
