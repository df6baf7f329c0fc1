// The etcd files and commands the roll-out, the day-2 steps and the host constructs share: paths by name.
import { certPath, keyPath } from '../pki';
import { PATHS, PORTS } from '../model';
import { componentSpec, unitOf } from './component-list';

const [ETCD, ETCDCTL] = componentSpec('etcd').binaries;
const ETCDUTL = componentSpec('etcd-snapshot').binaries.find((b) => b.endsWith('/etcdutl'))!;

export const ETCD_FILES = {
  environment: `${PATHS.etcdCfg}/etcd`,
  etcdctlEnvironment: `${PATHS.etcdCfg}/etcdctl.env`,
  etcd: ETCD,
  etcdctl: ETCDCTL,
  etcdutl: ETCDUTL,
  unit: `${PATHS.systemdUnits}/${unitOf('etcd')}`,
  /** Day 2: restore this member from a snapshot; add or remove a member (run on a running member). */
  restore: `${PATHS.etcdBin}/etcd-restore.sh`,
  member: `${PATHS.etcdBin}/etcd-member.sh`,
  /**
   * Read after the environment file, when it exists: a member rebuilt with empty data joins the running cluster
   * (ETCD_INITIAL_CLUSTER_STATE=existing) though its bundle says 'new'. Under /run, so a reboot drops it; once the
   * member has data etcd ignores the setting anyway.
   */
  rejoin: '/run/kubesmith/etcd-rejoin',
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

export const ETCD_SNAPSHOT = {
  script: `${PATHS.etcdBin}/etcd-snapshot.sh`,
  /** The timer is the component table's unit; it starts this service on schedule. */
  service: 'etcd-snapshot.service',
  serviceUnit: `${PATHS.systemdUnits}/etcd-snapshot.service`,
  timerUnit: `${PATHS.systemdUnits}/${unitOf('etcd-snapshot')}`,
  dir: PATHS.etcdSnapshots,
} as const;

const TLS_FLAGS = ETCDCTL_TLS.map(([flag, file]) => `--${flag}=${file}`);

/** etcdctl with a member's own TLS credentials, as Ansible and deploy.sh run it on an etcd member. */
export function etcdctlCommand(): string {
  return [ETCD_FILES.etcdctl, ...TLS_FLAGS].join(' ');
}

/** The same against the member's local client endpoint, as its own scripts (snapshot, restore, membership) run it. */
export function localEtcdctlCommand(): string {
  return [ETCD_FILES.etcdctl, `--endpoints=https://127.0.0.1:${PORTS.etcdClient}`, ...TLS_FLAGS].join(' ');
}
