import * as fs from 'fs';
import * as path from 'path';

/**
 * The one-way data flow, as a property of the code: definition → model → PKI → components → host files and charts
 * (siblings) → output → synth. docs/architecture.md draws it.
 */
const ROOT = path.join(__dirname, '..');
const LAYERS: readonly [string, number][] = [
  ['lib/util/', 0],
  ['lib/versions/', 0.5],
  ['lib/model/', 1],
  ['lib/pki/', 2],
  ['lib/components/', 3],
  ['lib/upgrade/', 3.5],
  ['hosts/', 4],
  ['lib/addons/', 4],
  ['lib/output/', 5],
  ['lib/synth/', 6],
  ['lib/index.ts', 7],
  ['lib/typescript-loader.js', 7],
];

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return /\.(ts|js)$/.test(e.name) ? [rel] : [];
  });
}

function layerOf(file: string): [string, number] {
  const found = LAYERS.find(([prefix]) => file === prefix || file.startsWith(prefix));
  if (!found) throw new Error(`${file} is in no layer; add its folder to LAYERS and to docs/architecture.md`);
  return found;
}

/** Our own modules a file imports (static imports, re-exports and require calls), as repository paths. */
function importsOf(file: string): { target: string; names: string[] }[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const found: { target: string; names: string[] }[] = [];
  const re = /(?:import|export)\s+(?:type\s+)?(?:\{([^}]*)\}|\*(?:\s+as\s+\w+)?|\w+)\s+from\s+'(\.[^']+)'|require\('(\.[^']+)'\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[2] ?? m[3];
    const base = path.posix.join(path.posix.dirname(file), spec);
    const target = [`${base}.ts`, `${base}.js`, `${base}/index.ts`, base].find((p) => fs.existsSync(path.join(ROOT, p)));
    if (!target) throw new Error(`${file}: cannot resolve ${spec}`);
    found.push({ target, names: (m[1] ?? '').split(',').map((n) => n.trim().split(/\s+as\s+/)[0].replace(/^type\s+/, '')).filter(Boolean) });
  }
  return found;
}

const FILES = [...sources('lib'), ...sources('hosts')];

test('every module sits in a layer', () => {
  for (const f of FILES) expect(() => layerOf(f)).not.toThrow();
});

test('no import runs from a lower layer to a higher one, and host files and charts do not import each other', () => {
  const upward: string[] = [];
  for (const file of FILES) {
    const [from, level] = layerOf(file);
    for (const { target } of importsOf(file)) {
      const [to, targetLevel] = layerOf(target);
      if (targetLevel > level || (targetLevel === level && from !== to)) upward.push(`${file} → ${target}`);
    }
  }
  expect(upward).toEqual([]);
});

test('outside the PKI, the certificate table is read only through its functions', () => {
  const internals = ['PKI_TABLE', 'APP_CERT_LIST', 'pkiSpec', 'PkiSpec', 'pkiFilesOf', 'HostPkiFile'];
  const readers: string[] = [];
  for (const file of FILES.filter((f) => !f.startsWith('lib/pki/'))) {
    for (const { target, names } of importsOf(file)) {
      if (!target.startsWith('lib/pki/')) continue;
      for (const n of names.filter((x) => internals.includes(x))) readers.push(`${file}: ${n}`);
    }
  }
  expect(readers).toEqual([]);
});

test('lib/index.ts only re-exports', () => {
  const text = fs.readFileSync(path.join(ROOT, 'lib/index.ts'), 'utf8');
  const statements = text.replace(/\/\/.*$/gm, '').split(';').map((s) => s.trim()).filter(Boolean);
  for (const s of statements) expect(s).toMatch(/^export (\*|\{[^}]*\}) from '\.\/[^']+'$/);
});
