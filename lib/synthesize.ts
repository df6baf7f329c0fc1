import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { App } from 'cdk8s';
import { ArchiveWriter, writeBundles, WriteResult } from './bundle/bundle-writer';
import { Cluster } from './cluster';
import { ClusterDefinition } from './cluster-definition';
import { ClusterModel } from './cluster-model';
import { ClusterPki, PkiStateError } from './pki/cluster-pki';
import { StateStore } from './pki/state-store';
import { ChangePlan, SynthRecord, changePlan, formatPlan, isEmptyPlan, recordOf } from './change-plan';
import { PhaseTimes, Stopwatch } from './stopwatch';
import { ClusterDefinitionError } from './validation';
import { certInstances } from './pki/cert-list';

export interface SynthesizeOptions {
  /**
   * Output directory: charts go to <outdir>/addons, bundles to <outdir>/hosts.
   * @default 'dist'
   */
  readonly outdir?: string;
  /**
   * PKI state directory (CA keys, certificates, secrets). Keep it, back it up, never commit it.
   * @default $KUBESMITH_STATE_DIR, else '.kubesmith/<cluster name>'
   */
  readonly stateDir?: string;
  /** @default the current time */
  readonly now?: Date;
  /** @default console.error (the cdk8s CLI hides the app's stdout) */
  readonly log?: (line: string) => void;
}

export interface SynthesisResult {
  readonly model: ClusterModel;
  readonly pki: ClusterPki;
  readonly app: App;
  readonly cluster: Cluster;
  readonly bundles: WriteResult;
  /** What changed since the previous synth, and which services must restart where. */
  readonly plan: ChangePlan;
  /** Addon files that changed on this run (names relative to <outdir>/addons). */
  readonly addonsWritten: string[];
  /**
   * Milliseconds per phase, adding up to the call's wall time: model (validation included), read (PKI state,
   * last synth record, plan; node-forge when something must be signed), modules (loaded while keys generate),
   * keys (waiting for them; certificates are signed as their keys arrive), certs (what to write), pki-write,
   * manifests (constructs and charts), write (addon and operator files, state record), bundles (pack, compare,
   * write), plan (change plan, report).
   */
  readonly phases: PhaseTimes;
}

/**
 * The modules only synthesis needs: cdk8s, every host component and addon chart, yaml, and archiver when bundles
 * will be packed. Loaded after key generation has started, so that on a cold run their loading overlaps it
 * instead of preceding or following it.
 */
function loadSynthModules(packing: boolean) {
  const cdk8s = require('cdk8s') as typeof import('cdk8s');
  const { addHostComponents } = require('../hosts/host-components') as typeof import('../hosts/host-components');
  const { addAddonCharts } = require('./addons/addon-charts') as typeof import('./addons/addon-charts');
  require('yaml'); // kubeconfigs and component configs
  if (packing) require('archiver');
  return { App: cdk8s.App, YamlOutputType: cdk8s.YamlOutputType, addHostComponents, addAddonCharts };
}

export function defaultStateDir(clusterName: string): string {
  return process.env.KUBESMITH_STATE_DIR || path.join('.kubesmith', clusterName);
}

/**
 * definition → validated model → PKI → host files and charts → writers.
 * Throws ClusterDefinitionError or PkiStateError before anything is written.
 */
