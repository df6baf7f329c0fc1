/** The PKI state cannot be used as it is; nothing was written. */
export class PkiStateError extends Error {
  constructor(stateDir: string, problems: readonly string[]) {
    super(`PKI state in ${stateDir} is unusable; nothing was written:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`
      + 'Restore the state directory from its backup. A CA is never regenerated silently: to start a new cluster '
      + 'with new CAs, move the state directory away (every host then needs new bundles).');
    this.name = 'PkiStateError';
  }
}
