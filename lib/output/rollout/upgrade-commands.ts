import { ClusterModel, PATHS } from '../../model';
import { certPath } from '../../pki';

/**
 * The host-side facts an upgrade roll-out shares between deploy.sh (lib/output/rollout/upgrade.sh) and Ansible, so
 * that either tool resumes the other's roll-out.
 */
export const UPGRADE_PATHS = {
  /** Each finished step's record on its host: the file's content is the plan's target ("kubernetes=1.37.2 etcd=3.7.4"). */
  reached: '/var/lib/kubesmith/upgrade',
  /** Programs a roll-out replaced, at their install paths below it: a patch rollback rolls out the previous synth. */
  previous: '/var/lib/kubesmith/previous',
} as const;

/** The certificates on a host that expire within 30 days, by path ('no-openssl' when it cannot tell). */
export const EXPIRING_CERTS_COMMAND = 'command -v openssl > /dev/null || { echo no-openssl; exit 0; }; '
  + `for f in ${PATHS.k8sSsl}/*.pem ${PATHS.etcdSsl}/*.pem; do case "$f" in *-key.pem) continue ;; esac; [ -f "$f" ] || continue; `
  + 'openssl x509 -checkend 2592000 -noout -in "$f" > /dev/null 2>&1 || printf "%s " "$f"; done; true';

/**
 * kubectl drain's flags for the node wave: DaemonSet pods stay (their controller would recreate them at once), pods'
 * emptyDir data goes with them, and the drain gives up after the definition's timeout. A pod no controller owns
 * blocks it (kubectl refuses to delete it without --force): the roll-out stops and names it.
 */
export function drainFlags(model: ClusterModel): string[] {
  return ['--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${model.upgrades.drainTimeoutSeconds}s`];
}

/** The local apiserver's /version, on a master (gitVersion is its release). */
export function apiserverVersionCommand(model: ClusterModel): string {
  return `curl -fsS --max-time 5 --cacert ${certPath('kubernetes-ca')} https://127.0.0.1:${model.apiServerPort}/version`;
}