export async function synthesizeCluster(def: ClusterDefinition, options: SynthesizeOptions = {}): Promise<SynthesisResult> {
  const stopwatch = new Stopwatch();
  const outdir = options.outdir ?? 'dist';
  const log = options.log ?? ((line: string) => console.error(line));
  const model = ClusterModel.fromDefinition(def);
  stopwatch.lap('model');
  const stateDir = options.stateDir ?? defaultStateDir(model.name);
  const store = new StateStore(stateDir);
  const previous = readRecord(store);
  // load() reads and plans synchronously, starts generating keys on the thread pool (and, when it will sign,
  // loads node-forge meanwhile), then returns at its first await.
  const loading = ClusterPki.load(model, {
    stateDir,
    now: options.now,
    onProgress: (m) => log(`kubesmith: ${m}`),
  });
  loading.catch(() => undefined); // awaited below; a failure must not surface as unhandled while modules load
  stopwatch.lap('read');
  // Some host has no bundle yet (a cold run): packing is certain, so archiver and the writer's thread start now,
  // while keys generate; otherwise on the first bundle that changed, if any.
  const packing = model.hosts.some((h) => !fs.existsSync(path.join(outdir, 'hosts', `${h.name}.tar.gz`)));
  const { App, YamlOutputType, addHostComponents, addAddonCharts } = loadSynthModules(packing);
  stopwatch.lap('modules');
  const archiveWriter = new ArchiveWriter();
  if (packing) archiveWriter.start();
  const pki = await loading.catch(async (e: unknown) => {
    await archiveWriter.close();
    throw e;
  });
  stopwatch.lapWith('keys', { certs: pki.phases.sign, 'pki-write': pki.phases.write });

  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'kubesmith-addons-'));
  try {
    const app = new App({ outdir: staging, outputFileExtension: '.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
    const cluster = new Cluster(app, 'cluster', { model, pki });
    addHostComponents(cluster);
    addAddonCharts(app, {
      model,
      bootstrapToken: pki.secrets.bootstrapToken,
      appTls: Object.fromEntries(certInstances(model).filter((i) => i.app).map((i) => [i.app!.name, pki.cert(i.spec.id, i.scope)])),
      warn: (m) => log(`kubesmith: warning: ${m}`),
    });
    app.synth();
    stopwatch.lap('manifests');

    const addonsWritten = syncDirectory(staging, path.join(outdir, 'addons'));
    const operatorWritten = cluster.operatorFiles.filter((f) => writeIfChanged(path.join(outdir, f.name), f.content, f.mode)).map((f) => f.name);
    stopwatch.lap('write');
    const bundles = await writeBundles(path.join(outdir, 'hosts'),
      cluster.bundles.map((b) => ({ name: b.host.name, files: b.archiveFiles })), (m) => log(`kubesmith: ${m}`), archiveWriter);
    stopwatch.lap('bundles');
    const current = recordOf(cluster.bundles);
    const plan = changePlan(previous, cluster.bundles, pki.events, current);
    const changed = bundles.written.length + bundles.removed.length + addonsWritten.length + operatorWritten.length;
    if (changed === 0 && isEmptyPlan(plan)) {
      log(`kubesmith: cluster ${model.name}: nothing changed`);
    } else {
      for (const line of hostTable(cluster, bundles)) log(line);
      for (const line of formatPlan(plan)) log(line);
      log(`kubesmith: cluster ${model.name}: ${bundles.written.length} bundle(s) written, ${bundles.unchanged.length} unchanged, `
        + `${bundles.removed.length} removed; ${addonsWritten.length + operatorWritten.length} other file(s) written`);
    }
    stopwatch.lap('plan');
    const record = `${JSON.stringify(current)}\n`;
    if (store.readText(RECORD_FILE) !== record) store.write(RECORD_FILE, record);
    stopwatch.lap('write');
    return { model, pki, app, cluster, bundles, plan, addonsWritten, phases: stopwatch.phases };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    await archiveWriter.close(); // closed already unless something failed before the bundles
  }
}

/** The previous synth's record, kept in the state dir for the change plan. */
const RECORD_FILE = 'last-synth.json';

function readRecord(store: StateStore): SynthRecord | undefined {
  const text = store.readText(RECORD_FILE);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as SynthRecord;
  } catch {
    return undefined; // only the plan's baseline; losing it is harmless
  }
}

function hostTable(cluster: Cluster, bundles: WriteResult): string[] {
  const rows = cluster.bundles.map((b) => [b.host.name, b.host.roles.join(','), String(b.files.length), `${(bundles.sizes[b.host.name] / 1024).toFixed(1)} KiB`]);
  const header = ['HOST', 'ROLES', 'FILES', 'BUNDLE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

/** Writes the file unless it already holds these bytes; true when written. */
function writeIfChanged(file: string, content: string, mode: number): boolean {
  const data = Buffer.from(content);
  if (fs.existsSync(file) && fs.readFileSync(file).equals(data)) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
  return true;
}

/** Copies files whose bytes differ and removes files the source no longer has; returns what changed. */
function syncDirectory(from: string, to: string): string[] {
  fs.mkdirSync(to, { recursive: true });
  const changed: string[] = [];
  const names = new Set(fs.readdirSync(from).filter((f) => f.endsWith('.yaml')));
  for (const name of [...names].sort()) {
    const data = fs.readFileSync(path.join(from, name));
    const target = path.join(to, name);
    if (fs.existsSync(target) && fs.readFileSync(target).equals(data)) continue;
    fs.writeFileSync(target, data);
    changed.push(name);
  }
  for (const name of fs.readdirSync(to)) {
    if (name.endsWith('.yaml') && !names.has(name)) {
      fs.rmSync(path.join(to, name));
      changed.push(name);
    }
  }
  return changed;
}

/** Entry point for main.ts: prints definition and state errors plainly and exits non-zero. */
export function synthesize(def: ClusterDefinition, options: SynthesizeOptions = {}): void {
  synthesizeCluster(def, options).catch((e: unknown) => {
    if (e instanceof ClusterDefinitionError || e instanceof PkiStateError) console.error(`kubesmith: ${e.message}`);
    else console.error(e);
    process.exitCode = 1;
  });
}
