import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { App } from 'cdk8s';
import { Cluster } from '../components/cluster';
import { ClusterModel } from '../model/cluster-model';
import { ClusterDefinition } from '../model/definition';
import { ArchiveWriter, WriteResult, writeBundles } from '../output/bundle-writer';
import {
  ChangePlan, SynthRecord, changePlan, formatPlan, isEmptyPlan, recordOf,
} from '../output/change-plan';
import { syncDirectory, writeIfChanged } from '../output/files';
import { addOperatorFiles } from '../output/operator-files';
import { ClusterPki } from '../pki/cluster-pki';
import { PkiEvent } from '../pki/reasons';
import { LoadedSecrets, loadSecrets } from '../pki/secrets';
import { StateStore } from '../pki/state-store';
import { PhaseTimes, Stopwatch } from '../util/stopwatch';
import { SynthModules, isColdRun, loadSynthModules } from './preload';
import type { SynthesisResult, SynthesizeOptions } from './synthesize';

/** The previous synth's record, kept in the state dir for the change plan. */
const RECORD_FILE = 'last-synth.json';

export function defaultStateDir(clusterName: string): string {
  return process.env.KUBESMITH_STATE_DIR || path.join('.kubesmith', clusterName);
}

/** What the phases of one synth share; each phase fills in what later ones read. */
export class SynthRun {
  readonly outdir: string;
  readonly log: (line: string) => void;
  private readonly stopwatch = new Stopwatch();
  model!: ClusterModel;
  store!: StateStore;
  previous?: SynthRecord;
  secrets!: LoadedSecrets;
  loadingPki!: Promise<ClusterPki>;
  packing = false;
  modules!: SynthModules;
  readonly archiveWriter = new ArchiveWriter();
  pki!: ClusterPki;
  events: readonly PkiEvent[] = [];
  staging?: string;
  app!: App;
  cluster!: Cluster;
  addonsWritten: string[] = [];
  operatorWritten: string[] = [];
  bundles!: WriteResult;
  current!: SynthRecord;
  plan!: ChangePlan;

  constructor(readonly definition: ClusterDefinition, readonly options: SynthesizeOptions) {
    this.outdir = options.outdir ?? 'dist';
    this.log = options.log ?? ((line: string) => console.error(line));
  }

  /** Charges the time since the previous phase to this one (and the parts a phase timed itself to theirs). */
  lap(phase: Phase): void {
    if (phase.parts) this.stopwatch.lapWith(phase.name, phase.parts(this));
    else this.stopwatch.lap(phase.name);
  }

  get phases(): PhaseTimes {
    return this.stopwatch.phases;
  }

  result(): SynthesisResult {
    return {
      model: this.model,
      pki: this.pki,
      app: this.app,
      cluster: this.cluster,
      bundles: this.bundles,
      plan: this.plan,
      addonsWritten: this.addonsWritten,
      phases: this.phases,
    };
  }

  /** Runs whether the synth succeeded or not. */
  async cleanup(): Promise<void> {
    if (this.staging) fs.rmSync(this.staging, { recursive: true, force: true });
    await this.archiveWriter.close(); // closed already unless something failed before the bundles
  }
}

export interface Phase {
  /** The name its time is reported under (SynthesisResult.phases). */
  readonly name: string;
  run(r: SynthRun): void | Promise<void>;
  /** Parts of the phase that a callee timed itself, reported under their own names. */
  parts?(r: SynthRun): PhaseTimes;
}

