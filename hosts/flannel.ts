import { Construct } from 'constructs';
import {
  Cluster, Flags, componentSpec, renderFlags, renderUnit, unitOf,
} from '../lib/components';
import { ClusterModel, PATHS } from '../lib/model';

export { FLANNEL_CNI_PLUGINS } from '../lib/components';

const ROW = componentSpec('flanneld');

export const FLANNEL_FILES = {
  options: ROW.options!.file,
  unit: `${PATHS.systemdUnits}/${unitOf('flanneld')}`,
  cniConfig: `${PATHS.cniConf}/10-flannel.conflist`,
  flanneld: ROW.binaries[0],
  kubeconfig: ROW.kubeconfig!.path,
  /** flanneld's --net-config-path: the pod network and the backend. */
  netConfig: `${PATHS.k8sCfg}/flannel-net-conf.json`,
} as const;

/** The network config flanneld reads: the pod network and the backend, as compact JSON. */
export function flannelNetworkConfig(model: ClusterModel): string {
  return JSON.stringify({ Network: model.network.podCidr.text, Backend: { Type: model.network.flannelBackend } });
}

/**
 * flanneld 0.22 on every host that runs pods or an apiserver, with the Kubernetes subnet manager (as kubeasz and
 * flannel's own manifests run it): each node's subnet is the podCIDR the controller-manager allocates to its Node,
 * so no host but the etcd members and the masters holds an etcd credential. And the CNI network config that hands
 * pods to it.
 */
export class Flannel extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const cniConfig = `${JSON.stringify({
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [
        { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }, null, 2)}\n`;
    const unit = renderUnit({
      unit: {
        Description: ROW.description,
        Documentation: 'https://github.com/flannel-io/flannel',
        // Not Before=containerd: a start job kept pending across flanneld's restarts would hold back containerd,
        // so the kubelet, so the Node whose podCIDR flanneld waits for. Pods wait for subnet.env in the CNI plugin.
        After: 'network-online.target',
        Wants: 'network-online.target',
      },
      service: {
        Type: 'notify',
        EnvironmentFile: FLANNEL_FILES.options,
        ExecStart: `${FLANNEL_FILES.flanneld} $${ROW.options!.variable}`,
        // Until the kubelet has registered its Node and the controller-manager has given it a podCIDR, flanneld
        // exits ("pod cidr not assigned"): systemd tries again.
        Restart: 'on-failure',
        RestartSec: '5s',
        // flanneld can outlive SIGTERM while its API informers retry (measured: killed at systemd's default 90 s
        // on every stop). What it holds is in its Node's annotations and subnet.env, so SIGKILL loses nothing.
        TimeoutStopSec: '15s',
      },
    });
    const kubeconfig = cluster.kubeconfigOf('flanneld').content;
    const netConfig = `${flannelNetworkConfig(model)}\n`;
    // The CNI config hands pods to flannel on hosts that run pods (containerd's).
    for (const bundle of cluster.bundlesRunning('containerd')) bundle.addFile(FLANNEL_FILES.cniConfig, cniConfig);
    for (const bundle of cluster.placeComponent('flanneld')) {
      const host = bundle.host;
      const flags: Flags = [
        ['kube-subnet-mgr', true],
        ['kubeconfig-file', FLANNEL_FILES.kubeconfig],
        ['net-config-path', FLANNEL_FILES.netConfig],
        ['iface', host.interface],
        // The interface's first address otherwise; peers and host-gw routes must use the model's.
        ['public-ip', host.ip],
        // flanneld masquerades pod traffic leaving the pod network (the CNI bridge then does not).
        ['ip-masq', true],
      ];
      // An environment file: the flags, and the Node whose podCIDR is this host's subnet (flanneld reads NODE_NAME).
      bundle.addFile(FLANNEL_FILES.options, `${ROW.options!.variable}="${renderFlags(flags).join(' \\\n')}"\nNODE_NAME="${host.name}"\n`);
      bundle.addFile(FLANNEL_FILES.unit, unit);
      bundle.addFile(FLANNEL_FILES.kubeconfig, kubeconfig, { mode: 0o600 });
      bundle.addFile(FLANNEL_FILES.netConfig, netConfig);
    }
  }
}
