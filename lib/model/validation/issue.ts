/** One problem with a cluster definition: where it is, what it was, what would be valid. */
export interface DefinitionIssue {
  /** Field path, e.g. 'hosts[2].ip'. */
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

/** Thrown before anything is written; lists every issue found, not just the first. */
export class ClusterDefinitionError extends Error {
  constructor(public readonly issues: readonly DefinitionIssue[]) {
    super(`invalid cluster definition (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n`
      + issues.map((i) => `  - ${i.path}: ${show(i.value)} ${i.message}`).join('\n'));
    this.name = 'ClusterDefinitionError';
  }
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  return JSON.stringify(value);
}

/** Collects the issues of one rule group. */
export class Issues {
  readonly list: DefinitionIssue[] = [];

  add(path: string, value: unknown, message: string): void {
    this.list.push({ path, value, message });
  }
}
