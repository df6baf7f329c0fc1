import { Construct } from 'constructs';
import {
  Cluster, Flags, componentSpec, renderOptionFile, renderUnit, unitOf,
} from '../lib/components';
import { ClusterModel, PATHS } from '../lib/model';
import { certPath, keyPath } from '../lib/pki';

export { FLANNEL_CNI_PLUGINS } from '../lib/components';

export const FLANNEL_FILES = {
  options: componentSpec('flanneld').options!.file,
  unit: `${PATHS.systemdUnits}/${unitOf('flanneld')}`,
  cniConfig: `${PATHS.cniConf}/10-flannel.conflist`,
  flanneld: componentSpec('flanneld').binaries[0],
} as const;

/** flanneld's --etcd-prefix; it reads its network config from <prefix>/config. */
export const FLANNEL_ETCD_PREFIX = '/coreos.com/network';
export const FLANNEL_NETWORK_CONFIG_KEY = `${FLANNEL_ETCD_PREFIX}/config`;

/** The network config flanneld reads from etcd: the pod network and the backend, as compact JSON. */
export function flannelNetworkConfig(model: ClusterModel): string {
  return JSON.stringify({ Network: model.network.podCidr.text, Backend: { Type: model.network.flannelBackend } });
}

/**
 * flanneld 0.22 on every kubelet host, leasing its node subnet from etcd (v3 API) with the
 * flannel-etcd-client certificate, and the CNI network config that hands pods to it.
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
        Description: componentSpec('flanneld').description,
        Documentation: 'https://github.com/flannel-io/flannel',
        // Ordering only: a node need not run etcd itself.
        After: `network-online.target ${unitOf('etcd')}`,
        Wants: 'network-online.target',
        Before: unitOf('containerd'),
      },
      service: {
        Type: 'notify',
        EnvironmentFile: FLANNEL_FILES.options,
        ExecStart: `${FLANNEL_FILES.flanneld} $${componentSpec('flanneld').options!.variable}`,
        Restart: 'on-failure',
        RestartSec: '5s',
      },
    });
    // The CNI config hands pods to flannel on hosts that run pods (containerd's).
    for (const bundle of cluster.bundlesRunning('containerd')) bundle.addFile(FLANNEL_FILES.cniConfig, cniConfig);
    for (const bundle of cluster.placeComponent('flanneld')) {
      const host = bundle.host;
      const flags: Flags = [
        ['etcd-endpoints', model.etcdEndpoints.join(',')],
        ['etcd-cafile', certPath('etcd-ca')],
        ['etcd-certfile', certPath('flannel-etcd-client')],
        ['etcd-keyfile', keyPath('flannel-etcd-client')],
        ['etcd-prefix', FLANNEL_ETCD_PREFIX],
        ['iface', host.interface],
        // The interface's first address otherwise; peers and host-gw routes must use the model's.
        ['public-ip', host.ip],
        // flanneld masquerades pod traffic leaving the pod network (the CNI bridge then does not).
        ['ip-masq', true],
      ];
      bundle.addFile(FLANNEL_FILES.options, renderOptionFile(componentSpec('flanneld').options!.variable, flags));
      bundle.addFile(FLANNEL_FILES.unit, unit);
    }
  }
}
