import { Construct } from 'constructs';
import {
  Cluster, componentSpec, renderEnvironmentFile, renderUnit, unitOf,
} from '../lib/components';
import { Host, PATHS, PORTS } from '../lib/model';
import { certPath, keyPath } from '../lib/pki';

const [ETCD, ETCDCTL] = componentSpec('etcd').binaries;

export const ETCD_FILES = {
  environment: `${PATHS.etcdCfg}/etcd`,
  etcdctlEnvironment: `${PATHS.etcdCfg}/etcdctl.env`,
  etcd: ETCD,
  etcdctl: ETCDCTL,
  unit: `${PATHS.systemdUnits}/${unitOf('etcd')}`,
} as const;

/**
 * etcdctl's TLS flags with a member's own serving certificate (it has client usage too, as in the tutorial):
 * what operators, Ansible and deploy.sh run etcdctl with.
 */
export const ETCDCTL_TLS: readonly (readonly [string, string])[] = [
  ['cacert', certPath('etcd-ca')],
  ['cert', certPath('etcd-server')],
  ['key', keyPath('etcd-server')],
];

/**
 * etcd members: the ETCD_* environment file (no flags: etcd 3.5 refuses a setting given both ways),
 * etcd.service and an etcdctl environment for operators. Only the members and the apiservers hold certificates
 * etcd trusts: flannel uses the Kubernetes API (hosts/flannel.ts).
 */
export class Etcd extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const members = model.etcdMembers;
    // Keeps members of different clusters from joining each other.
    const token = `${model.name}-etcd`;
    const initialCluster = members.map((m) => `${m.name}=${peerUrl(m)}`).join(',');

    for (const bundle of cluster.placeComponent('etcd')) {
      const host = bundle.host;
      bundle.addFile(ETCD_FILES.environment, renderEnvironmentFile([
        {
          comment: '[Member]',
          variables: [
            ['ETCD_NAME', host.name],
            ['ETCD_DATA_DIR', PATHS.etcdData],
            ['ETCD_LISTEN_PEER_URLS', peerUrl(host)],
            ['ETCD_LISTEN_CLIENT_URLS', `${clientUrl(host.ip)},${clientUrl('127.0.0.1')}`],
          ],
        },
        {
          comment: '[Clustering]',
          variables: [
            ['ETCD_INITIAL_ADVERTISE_PEER_URLS', peerUrl(host)],
            ['ETCD_ADVERTISE_CLIENT_URLS', clientUrl(host.ip)],
            ['ETCD_INITIAL_CLUSTER', initialCluster],
            ['ETCD_INITIAL_CLUSTER_TOKEN', token],
            ['ETCD_INITIAL_CLUSTER_STATE', 'new'],
          ],
        },
        {
          comment: '[Security]',
          variables: [
            ['ETCD_CERT_FILE', certPath('etcd-server')],
            ['ETCD_KEY_FILE', keyPath('etcd-server')],
            ['ETCD_TRUSTED_CA_FILE', certPath('etcd-ca')],
            ['ETCD_CLIENT_CERT_AUTH', 'true'],
            ['ETCD_PEER_CERT_FILE', certPath('etcd-peer')],
            ['ETCD_PEER_KEY_FILE', keyPath('etcd-peer')],
            ['ETCD_PEER_TRUSTED_CA_FILE', certPath('etcd-ca')],
            ['ETCD_PEER_CLIENT_CERT_AUTH', 'true'],
          ],
        },
        {
          // 3.4 defaults to capnslog (gone in 3.5): log the same way on both.
          comment: '[Logging]',
          variables: [['ETCD_LOGGER', 'zap']],
        },
      ]));
      bundle.addFile(ETCD_FILES.unit, renderUnit({
        unit: {
          Description: componentSpec('etcd').description,
          Documentation: 'https://etcd.io/docs/v3.5/',
          After: 'network-online.target',
          Wants: 'network-online.target',
        },
        service: {
          // READY comes once the member has joined a quorum: start members together.
          Type: 'notify',
          EnvironmentFile: ETCD_FILES.environment,
          ExecStart: ETCD_FILES.etcd,
          Restart: 'on-failure',
          RestartSec: '5s',
          LimitNOFILE: '65536',
        },
      }));
      bundle.addFile(ETCD_FILES.etcdctlEnvironment, renderEnvironmentFile([{
        comment: ` etcdctl settings; use: set -a; . ${ETCD_FILES.etcdctlEnvironment}; set +a; ${ETCD_FILES.etcdctl} endpoint health`,
        variables: [
          ['ETCDCTL_API', '3'],
          ['ETCDCTL_ENDPOINTS', model.etcdEndpoints.join(',')],
          ...ETCDCTL_TLS.map(([flag, file]) => [`ETCDCTL_${flag.toUpperCase()}`, file] as const),
        ],
      }]));
    }

  }
}

function peerUrl(host: Host): string {
  return `https://${host.ip}:${PORTS.etcdPeer}`;
}

function clientUrl(ip: string): string {
  return `https://${ip}:${PORTS.etcdClient}`;
}
