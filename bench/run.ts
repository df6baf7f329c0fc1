// `npm run bench`: synth wall time, peak RSS, keys generated and per-phase times for the seed cluster and generated
// clusters of 100 and 1000 hosts, cold (empty PKI state) and warm (state and dist reused), RSA and ECDSA, each run in
// a fresh process; the seed tutorial's cfssl script as the baseline. Writes a Markdown report (bench/RESULTS.md).
//
//   npm run bench -- [--runs N] [--sizes 4,100,1000] [--algorithms rsa,ecdsa] [--no-cfssl] [--out FILE] [--json FILE]
//   npm run bench -- --quick     # seed only, ECDSA, 1 run, no cfssl, no report file unless --out: proves the bench works
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KeyAlgorithm } from '../lib/model/definition';
import { SEED_SIZE, benchDefinition } from './definitions';

const ROOT = path.resolve(__dirname, '..');
/** How synth-once.ts runs: with the node options of cdk8s.yaml's app (the TypeScript loader). */
const NODE_ARGS = appNodeArgs(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'));
const CFSSL_KEYS = 6;
const BIG = 1000;

export interface BenchOptions {
  readonly runs: number;
  readonly sizes: number[];
  readonly algorithms: KeyAlgorithm[];
  readonly cfssl: boolean;
  readonly out?: string;
  readonly json?: string;
  readonly quick: boolean;
}

/** One synth in a fresh process, as measured from outside and reported from inside (synth-once.ts). */
interface Sample {
  readonly wallMs: number;
  readonly startupMs: number;
  readonly importMs: number;
  readonly phases: Record<string, number>;
  readonly keysGenerated: number;
  readonly maxRssKiB: number;
  readonly bundlesWritten: number;
  /** Wall time not seen from inside: spawning, process exit. */
  readonly exitMs: number;
}

interface Scenario {
  readonly size: number;
  readonly algorithm: KeyAlgorithm;
  readonly state: 'cold' | 'warm';
  readonly samples: Sample[];
  /** Warm only: files of dist/ or the state dir that a run rewrote, added or removed (empty: no byte rewritten). */
  readonly rewritten: string[];
}

/** The node options of cdk8s.yaml's `app: node <options> main.ts`, so the bench runs synth the way users do. */
export function appNodeArgs(cdk8sYaml: string): string[] {
  const app = /^app:\s*(.+)$/m.exec(cdk8sYaml)?.[1].trim().split(/\s+/) ?? [];
  if (app[0] !== 'node' || app[app.length - 1] !== 'main.ts') {
    throw new Error(`cdk8s.yaml: app is "${app.join(' ')}"; the bench expects "node <options> main.ts"`);
  }
  return app.slice(1, -1);
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
    return argv[i + 1];
  };
  const known = new Set(['--runs', '--sizes', '--algorithms', '--no-cfssl', '--out', '--json', '--quick']);
  argv.forEach((a, i) => {
    if (a.startsWith('--') && !known.has(a)) throw new Error(`unknown option ${a}; known: ${[...known].join(' ')}`);
    if (!a.startsWith('--') && !['--runs', '--sizes', '--algorithms', '--out', '--json'].includes(argv[i - 1])) {
      throw new Error(`unexpected argument ${a}`);
    }
  });
  const quick = argv.includes('--quick');
  const runs = Number(value('--runs') ?? (quick ? 1 : 5));
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const sizes = (value('--sizes') ?? (quick ? String(SEED_SIZE) : `${SEED_SIZE},100,${BIG}`)).split(',').map(Number);
  for (const s of sizes) benchDefinition(s, 'rsa'); // rejects sizes that cannot be laid out
  const algorithms = (value('--algorithms') ?? (quick ? 'ecdsa' : 'rsa,ecdsa')).split(',') as KeyAlgorithm[];
  for (const a of algorithms) if (a !== 'rsa' && a !== 'ecdsa') throw new Error(`--algorithms: ${a} is neither rsa nor ecdsa`);
  return {
    runs,
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    algorithms: [...new Set(algorithms)],
    cfssl: !quick && !argv.includes('--no-cfssl'),
    out: value('--out') ?? (quick ? undefined : path.join(ROOT, 'bench', 'RESULTS.md')),
    json: value('--json'),
    quick,
  };
}