/** The synth, as the list of its phases (after k0sctl's apply): each reads what earlier ones left in the run. */
export const PHASES: readonly Phase[] = [
  {
    name: 'model',
    // Validates the definition and resolves it once; throws ClusterDefinitionError before anything is written.
    run: (r) => { r.model = ClusterModel.fromDefinition(r.definition); },
  },
  {
    name: 'read',
    // Reads the state and plans the PKI synchronously; key generation starts here and goes on in the background.
    run: (r) => {
      const stateDir = r.options.stateDir ?? defaultStateDir(r.model.name);
      r.store = new StateStore(stateDir);
      r.previous = readRecord(r.store);
      r.secrets = loadSecrets(r.store);
      r.loadingPki = ClusterPki.load(r.model, { stateDir, now: r.options.now, onProgress: (m) => r.log(`kubesmith: ${m}`) });
      r.loadingPki.catch(() => undefined); // awaited in 'keys'; a failure must not surface as unhandled meanwhile
    },
  },
  {
    name: 'modules',
    run: (r) => {
      r.packing = isColdRun(r.model, r.outdir);
      r.modules = loadSynthModules(r.packing);
      if (r.packing) r.archiveWriter.start();
    },
  },
  {
    name: 'keys',
    run: async (r) => {
      r.pki = await r.loadingPki;
      const secrets = r.secrets;
      if (secrets.write) r.store.write(...secrets.write);
      r.events = [...r.pki.events, ...secrets.generated.map((name) => ({ action: 'generated' as const, name, reason: { kind: 'not-in-state' as const } }))];
    },
    parts: (r) => ({ certs: r.pki.phases.sign, 'pki-write': r.pki.phases.write }),
  },
  {
    name: 'manifests',
    // Host components fill the bundles and operator files; the charts go to a scratch directory first.
    run: (r) => {
      const { App, YamlOutputType, addHostComponents, addAddonCharts, issuedAppTls } = r.modules;
      r.staging = fs.mkdtempSync(path.join(os.tmpdir(), 'kubesmith-addons-'));
      r.app = new App({ outdir: r.staging, outputFileExtension: '.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
      r.cluster = new Cluster(r.app, 'cluster', { model: r.model, pki: r.pki, secrets: r.secrets.secrets });
      addHostComponents(r.cluster);
      addOperatorFiles(r.cluster);
      addAddonCharts(r.app, {
        model: r.model,
        bootstrapToken: r.secrets.secrets.bootstrapToken,
        appTls: issuedAppTls(r.model, r.pki),
        warn: (m) => r.log(`kubesmith: warning: ${m}`),
      });
      r.app.synth();
    },
  },
  {
    name: 'write',
    run: (r) => {
      r.addonsWritten = syncDirectory(r.staging!, path.join(r.outdir, 'addons'));
      r.operatorWritten = r.cluster.operatorFiles
        .filter((f) => writeIfChanged(path.join(r.outdir, f.name), f.content, f.mode)).map((f) => f.name);
    },
  },
  {
    name: 'bundles',
    run: async (r) => {
      r.bundles = await writeBundles(path.join(r.outdir, 'hosts'),
        r.cluster.bundles.map((b) => ({ name: b.host.name, files: b.archiveFiles })), (m) => r.log(`kubesmith: ${m}`), r.archiveWriter);
    },
  },
  {
    name: 'plan',
    run: (r) => {
      r.current = recordOf(r.cluster.bundles);
      r.plan = changePlan(r.previous, r.cluster.bundles, r.events, r.current);
      report(r);
    },
  },
  {
    name: 'write',
    run: (r) => {
      const record = `${JSON.stringify(r.current)}\n`;
      if (r.store.readText(RECORD_FILE) !== record) r.store.write(RECORD_FILE, record);
    },
  },
];

function readRecord(store: StateStore): SynthRecord | undefined {
  const text = store.readText(RECORD_FILE);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as SynthRecord;
  } catch {
    return undefined; // only the plan's baseline; losing it is harmless
  }
}

function report(r: SynthRun): void {
  const { bundles, plan, model } = r;
  const changed = bundles.written.length + bundles.removed.length + r.addonsWritten.length + r.operatorWritten.length;
  if (changed === 0 && isEmptyPlan(plan)) {
    r.log(`kubesmith: cluster ${model.name}: nothing changed`);
    return;
  }
  for (const line of hostTable(r.cluster, bundles)) r.log(line);
  for (const line of formatPlan(plan)) r.log(line);
  r.log(`kubesmith: cluster ${model.name}: ${bundles.written.length} bundle(s) written, ${bundles.unchanged.length} unchanged, `
    + `${bundles.removed.length} removed; ${r.addonsWritten.length + r.operatorWritten.length} other file(s) written`);
}

function hostTable(cluster: Cluster, bundles: WriteResult): string[] {
  const rows = cluster.bundles.map((b) => [b.host.name, b.host.roles.join(','), String(b.files.length), `${(bundles.sizes[b.host.name] / 1024).toFixed(1)} KiB`]);
  const header = ['HOST', 'ROLES', 'FILES', 'BUNDLE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  return [header, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}
