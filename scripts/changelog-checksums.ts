// npx tsx scripts/changelog-checksums.ts CHANGELOG-1.NN.md...
//
// Prints "VERSION SHA512" for every release in Kubernetes CHANGELOG files: the sha512 column of the
// kubernetes-server-linux-amd64.tar.gz row of "### Server Binaries" under "## Downloads for vVERSION". The column is
// found by its header, so a table that gains columns or pipes still parses. Exits 1, naming file and release, when a
// file has no such section, a section has no such row or a 128-hex value, or two files disagree on a release.
import { readFileSync } from 'fs';

const ARCHIVE = 'kubernetes-server-linux-amd64.tar.gz';

const cells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());

/** The server archive's sha512 of each release in one CHANGELOG, in the file's order. */
export function parseChangelog(text: string, file: string): Map<string, string> {
  const found = new Map<string, string>();
  const fail = (release: string, why: string): never => { throw new Error(`${file}: v${release}: ${why}`); };
  // Each "## Downloads for vX" section runs to the next "## " heading.
  const sections = text.split(/^(?=## )/m).filter((s) => s.startsWith('## Downloads for v'));
  for (const section of sections) {
    const release = /^## Downloads for v(\S+)/.exec(section)![1];
    const server = section.split(/^(?=### )/m).find((s) => /^### Server Binaries\s*$/m.test(s.split('\n')[0]));
    if (!server) fail(release, 'no "### Server Binaries" table');
    const lines = server!.split('\n').filter((l) => l.includes('|'));
    const header = lines.length ? cells(lines[0]) : [];
    const column = header.findIndex((c) => /sha512/i.test(c));
    if (column < 0) fail(release, `no sha512 column in the Server Binaries header ${JSON.stringify(lines[0] ?? '')}`);
    const rows = lines.filter((l) => cells(l)[0].includes(`[${ARCHIVE}]`) || cells(l)[0] === ARCHIVE);
    if (rows.length !== 1) fail(release, `${rows.length} rows for ${ARCHIVE} in Server Binaries`);
    const link = /\]\(([^)]*)\)/.exec(cells(rows[0])[0]);
    if (link && !link[1].includes(`/v${release}/`)) fail(release, `the ${ARCHIVE} row links to ${link[1]}`);
    const hex = (cells(rows[0])[column] ?? '').replace(/`/g, '');
    if (!/^[0-9a-f]{128}$/.test(hex)) fail(release, `sha512 column holds ${JSON.stringify(hex)}, not 128 hex digits`);
    if (found.has(release)) fail(release, 'two "Downloads for" sections');
    found.set(release, hex);
  }
  if (found.size === 0) throw new Error(`${file}: no "## Downloads for v..." section; not a Kubernetes CHANGELOG?`);
  return found;
}

function main(files: string[]): void {
  if (files.length === 0) throw new Error('usage: npx tsx scripts/changelog-checksums.ts CHANGELOG-1.NN.md...');
  const all = new Map<string, { hex: string; file: string }>();
  for (const file of files) {
    for (const [release, hex] of parseChangelog(readFileSync(file, 'utf8'), file)) {
      const seen = all.get(release);
      if (seen && seen.hex !== hex) throw new Error(`v${release}: ${seen.file} says ${seen.hex}, ${file} says ${hex}`);
      if (!seen) all.set(release, { hex, file });
    }
  }
  for (const [release, { hex }] of all) console.log(`${release} ${hex}`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`changelog-checksums: ${(e as Error).message}`);
    process.exit(1);
  }
}
