import * as fs from 'fs';
import * as path from 'path';

/** Snapshots hold no secrets and no certificate bytes: summaries and labels only (and so they are stable). */
const ROOT = path.join(__dirname);

function snapshots(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return snapshots(p);
    return e.name.endsWith('.snap') ? [p] : [];
  });
}

test('no snapshot holds PEM, base64 of PEM or a private key', () => {
  const files = snapshots(ROOT);
  expect(files.length).toBeGreaterThan(20);
  // '-----BEGIN' as it appears in kubeconfig *-data fields (base64 at any of the 3 alignments).
  const base64Begin = ['LS0tLS1CRUdJT', 'tLS0tQkVHSU', 'LS0tLUJFR0lO'];
  const found: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    if (/-----BEGIN [A-Z ]+-----/.test(text)) found.push(`${path.relative(ROOT, f)}: PEM`);
    if (/PRIVATE KEY/.test(text)) found.push(`${path.relative(ROOT, f)}: private key`);
    for (const b of base64Begin) if (text.includes(b)) found.push(`${path.relative(ROOT, f)}: base64 of PEM (${b})`);
  }
  expect(found).toEqual([]);
});
