/** One block of an environment file, optionally headed by a comment such as '[Member]'. */
export interface EnvironmentSection {
  readonly comment?: string;
  readonly variables: ReadonlyArray<readonly [string, string]>;
}

const NAME = /^[A-Z_][A-Z0-9_]*$/;
const UNSAFE = /["\\$`\n\r]/;

/**
 * NAME="value" lines, read by systemd's EnvironmentFile= and sourceable by a POSIX shell.
 * Throws on a repeated or malformed name and on values that would need escaping.
 */
export function renderEnvironmentFile(sections: readonly EnvironmentSection[]): string {
  const seen = new Set<string>();
  const blocks = sections.map((s) => {
    const lines = s.comment ? [`#${s.comment}`] : [];
    for (const [name, value] of s.variables) {
      if (!NAME.test(name)) throw new Error(`"${name}" is not an environment variable name`);
      if (seen.has(name)) throw new Error(`${name} is set twice`);
      if (UNSAFE.test(value)) throw new Error(`${name}: value ${JSON.stringify(value)} holds a character that cannot be written unescaped`);
      seen.add(name);
      lines.push(`${name}="${value}"`);
    }
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}