function synthOnce(definition: string, dir: string): Sample {
  const args = JSON.stringify({ definition, outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state') });
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...NODE_ARGS, path.join('bench', 'synth-once.ts'), args], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, KUBESMITH_STATE_DIR: undefined },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`synth in ${dir} failed (exit ${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-3000)}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ...m, wallMs, exitMs: wallMs - m.elapsedMs };
}

function cfsslAvailable(): boolean {
  const have = () => ['cfssl', 'cfssljson'].every((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
  if (have()) return true;
  console.error('bench: cfssl/cfssljson not found; installing Debian\'s golang-cfssl (bench/install-cfssl.sh)');
  const r = spawnSync('bash', [path.join(ROOT, 'bench', 'install-cfssl.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status === 0 && have()) return true;
  console.error('\n!!! bench: golang-cfssl could not be installed: the cfssl comparison is SKIPPED and its ratios are n/a !!!\n');
  return false;
}

function cfsslOnce(dir: string): number {
  const started = process.hrtime.bigint();
  const r = spawnSync('bash', [path.join(ROOT, 'bench', 'cfssl-tutorial.sh'), dir], { encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`cfssl script failed (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  return wallMs;
}

/** Every file under dir → inode, mtime, size and sha256: any rewrite, even of the same bytes, changes inode or mtime. */
export function fingerprint(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = fs.statSync(p, { bigint: true });
        out.set(path.relative(dir, p), `${st.ino}:${st.mtimeNs}:${st.size}:${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
      }
    }
  };
  walk(dir);
  return out;
}

export function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = [...after].filter(([f, v]) => before.get(f) !== v).map(([f]) => (before.has(f) ? `~${f}` : `+${f}`));
  return [...changed, ...[...before.keys()].filter((f) => !after.has(f)).map((f) => `-${f}`)];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function runBench(options: BenchOptions, log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubesmith-bench-'));
  const loadBefore = os.loadavg();
  const startedAt = new Date();
  try {
    const withCfssl = options.cfssl && cfsslAvailable();
    const defs = new Map<string, string>();
    for (const size of options.sizes) {
      for (const algorithm of options.algorithms) {
        const file = path.join(work, `definition-${size}-${algorithm}.json`);
        fs.writeFileSync(file, JSON.stringify(benchDefinition(size, algorithm)));
        defs.set(`${size}/${algorithm}`, file);
      }
    }
    const pairs = options.sizes.flatMap((size) => options.algorithms.map((algorithm) => ({ size, algorithm })));
    const scenario = (size: number, algorithm: KeyAlgorithm, state: 'cold' | 'warm'): Scenario => (
      { size, algorithm, state, samples: [], rewritten: [] });
    const cold = pairs.map(({ size, algorithm }) => scenario(size, algorithm, 'cold'));
    const warm = pairs.map(({ size, algorithm }) => scenario(size, algorithm, 'warm'));
    const cfssl: number[] = [];

    // Untimed: fills the TypeScript loader's transform cache and the page cache, as a user's earlier runs would.
    log('bench: warm-up run');
    synthOnce(defs.values().next().value!, fs.mkdtempSync(path.join(work, 'warmup-')));
    if (withCfssl) cfsslOnce(fs.mkdtempSync(path.join(work, 'cfssl-warmup-')));

    // Runs interleave scenarios so that load from other processes spreads over all of them alike.
    const kept = new Map<Scenario, string>();
    for (let run = 1; run <= options.runs; run++) {
      // Directories of earlier runs stay until the end: deleting a 1000-host run's files just before the next run
      // slowed that run by up to 0.5 s here (the file system discards the freed blocks meanwhile).
      if (withCfssl) cfssl.push(cfsslOnce(fs.mkdtempSync(path.join(work, 'cfssl-'))));
      for (const s of cold) {
        log(`bench: cold ${s.size} hosts ${s.algorithm}, run ${run}/${options.runs}`);
        const dir = fs.mkdtempSync(path.join(work, 'cold-'));
        s.samples.push(synthOnce(defs.get(`${s.size}/${s.algorithm}`)!, dir));
        kept.set(s, dir); // the last cold run's state and dist are the warm runs' starting point
      }
    }
    for (let run = 1; run <= options.runs; run++) {
      warm.forEach((s, i) => {
        log(`bench: warm ${s.size} hosts ${s.algorithm}, run ${run}/${options.runs}`);
        const dir = kept.get(cold[i])!;
        const before = fingerprint(dir);
        s.samples.push(synthOnce(defs.get(`${s.size}/${s.algorithm}`)!, dir));
        s.rewritten.push(...differences(before, fingerprint(dir)));
      });
    }

    const report = renderReport({
      options, startedAt, loadBefore, loadAfter: os.loadavg(), scenarios: [...cold, ...warm], cfssl: withCfssl ? cfssl : undefined,
    });
    if (options.out) fs.writeFileSync(options.out, report);
    if (options.json) {
      fs.writeFileSync(options.json, `${JSON.stringify({ options, cfsslMs: cfssl, scenarios: [...cold, ...warm] }, null, 2)}\n`);
    }
    return report;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

interface ReportInput {
  readonly options: BenchOptions;
  readonly startedAt: Date;
  readonly loadBefore: number[];
  readonly loadAfter: number[];
  readonly scenarios: Scenario[];
  readonly cfssl?: number[];
}

const PHASES = ['startup', 'import', 'model', 'read', 'modules', 'keys', 'certs', 'pki-write', 'manifests', 'write-output', 'bundles', 'plan', 'record', 'exit'];

function renderReport({ options, startedAt, loadBefore, loadAfter, scenarios, cfssl }: ReportInput): string {
  const s = (ms: number) => (ms / 1000).toFixed(3);
  const name = (x: Scenario) => `${x.state} ${x.size === SEED_SIZE ? `seed (${x.size})` : x.size} ${x.algorithm}`;
  const find = (size: number, algorithm: KeyAlgorithm, state: 'cold' | 'warm') => scenarios.find(
    (x) => x.size === size && x.algorithm === algorithm && x.state === state);
  const wall = (x?: Scenario) => (x ? median(x.samples.map((m) => m.wallMs)) : undefined);
  const cpus = os.cpus();
  const lines: string[] = [
    '# Synth benchmark',
    '',
    `Written by \`npm run bench${options.quick ? ' -- --quick' : ''}\` (bench/run.ts) on ${startedAt.toISOString()}.`,
    '',
    `Machine: ${os.availableParallelism()} CPUs (nproc), ${cpus[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${os.platform()} ${os.release()}; `
      + `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
    ...(loadBefore[0] > os.availableParallelism() / 2
      ? ['', `**Noisy:** other processes were using the CPUs while this ran (1-minute load average ${loadBefore[0].toFixed(2)} on `
        + `${os.availableParallelism()} CPUs before the run): times and ratios are indicative only; re-run \`npm run bench\` on an idle machine.`]
      : []),
    '',
    `Each run is a fresh \`node ${NODE_ARGS.join(' ')} bench/synth-once.ts\` process, timed from the parent (process start-up and module `
      + `loading included); ${options.runs} run(s) per scenario, interleaved, after one untimed warm-up run; every run writes to a directory of its own, all deleted at the end. Cold: empty PKI state and dist. `
      + 'Warm: the last cold run\'s state and dist, nothing changed. Clusters other than the seed: 3 masters, 3 etcd, 2 lb, the rest '
      + 'nodes (kubelets bootstrap their own certificates).',
    '',
    '## Scenarios',
    '',
    '| scenario | wall median (s) | min–max (s) | peak RSS median (MiB) | keys generated | bundles written | warm run rewrote |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const x of scenarios) {
    const walls = x.samples.map((m) => m.wallMs);
    lines.push(`| ${name(x)} | ${s(median(walls))} | ${s(Math.min(...walls))}–${s(Math.max(...walls))} `
      + `| ${(median(x.samples.map((m) => m.maxRssKiB)) / 1024).toFixed(0)} | ${median(x.samples.map((m) => m.keysGenerated))} `
      + `| ${median(x.samples.map((m) => m.bundlesWritten))} `
      + `| ${x.state === 'cold' ? '—' : x.rewritten.length === 0 ? 'no byte' : `${x.rewritten.length} file(s): ${x.rewritten.slice(0, 5).join(' ')}`} |`);
  }
  if (cfssl) {
    lines.push(`| tutorial cfssl script (bench/cfssl-tutorial.sh) | ${s(median(cfssl))} | ${s(Math.min(...cfssl))}–${s(Math.max(...cfssl))} `
      + `| — | ${CFSSL_KEYS} | — | — |`);
  }

  const targets: [string, number | undefined, number, string][] = [];
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
  const cfsslMedian = cfssl ? median(cfssl) : undefined;
  targets.push(['cold seed RSA / cfssl script', ratio(wall(find(SEED_SIZE, 'rsa', 'cold')), cfsslMedian), 2.0, '×']);
  targets.push(['cold seed ECDSA / cfssl script', ratio(wall(find(SEED_SIZE, 'ecdsa', 'cold')), cfsslMedian), 1.0, '×']);
  for (const a of options.algorithms) {
    targets.push([`warm ${BIG} / warm seed (${a})`, ratio(wall(find(BIG, a, 'warm')), wall(find(SEED_SIZE, a, 'warm'))), 4.0, '×']);
  }
  for (const a of options.algorithms) {
    targets.push([`cold ${BIG} / cold seed (${a})`, ratio(wall(find(BIG, a, 'cold')), wall(find(SEED_SIZE, a, 'cold'))), 5.0, '×']);
  }
  const bigRss = scenarios.filter((x) => x.size === BIG).flatMap((x) => x.samples.map((m) => m.maxRssKiB / 1024));
  targets.push([`peak RSS at ${BIG} hosts (MiB, highest run)`, bigRss.length ? Math.max(...bigRss) : undefined, 300, ' MiB']);
  const warmRuns = scenarios.filter((x) => x.state === 'warm');
  lines.push('', '## Targets', '', '| target | measured | limit | result |', '|---|---:|---:|---|');
  for (const [label, value, limit, unit] of targets) {
    const shown = value === undefined ? 'n/a' : unit === '×' ? `${value.toFixed(2)}×` : value.toFixed(0);
    lines.push(`| ${label} | ${shown} | ≤ ${unit === '×' ? `${limit.toFixed(1)}×` : `${limit}`} | ${value === undefined ? 'n/a' : value <= limit ? 'PASS' : 'MISS'} |`);
  }
  const keys = warmRuns.flatMap((x) => x.samples.map((m) => m.keysGenerated));
  lines.push(`| warm runs: keys generated | ${keys.length ? Math.max(...keys) : 'n/a'} | 0 | ${keys.length === 0 ? 'n/a' : Math.max(...keys) === 0 ? 'PASS' : 'MISS'} |`);
  const rewrites = warmRuns.reduce((n, x) => n + x.rewritten.length, 0);
  lines.push(`| warm runs: files rewritten (dist and state) | ${warmRuns.length ? rewrites : 'n/a'} | 0 | ${warmRuns.length === 0 ? 'n/a' : rewrites === 0 ? 'PASS' : 'MISS'} |`);

  lines.push('', '## Where the time goes (medians, ms)', '',
    'startup: process start to our first line (node and the TypeScript loader); import: `require(\'./lib\')` as main.ts does; '
    + 'then synthesizeCluster\'s phases: model (validation included), read (PKI state, last synth record; node-forge when something '
    + 'must be signed), modules (cdk8s, host components, charts, archiver, yaml; loaded while keys generate), keys (what is left of key '
    + 'generation after that; each certificate is signed as soon as its key and its signer are there), certs (what to write), '
    + 'pki-write, manifests (constructs, charts), write-output (addon and operator files), bundles (pack, compare, write), '
    + 'plan (change plan, report), record (the state record: the next synth\'s baseline); '
    + 'exit: wall time the process did not see (spawn, exit). The phases add up to the wall time.',
    '', `| scenario | ${PHASES.join(' | ')} | wall |`, `|---|${PHASES.map(() => '---:').join('|')}|---:|`);
  for (const x of scenarios) {
    const phase = (p: string) => median(x.samples.map((m) => (p === 'startup' ? m.startupMs : p === 'import' ? m.importMs
      : p === 'exit' ? m.exitMs : m.phases[p] ?? 0)));
    lines.push(`| ${name(x)} | ${PHASES.map((p) => phase(p).toFixed(0)).join(' | ')} | ${median(x.samples.map((m) => m.wallMs)).toFixed(0)} |`);
  }
  if (cfssl) lines.push(`| cfssl script | ${PHASES.map(() => '').join(' | ')} | ${median(cfssl).toFixed(0)} |`);
  lines.push('');
  return lines.join('\n');
}

if (require.main === module) {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(2);
  }
  runBench(options).then((report) => {
    process.stdout.write(report);
    if (options.out) console.error(`bench: report written to ${path.relative(process.cwd(), options.out)}`);
  }).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
