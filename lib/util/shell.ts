/** A word for bash, single-quoted: the one quoting every generated script uses. */
export function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
