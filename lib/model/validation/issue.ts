/** One problem with a cluster definition: where it is, what it was, what would be valid. */
export interface DefinitionIssue {
  /** Field path, e.g. 'hosts[2].ip'. */
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
  /** The host the path is in, by name, when the issue is about one host. */
  readonly host?: string;
}

/** Thrown before anything is written; lists every issue found, not just the first. */
export class ClusterDefinitionError extends Error {
  constructor(public readonly issues: readonly DefinitionIssue[]) {
    super(`invalid cluster definition (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n`
      + issues.map((i) => `  - ${i.path}${i.host ? ` (host ${i.host})` : ''}: ${show(i.value)} ${i.message}`).join('\n'));
    this.name = 'ClusterDefinitionError';
  }
}

/** The value as written, cut short when long (a 300-character name need not be printed whole). */
function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 100)}… (${text.length} characters)` : text;
}

/** Collects the issues of one rule group. */
export class Issues {
  readonly list: DefinitionIssue[] = [];

  add(path: string, value: unknown, message: string, host?: string): void {
    this.list.push({ path, value, message, ...(host ? { host } : {}) });
  }
}
