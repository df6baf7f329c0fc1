/** What to do about an unusable state, unless a problem says otherwise. */
export const RESTORE_ADVICE = 'Restore the state directory from its backup (e.g. tar xzf kubesmith-state.tgz). A CA is never regenerated '
  + 'silently: to start a new cluster on purpose, with new CAs for every host, run synth with KUBESMITH_NEW_CLUSTER=<cluster name>.';

/** The state directory (PKI, secrets, the last synth's record) cannot be used as it is; nothing was written. */
export class PkiStateError extends Error {
  constructor(stateDir: string, problems: readonly string[], advice: string = RESTORE_ADVICE) {
    super(`PKI state in ${stateDir} is unusable; nothing was written:\n${problems.map((p) => `  - ${p}`).join('\n')}\n${advice}`);
    this.name = 'PkiStateError';
  }
}

/** Names given to `renew` that are no certificate of the cluster, or a CA; the state was not read. */
export class CertificateNameError extends Error {
  constructor(readonly problems: readonly string[], known: readonly string[]) {
    super(`${problems.join('\n')}\nthe certificates that can be renewed: ${known.join(', ')}; nothing was changed`);
    this.name = 'CertificateNameError';
  }
}
