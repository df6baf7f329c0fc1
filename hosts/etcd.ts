import { Construct } from 'constructs';
import { Cluster } from '../lib/cluster';
import { Host, PORTS } from '../lib/cluster-model';
import { HostBundle, START_ORDER } from '../lib/bundle/host-bundle';
import { renderEnvironmentFile } from '../lib/environment-file';
import { FLANNEL_NETWORK_CONFIG_KEY, flannelNetworkConfig } from '../lib/flannel-network';
import { PATHS } from '../lib/paths';
import { caSpec, certSpec } from '../lib/pki/cert-list';
import { renderUnit } from '../lib/systemd-unit';

export interface EtcdProps {
  /**
   * --initial-cluster-token: keeps members of different clusters from joining each other.
   * @default '<cluster name>-etcd'
   */
  readonly initialClusterToken?: string;
  /**
   * How often the network-config unit tries to reach etcd (5 s apart) while the cluster forms.
   * @default 24
   */
  readonly networkConfigAttempts?: number;
}

export const ETCD_FILES = {
  environment: `${PATHS.etcdCfg}/etcd`,
  etcdctlEnvironment: `${PATHS.etcdCfg}/etcdctl.env`,
  etcd: `${PATHS.etcdBin}/etcd`,
  etcdctl: `${PATHS.etcdBin}/etcdctl`,
  unit: `${PATHS.systemdUnits}/etcd.service`,
  networkConfigScript: `${PATHS.etcdBin}/flannel-network-config.sh`,
  networkConfigUnit: `${PATHS.systemdUnits}/flannel-network-config.service`,
} as const;

const ETCD_SOURCE = 'etcd v3.5 release tarball (etcd, etcdctl)';

/**
 * etcd members: the ETCD_* environment file (no flags: etcd 3.5 refuses a setting given both ways),
 * etcd.service, an etcdctl environment for operators, and on the first member a oneshot unit that
 * stores flannel's network config with the v3 API.
 */
export class Etcd extends Construct {
  constructor(scope: Construct, id: string, props: EtcdProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const members = model.etcdMembers;
    const token = props.initialClusterToken ?? `${model.name}-etcd`;
    const initialCluster = members.map((m) => `${m.name}=${peerUrl(m)}`).join(',');
    const bundles = cluster.bundlesWithRole('etcd');

    for (const bundle of bundles) {
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
            ['ETCD_CERT_FILE', certSpec('etcd-server').certPath],
            ['ETCD_KEY_FILE', certSpec('etcd-server').keyPath],
            ['ETCD_TRUSTED_CA_FILE', caSpec('etcd-ca').certPath],
            ['ETCD_CLIENT_CERT_AUTH', 'true'],
            ['ETCD_PEER_CERT_FILE', certSpec('etcd-peer').certPath],
            ['ETCD_PEER_KEY_FILE', certSpec('etcd-peer').keyPath],
            ['ETCD_PEER_TRUSTED_CA_FILE', caSpec('etcd-ca').certPath],
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
          Description: 'etcd key-value store',
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
      bundle.addService({ unit: 'etcd.service', order: START_ORDER.etcd, binaries: [ETCD_FILES.etcd, ETCD_FILES.etcdctl], source: ETCD_SOURCE });

      // The member's serving certificate has client usage too, as in the tutorial.
      bundle.addFile(ETCD_FILES.etcdctlEnvironment, renderEnvironmentFile([{
        comment: ` etcdctl settings; use: set -a; . ${ETCD_FILES.etcdctlEnvironment}; set +a; ${ETCD_FILES.etcdctl} endpoint health`,
        variables: [
          ['ETCDCTL_API', '3'],
          ['ETCDCTL_ENDPOINTS', model.etcdEndpoints.join(',')],
          ['ETCDCTL_CACERT', caSpec('etcd-ca').certPath],
          ['ETCDCTL_CERT', certSpec('etcd-server').certPath],
          ['ETCDCTL_KEY', certSpec('etcd-server').keyPath],
        ],
      }]));
    }

    if (bundles.length > 0) addNetworkConfig(bundles[0], flannelNetworkConfig(model), props.networkConfigAttempts ?? 24);
  }
}

function peerUrl(host: Host): string {
  return `https://${host.ip}:${PORTS.etcdPeer}`;
}

function clientUrl(ip: string): string {
  return `https://${ip}:${PORTS.etcdClient}`;
}

/** Writes flannel's network config once, on one member; flanneld >= 0.18 reads only the v3 API. */
function addNetworkConfig(bundle: HostBundle, value: string, attempts: number): void {
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`networkConfigAttempts must be a positive integer, not ${attempts}`);
  if (value.includes("'")) throw new Error(`flannel network config ${value} cannot be single-quoted`);
  bundle.addFile(ETCD_FILES.networkConfigScript, [
    '#!/bin/sh',
    `# Stores flannel's network config in etcd (v3 API) unless it already holds it.`,
    'set -eu',
    'set -a',
    `. ${ETCD_FILES.etcdctlEnvironment}`,
    'set +a',
    `ETCDCTL=${ETCD_FILES.etcdctl}`,
    `KEY=${FLANNEL_NETWORK_CONFIG_KEY}`,
    `VALUE='${value}'`,
    'attempt=1',
    'while :; do',
    '  if current=$("$ETCDCTL" get --print-value-only "$KEY"); then',
    '    if [ "$current" = "$VALUE" ]; then',
    '      echo "$KEY is up to date: $VALUE"',
    '      exit 0',
    '    fi',
    '    if "$ETCDCTL" put "$KEY" "$VALUE" >/dev/null; then',
    '      echo "$KEY set to $VALUE"',
    '      exit 0',
    '    fi',
    '  fi',
    `  if [ "$attempt" -ge ${attempts} ]; then`,
    '    echo "etcd did not answer after $attempt attempts; is a quorum of members running?" >&2',
    '    exit 1',
    '  fi',
    '  attempt=$((attempt + 1))',
    '  sleep 5',
    'done',
    '',
  ].join('\n'), { mode: 0o755 });
  bundle.addFile(ETCD_FILES.networkConfigUnit, renderUnit({
    unit: {
      Description: 'Store the flannel network config in etcd',
      After: 'etcd.service',
      Requires: 'etcd.service',
    },
    service: {
      Type: 'oneshot',
      RemainAfterExit: 'yes',
      ExecStart: ETCD_FILES.networkConfigScript,
      // An attempt takes at most 15 s: get and put (5 s command timeout each), then 5 s asleep.
      TimeoutStartSec: `${attempts * 15}s`,
    },
  }));
  bundle.addService({
    unit: 'flannel-network-config.service',
    order: START_ORDER.networkConfig,
    binaries: [ETCD_FILES.etcdctl],
    source: ETCD_SOURCE,
  });
}
