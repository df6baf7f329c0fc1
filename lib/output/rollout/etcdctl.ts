import { ETCDCTL_TLS, ETCD_FILES } from '../../../hosts/etcd';

/** etcdctl with a member's own TLS credentials, as Ansible and deploy.sh run it on an etcd member. */
export function etcdctlCommand(): string {
  return [ETCD_FILES.etcdctl, ...ETCDCTL_TLS.map(([flag, file]) => `--${flag}=${file}`)].join(' ');
}
