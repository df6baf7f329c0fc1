import { Construct } from 'constructs';
import { Cluster } from '../lib/cluster';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { FLANNEL_ETCD_PREFIX } from '../lib/flannel-network';
import { PATHS } from '../lib/paths';
import { caSpec, certSpec } from '../lib/pki/cert-list';
import { Flags, renderOptionFile, renderUnit } from '../lib/systemd-unit';

export interface FlannelProps {
  /**
   * --ip-masq: flanneld masquerades pod traffic leaving the pod network (the CNI bridge then does not).
   * @default true
   */
  readonly ipMasq?: boolean;
}

export const FLANNEL_FILES = {
  options: `${PATHS.k8sCfg}/flanneld`,
  unit: `${PATHS.systemdUnits}/flanneld.service`,
  cniConfig: `${PATHS.cniConf}/10-flannel.conflist`,
  flanneld: `${PATHS.k8sBin}/flanneld`,
} as const;

/** The CNI plugins a pod sandbox runs: flannel delegates to bridge with host-local IPAM; containerd adds loopback. */
export const FLANNEL_CNI_PLUGINS = ['flannel', 'bridge', 'host-local', 'portmap', 'loopback'] as const;

/**
 * flanneld 0.22 on every kubelet host, leasing its node subnet from etcd (v3 API) with the
 * flannel-etcd-client certificate, and the CNI network config that hands pods to it.
 *
 * Masters run flanneld too (without the CNI config: they run no pods): the apiserver dials pod IPs itself
 * for admission webhooks and aggregated APIs (--enable-aggregator-routing) and for its pod/service proxy,
 * and without a flannel lease a master has no route to the pod network (test/cluster showed
 * "dial tcp 172.20.x.y:8080: connect: network is unreachable").
 */
export class Flannel extends Construct {
  constructor(scope: Construct, id: string, props: FlannelProps = {}) {
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
        Description: 'flanneld overlay network agent',
        Documentation: 'https://github.com/flannel-io/flannel',
        // Ordering only: a node need not run etcd itself.
        After: 'network-online.target etcd.service',
        Wants: 'network-online.target',
        Before: 'containerd.service',
      },
      service: {
        Type: 'notify',
        EnvironmentFile: FLANNEL_FILES.options,
        ExecStart: `${FLANNEL_FILES.flanneld} $FLANNEL_OPTIONS`,
        Restart: 'on-failure',
        RestartSec: '5s',
      },
    });
    for (const bundle of cluster.bundlesWithRole('node', 'master')) {
      const host = bundle.host;
      const runsPods = host.has('node');
      const flags: Flags = [
        ['etcd-endpoints', model.etcdEndpoints.join(',')],
        ['etcd-cafile', caSpec('etcd-ca').certPath],
        ['etcd-certfile', certSpec('flannel-etcd-client').certPath],
        ['etcd-keyfile', certSpec('flannel-etcd-client').keyPath],
        ['etcd-prefix', FLANNEL_ETCD_PREFIX],
        ['iface', host.interface],
        // The interface's first address otherwise; peers and host-gw routes must use the model's.
        ['public-ip', host.ip],
        ...((props.ipMasq ?? true) ? [['ip-masq', true] as const] : []),
      ];
      bundle.addFile(FLANNEL_FILES.options, renderOptionFile('FLANNEL_OPTIONS', flags));
      bundle.addFile(FLANNEL_FILES.unit, unit);
      if (runsPods) bundle.addFile(FLANNEL_FILES.cniConfig, cniConfig);
      bundle.addService({
        unit: 'flanneld.service',
        order: START_ORDER.flanneld,
        binaries: [FLANNEL_FILES.flanneld, ...(runsPods ? FLANNEL_CNI_PLUGINS.map((p) => `${PATHS.cniBin}/${p}`) : [])],
        source: runsPods
          ? 'flannel v0.22 release (flanneld), flannel CNI plugin v1.2 release (flannel), CNI plugins v1.3 release tarball (bridge, host-local, portmap, loopback)'
          : 'flannel v0.22 release (flanneld)',
      });
    }
  }
}
