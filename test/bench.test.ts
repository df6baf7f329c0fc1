import * as fs from 'fs';
import * as path from 'path';
import { differences, fingerprint, parseArgs, runBench } from '../bench/run';
import { benchDefinition } from '../bench/definitions';
import { ClusterModel, synthesizeCluster } from '../lib';
import { caIds, certInstances } from '../lib/pki';
import { cleanupTempDirs, tempDir } from './support/tmp';
import { PHASES } from '../lib/synth/phases';

// The bench is a benchmark, not a timed test: these tests prove it runs and reports, never how fast.

afterAll(cleanupTempDirs);

/** Cells of a Markdown table row. */
const cells = (row: string) => row.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());

/** The table under a '## heading': header, then rows; every row must have the header's number of cells. */
function table(report: string, heading: string): Record<string, string>[] {
  const lines = report.split('\n');
  const start = lines.indexOf(`## ${heading}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const first = lines.findIndex((l, i) => i > start && l.startsWith('|'));
  const rows: string[] = [];
  for (let i = first; i < lines.length && lines[i].startsWith('|'); i++) rows.push(lines[i]);
  const header = cells(rows[0]);
  expect(cells(rows[1]).every((c) => /^-+:?$/.test(c))).toBe(true);
  return rows.slice(2).map((r) => {
    expect(cells(r)).toHaveLength(header.length);
    return Object.fromEntries(cells(r).map((c, i) => [header[i], c]));
  });
}

describe('npm run bench -- --quick', () => {
  let report: string;
  let raw: { scenarios: { state: string; samples: { keysGenerated: number; phases: Record<string, number> }[]; rewritten: string[] }[] };

  beforeAll(async () => {
    const dir = tempDir();
    const options = parseArgs(['--quick', '--out', path.join(dir, 'RESULTS.md'), '--json', path.join(dir, 'raw.json')]);
    expect(options).toMatchObject({ runs: 1, sizes: [4], algorithms: ['ecdsa'], cfssl: false });
    report = await runBench(options, () => undefined);
    expect(fs.readFileSync(path.join(dir, 'RESULTS.md'), 'utf8')).toBe(report);
    raw = JSON.parse(fs.readFileSync(path.join(dir, 'raw.json'), 'utf8'));
  }, 180_000);

  it('reports every scenario with its wall time, peak RSS and keys in well-formed tables', () => {
    const scenarios = table(report, 'Scenarios');
    expect(scenarios.map((r) => r.scenario)).toEqual(['cold seed (4) ecdsa', 'warm seed (4) ecdsa']);
    for (const r of scenarios) {
      expect(r['wall median (s)']).toMatch(/^\d+\.\d{3}$/);
      expect(r['min–max (s)']).toMatch(/^\d+\.\d{3}–\d+\.\d{3}$/);
      expect(Number(r['peak RSS median (MiB)'])).toBeGreaterThan(0);
    }
    const phases = table(report, 'Where the time goes (medians, ms)');
    expect(phases.map((r) => r.scenario)).toEqual(['cold seed (4) ecdsa', 'warm seed (4) ecdsa']);
    expect(Object.keys(phases[0])).toEqual(expect.arrayContaining(['startup', 'import', 'keys', 'certs', 'manifests', 'bundles', 'wall']));
    expect(table(report, 'Targets').map((r) => r.target)).toContain('cold seed RSA / cfssl script');
    expect(report).toMatch(/Machine: \d+ CPUs \(nproc\), .+, Node v\d+/);
  });

  it('a cold run generates every key of the certificate table; a warm run none, and rewrites no byte', () => {
    const model = ClusterModel.fromDefinition(benchDefinition(4, 'ecdsa'));
    const cold = raw.scenarios.find((s) => s.state === 'cold')!;
    const warm = raw.scenarios.find((s) => s.state === 'warm')!;
    // Every table row a key of its own, but rows that share one; + the service-account key.
    expect(cold.samples[0].keysGenerated).toBe(caIds(model).length + certInstances(model).filter((i) => !i.spec.sharesKeyWith).length + 1);
    expect(warm.samples.map((s) => s.keysGenerated)).toEqual([0]);
    expect(warm.rewritten).toEqual([]);
    const rows = table(report, 'Scenarios');
    expect(rows[0]['keys generated']).toBe(String(cold.samples[0].keysGenerated));
    expect(rows[1]).toMatchObject({ 'keys generated': '0', 'bundles written': '0', 'warm run rewrote': 'no byte' });
    const targets = Object.fromEntries(table(report, 'Targets').map((r) => [r.target, r]));
    expect(targets['warm runs: keys generated']).toMatchObject({ measured: '0', result: 'PASS' });
    expect(targets['warm runs: files rewritten (dist and state)']).toMatchObject({ measured: '0', result: 'PASS' });
  });
});

describe('the bench', () => {
  it('notices a file rewritten with the same bytes, an added and a removed file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'same'), 'x');
    fs.writeFileSync(path.join(dir, 'gone'), 'y');
    const before = fingerprint(dir);
    expect(differences(before, fingerprint(dir))).toEqual([]);
    fs.writeFileSync(path.join(dir, 'same.tmp'), 'x');
    fs.renameSync(path.join(dir, 'same.tmp'), path.join(dir, 'same'));
    fs.rmSync(path.join(dir, 'gone'));
    fs.writeFileSync(path.join(dir, 'new'), 'z');
    expect(differences(before, fingerprint(dir)).sort()).toEqual(['+new', '-gone', '~same']);
  });

  it('lays out clusters of 3 masters, 3 etcd, 2 lb and nodes, and rejects sizes it cannot', () => {
    const model = ClusterModel.fromDefinition(benchDefinition(1000, 'rsa'));
    expect([model.masters.length, model.etcdMembers.length, model.lbHosts.length, model.nodes.length]).toEqual([3, 3, 2, 992]);
    expect(() => parseArgs(['--sizes', '4,6'])).toThrow(/cluster size 6/);
    expect(() => parseArgs(['--runs', '0'])).toThrow(/--runs/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
  });

  it('synthesizeCluster reports its phases and ClusterPki its keys', async () => {
    const dir = tempDir();
    const options = { outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined };
    const cold = await synthesizeCluster(benchDefinition(4, 'ecdsa'), options);
    expect(Object.keys(cold.phases)).toEqual(
      ['model', 'read', 'modules', 'keys', 'certs', 'pki-write', 'manifests', 'write-output', 'bundles', 'plan', 'record']);
    // Every phase reports under a name of its own.
    expect(new Set(PHASES.map((p) => p.name)).size).toBe(PHASES.length);
    expect(Object.keys(cold.pki.phases)).toEqual(['read', 'keys', 'sign', 'write']);
    expect(cold.pki.keysGenerated).toBeGreaterThan(0);
    const warm = await synthesizeCluster(benchDefinition(4, 'ecdsa'), options);
    expect(warm.pki.keysGenerated).toBe(0);
    expect(warm.bundles.written).toEqual([]);
  });
});
