/**
 * The cluster test/cluster boots: main.ts's seed (2 masters that are the lb pair, 3 etcd members,
 * 2 nodes, its addons and app), moved to test addresses that exist only inside the network
 * namespaces the suite makes (10.78.0.0/24), with ECDSA keys (same files, generated in milliseconds).
 *
 * Every difference this sandbox forces is in SANDBOX below, with its reason; nothing else differs
 * from what kubesmith emits.
 */
import { ClusterDefinition } from '../../lib';
import { SEED, withChanges } from '../support/clusters';
import { upgradePath } from '../../scripts/component-versions';

const IP: Readonly<Record<string, string>> = {
  k8s1: '10.78.0.10', k8s2: '10.78.0.20', k8s3: '10.78.0.30', k8s4: '10.78.0.40',
};
const SEED_IP: Readonly<Record<string, string>> = Object.fromEntries(SEED.hosts.map((h) => [h.ip, IP[h.name]]));

/**
 * What this sandbox forces, in one place:
 *  - kubeProxyMode 'iptables': this kernel has no IPVS (/proc/net/ip_vs is absent), so kube-proxy's ipvs
 *    mode cannot run (the seed says ipvs).
 *  - kubelet cgroupDriver and containerd's SystemdCgroup: cgroupfs, because there is no systemd as PID 1
 *    to create the cgroups (applied to the installed files by sandboxFiles() in boot.ts).
 *  - kubelet failCgroupV1: false, from Kubernetes 1.35 (lib/versions/kubernetes.ts cgroupV1 'refused'): this
 *    kernel mounts cgroups v1 (hybrid), and these kubelets refuse to start on it otherwise; real hosts run cgroup
 *    v2, where kubesmith writes nothing (also in sandboxFiles()).
 *  - kubelet cgroupRoot /kubesmith-<label>-<pid>-<host>: both kubelets share one kernel's cgroup tree; with
 *    the default root each would take the other's pod cgroups for orphans (also in sandboxFiles()).
 *  - containerd restrict_oom_score_adj = true: this sandbox withholds CAP_SYS_RESOURCE even from root, so runc
 *    cannot lower a container's oom_score_adj (the pause container asks for -998: "failed to update
 *    /proc/self/oom_score_adj: Permission denied"); containerd then clamps scores to its own (also in sandboxFiles()).
 *  - runc is Debian's (building it needs cgo and libseccomp); containerd, etcd, Kubernetes, flannel, the CNI
 *    plugins and CoreDNS are the seed's versions, built from Go modules.
 *  - kube-proxy conntrack.maxPerCore 0: in a network namespace /proc/sys/net/netfilter/nf_conntrack_max is the
 *    init namespace's and read-only, and kube-proxy before 1.37 exits when it cannot raise it ("could not set conntrack
 *    parameters ... permission denied"); 0 leaves the kernel's value. Set through the definition's components.
 *  - kubelet evictionHard in absolute sizes: the kubelets' roots share one filesystem with this machine, whose
 *    free share (about 20% here) is set by everything else on it; the default thresholds (nodefs 10%, imagefs 15%
 *    available) would evict and refuse pods for that, not for what the suite uses. Set through the definition's
 *    components, and checked before the boot (cluster.test.ts).
 *  - In the roll-out test, the stand-ins that state other versions than the definition's (Debian's runc, the
 *    flannel CNI plugin from its older source; install.sh --check names them) step aside while the new
 *    install.sh runs, because install.sh refuses to install beside a program of another version; then come back.
 */
export const SANDBOX = {
  kubeProxyMode: 'iptables',
  kubeProxyConfig: { conntrack: { maxPerCore: 0 } },
  cgroupDriver: 'cgroupfs',
  failCgroupV1: false,
  kubeletConfig: {
    evictionHard: {
      'memory.available': '100Mi', 'nodefs.available': '2Gi', 'imagefs.available': '2Gi',
      'nodefs.inodesFree': '5%', 'imagefs.inodesFree': '5%',
    },
  },
} as const;

/**
 * The suite boots the seed's previous minor one patch before its newest, and its last stage upgrades it in place
 * with the compiled roll-out: to that minor's newest (a patch), then to the seed's own release (a minor). The chain
 * walk (KUBESMITH_UPGRADE_CHAIN, scripts/upgrade-chain.sh) boots an older minor's newest release instead and walks
 * every minor's newest in turn.
 */
export const UPGRADE_PATH: readonly string[] = [...upgradePath(), SEED.kubernetesVersion];

const minorOf = (v: string) => v.split('.').slice(0, 2).join('.');
/** Whether the path starts with a patch upgrade. */
export const PATCH_STEP = minorOf(UPGRADE_PATH[0]) === minorOf(UPGRADE_PATH[1]);
/** The minor upgrades before the last (the chain walk's). */
export const MINORS_BEFORE_LAST: readonly string[] = UPGRADE_PATH.slice(PATCH_STEP ? 2 : 1, -1);

export const BOOT_CLUSTER: ClusterDefinition = withChanges(SEED, {
  name: 'boot',
  kubernetesVersion: UPGRADE_PATH[0],
  hosts: SEED.hosts.map((h) => ({ ...h, ip: IP[h.name] })),
  loadBalancer: { ...SEED.loadBalancer, vip: '10.78.0.50/24' },
  network: { ...SEED.network, kubeProxyMode: SANDBOX.kubeProxyMode },
  certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' },
  components: {
    ...SEED.components,
    'kube-proxy': { ...SEED.components?.['kube-proxy'], config: SANDBOX.kubeProxyConfig },
    kubelet: { ...SEED.components?.kubelet, config: SANDBOX.kubeletConfig },
  },
  apps: (SEED.apps ?? []).map((a) => ({
    ...a, volumes: (a.volumes ?? []).map((v) => ({ ...v, server: SEED_IP[v.server] ?? v.server })),
  })),
});
