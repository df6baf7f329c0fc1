import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { App } from 'cdk8s';
import { Cluster } from '../components/cluster';
import { MembershipRecord, membershipOf } from '../components/membership';
import { ClusterModel } from '../model/cluster-model';
import { ClusterDefinition } from '../model/definition';
import { checkFixedNetwork, fixedNetworkOf } from '../model/fixed-settings';
import { ArchiveWriter, WriteResult, writeBundles } from '../output/bundle-writer';
import {
  ChangePlan, SynthRecord, changePlan, formatPlan, isEmptyPlan, recordOf,
} from '../output/change-plan';
import { prepareOutput, syncDirectory, writeIfChanged } from '../output/files';
import {
  IDENTITY_FILE, describeOwner, identityOf, outputOwner, renderIdentity,
} from '../output/identity';
import { addOperatorFiles } from '../output/operator-files';
import { RECORD_FILE, encryptionInUse, readRecord } from '../output/synth-record';
import { newMembershipSteps } from '../output/rollout/runtime-steps';
import { PkiStateError } from '../pki/errors';
import { renewalOutlook } from '../pki/cert-report';
import { ClusterPki } from '../pki/cluster-pki';
import { PkiEvent } from '../pki/reasons';
import { LoadedSecrets, loadSecrets } from '../pki/secrets';
import { StateStore } from '../pki/state-store';
import { PhaseTimes, Stopwatch } from '../util/stopwatch';
import { versionNotes } from '../versions/kubernetes';
import {
  ClusterVersions, UpgradePlan, changedReleases, settingsOf, upgradeIssues, upgradePlan, versionsOf,
} from '../upgrade';
import { ClusterDefinitionError } from '../model/validation/issue';
import { formatUpgrade } from '../output/upgrade-plan';
import { removeTempFiles } from '../util/temp-files';
import { SynthModules, isColdRun, loadSynthModules } from './preload';
import type { SynthesisResult, SynthesizeOptions } from './synthesize';

/** The previous synth's record, kept in the state dir for the change plan. */

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
  membership!: MembershipRecord;
  secrets!: LoadedSecrets;
  loadingPki!: Promise<ClusterPki>;
  packing = false;
  modules!: SynthModules;
  readonly archiveWriter = new ArchiveWriter();
  /** Releases the state's lock. */
  release?: () => void;
  pki!: ClusterPki;
  events: readonly PkiEvent[] = [];
  staging?: string;
  app!: App;
  cluster!: Cluster;
  addonsWritten: string[] = [];
  /** Warnings about what this run emits; printed with the plan (a run that changes nothing repeats none). */
  readonly warnings: string[] = [];
  operatorWritten: string[] = [];
  bundles!: WriteResult;
  current!: SynthRecord;
  plan!: ChangePlan;
  /** The versions this synth's hosts run, and the upgrade the roll-out makes (none when nothing changes). */
  versions!: ClusterVersions;
  upgradeFrom?: ClusterVersions;
  upgrade?: UpgradePlan;

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
      ...(this.upgrade ? { upgrade: this.upgrade } : {}),
      addonsWritten: this.addonsWritten,
      phases: this.phases,
    };
  }

  /** Runs whether the synth succeeded or not. */
  async cleanup(): Promise<void> {
    if (this.staging) fs.rmSync(this.staging, { recursive: true, force: true });
    await this.archiveWriter.close(); // closed already unless something failed before the bundles
    this.release?.();
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
    run: (r) => {
      r.model = ClusterModel.fromDefinition(r.definition);
      const k8s = r.model.releaseOf('kubernetes');
      const day = (r.options.now ?? new Date()).toISOString().slice(0, 10);
      const notes = versionNotes(r.model.kubernetesVersion, k8s.checksum !== undefined, day);
      r.warnings.push(...notes.map((n) => `kubesmith: warning: ${n}`));
    },
  },
  {
    name: 'read',
    // Locks and reads the state, and plans the PKI synchronously; key generation starts here and goes on in the
    // background. Refuses, before anything is written, a state that would make a silent new cluster.
    run: async (r) => {
      const stateDir = r.options.stateDir ?? defaultStateDir(r.model.name);
      r.store = new StateStore(stateDir);
      r.store.check();
      r.release = await r.store.lock(r.options.lockWaitMs ?? Number(process.env.KUBESMITH_LOCK_WAIT_MS ?? 20_000));
      for (const f of [...r.store.cleanTemp(), ...removeTempFiles(r.outdir)]) r.log(`kubesmith: removed ${f}, left by a synth that was stopped`);
      const fresh = r.store.isEmpty();
      checkOwner(r, fresh);
      r.previous = readRecord(r.store);
      // Before the PKI: a membership change etcd cannot make, or a network setting the running cluster keeps, is
      // refused with nothing written.
      r.membership = membershipOf(r.model, r.previous?.membership, r.previous?.hosts);
      checkFixedNetwork(r.model, r.previous?.network);
      planUpgrade(r);
      const now = r.options.now ?? new Date();
      r.secrets = loadSecrets(r.store, {
        fresh, now, tokenTtlHours: r.model.addons.bootstrapToken.ttlHours, encryptionInUse: encryptionInUse(r.previous),
      });
      r.loadingPki = ClusterPki.load(r.model, {
        stateDir, now, onProgress: (m) => r.log(`kubesmith: ${m}`), alsoWrite: r.secrets.write ? [r.secrets.write] : [],
      });
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
      checkSameCas(r);
      r.events = [...r.pki.events, ...r.secrets.generated.map(({ name, reason }) => ({ action: 'generated' as const, name, reason }))];
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
      r.cluster = new Cluster(r.app, 'cluster', {
        model: r.model, pki: r.pki, secrets: r.secrets.secrets, membership: r.membership,
      });
      addHostComponents(r.cluster);
      addOperatorFiles(r.cluster, r.upgrade);
      r.cluster.addOperatorFile(IDENTITY_FILE, renderIdentity(identityOf(r.model, r.pki)), 0o644);
      addAddonCharts(r.app, {
        model: r.model,
        bootstrapToken: { ...r.secrets.secrets.bootstrapToken, expiration: r.secrets.secrets.bootstrapToken.expires },
        appTls: issuedAppTls(r.model, r.pki),
        warn: (m) => r.warnings.push(`kubesmith: warning: ${m}`),
      });
      r.app.synth();
    },
  },
  {
    name: 'write-output',
    // The addons and the operator files (deploy.sh, the Ansible playbooks, ...); the bundles are the next phase's.
    run: (r) => {
      prepareOutput(r.outdir);
      writeCliScratch();
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
      r.current = {
        ...recordOf(r.cluster.bundles, r.membership),
        versions: r.versions,
        ...(r.upgradeFrom ? { upgradeFrom: r.upgradeFrom } : {}),
        settings: settingsOf(r.cluster.bundles),
        network: fixedNetworkOf(r.model),
      };
      r.plan = {
        ...changePlan(r.previous, r.cluster.bundles, r.events, r.current),
        runtime: r.previous ? newMembershipSteps(r.model, r.previous.membership, r.membership) : [],
      };
      report(r);
    },
  },
  {
    name: 'record',
    // Last: the record is the next synth's baseline, so it is written only once everything else was.
    run: (r) => {
      const record = `${JSON.stringify(r.current)}\n`;
      if (r.store.readText(RECORD_FILE) !== record) r.store.write(RECORD_FILE, record);
    },
  },
];

/**
 * The upgrade against the previous synth: a version change synth refuses (a skipped minor, a downgrade across minors)
 * stops here with nothing written. The waves of the last version change stay in the roll-out until the next one (a
 * host skips the steps it recorded done), so a second synth before the roll-out loses none.
 */
function planUpgrade(r: SynthRun): void {
  r.versions = versionsOf(r.model);
  const before = r.previous?.versions;
  if (before) {
    const issues = upgradeIssues(before, r.model);
    if (issues.length > 0) throw new ClusterDefinitionError(issues);
  }
  const changedNow = before !== undefined && changedReleases(before, r.versions).length > 0;
  r.upgradeFrom = changedNow ? before : r.previous?.upgradeFrom;
  // Hosts new to the cluster get everything at once in the ordinary roll-out.
  const had = new Set(Object.keys(r.previous?.hosts ?? {}));
  r.upgrade = r.upgradeFrom ? upgradePlan(r.upgradeFrom, r.model, r.versions, (h) => had.has(h.name)) : undefined;
}

/**
 * Under the cdk8s CLI (`npx cdk8s synth`), which empties its output folder before the app runs: that folder is only
 * a scratch directory (cdk8s.yaml), and kubesmith writes dist/ itself. A manifest there tells where the output went
 * and keeps the CLI from reporting that nothing was synthesized.
 */
function writeCliScratch(): void {
  const scratch = process.env.CDK8S_OUTDIR;
  if (!scratch) return;
  fs.mkdirSync(scratch, { recursive: true });
  fs.writeFileSync(path.join(scratch, 'kubesmith.yaml'),
    '# kubesmith writes its output to dist/ (hosts, addons, ansible, deploy.sh); this folder is the cdk8s CLI\'s scratch.\n'
    + 'apiVersion: v1\nkind: List\nitems: []\n');
}


/** A new cluster only on purpose: KUBESMITH_NEW_CLUSTER=<cluster name>, or the option. */
function newClusterWanted(r: SynthRun): boolean {
  return r.options.newCluster ?? process.env.KUBESMITH_NEW_CLUSTER === r.model.name;
}

/**
 * A state with no CAs beside an output some cluster made: the state is missing or misplaced. Minting CAs now would
 * give every host bundles that no longer trust the running cluster, so synth refuses unless a new cluster is wanted.
 */
function checkOwner(r: SynthRun, fresh: boolean): void {
  const owner = outputOwner(r.outdir);
  const wanted = newClusterWanted(r);
  if (!fresh && wanted) {
    throw new PkiStateError(r.store.dir, [`KUBESMITH_NEW_CLUSTER=${r.model.name} is set, but the state holds the CAs of an existing cluster`],
      `To start a new cluster, move ${r.store.dir} away (keep it: it is that cluster's only backup of its identity), then synth again. `
      + 'Otherwise unset KUBESMITH_NEW_CLUSTER.');
  }
  if (!fresh || wanted || (!owner.identity && owner.bundles.length === 0)) return;
  throw new PkiStateError(r.store.dir, [
    `the state holds no CAs, but ${r.outdir} was made by ${describeOwner(owner, r.outdir)}`,
  ], [
    'New CAs would make every bundle distrust the running cluster, so nothing was written. Either:',
    `  - restore the state: tar xzf <backup> so that ${r.store.dir} holds ca/, certs/ and secrets.json again, or point `
      + 'KUBESMITH_STATE_DIR at where the state is (a mistyped path looks empty), then synth again; or',
    `  - start a new cluster on purpose, with new CAs and every host reinstalled: KUBESMITH_NEW_CLUSTER=${r.model.name} npm run synth`,
  ].join('\n'));
}

/** A state whose CAs differ from those that made the output belongs to another cluster: refuse the same way. */
function checkSameCas(r: SynthRun): void {
  const recorded = outputOwner(r.outdir).identity;
  if (!recorded || newClusterWanted(r)) return;
  const now = identityOf(r.model, r.pki);
  const differ = Object.keys(now.cas).filter((id) => recorded.cas[id] !== undefined && recorded.cas[id] !== now.cas[id]);
  if (differ.length === 0) return;
  throw new PkiStateError(r.store.dir, [
    `${differ.join(', ')} in the state differ from those that made ${r.outdir} (${describeOwner({ identity: recorded, bundles: [] }, r.outdir)})`,
  ], `The state belongs to another cluster than ${r.outdir}. Point KUBESMITH_STATE_DIR at the state that made ${r.outdir}; `
    + `to replace the cluster in ${r.outdir} with a new one on purpose, run synth with KUBESMITH_NEW_CLUSTER=${r.model.name}.`);
}

function report(r: SynthRun): void {
  const { bundles, plan, model } = r;
  const changed = bundles.written.length + bundles.removed.length + r.addonsWritten.length + r.operatorWritten.length;
  if (changed === 0 && isEmptyPlan(plan)) {
    r.log(`kubesmith: cluster ${model.name}: nothing changed`);
    return;
  }
  for (const w of r.warnings) r.log(w);
  for (const line of hostTable(r.cluster, bundles)) r.log(line);
  for (const line of formatPlan(plan)) r.log(line);
  r.log(renewalOutlook(r.pki));
  if (r.upgrade) {
    const now = r.upgradeFrom === r.previous?.versions;
    const lines = now ? formatUpgrade(r.upgrade, model, r.previous?.settings, r.current.settings)
      : [`upgrade from the synth before (${r.upgrade.target}) still in the roll-out; hosts skip the steps they recorded done`];
    for (const line of lines) r.log(line);
  }
  for (const { host, problem } of bundles.repaired) {
    r.log(`kubesmith: ${path.join(r.outdir, 'hosts', `${host}.tar.gz`)} was damaged (${problem}); rewritten`);
  }
  r.log(`kubesmith: cluster ${model.name}: ${bundles.written.length} bundle(s) written, ${bundles.unchanged.length} unchanged, `
    + `${bundles.removed.length} removed; ${r.addonsWritten.length + r.operatorWritten.length} other file(s) written`);
}

function hostTable(cluster: Cluster, bundles: WriteResult): string[] {
  const rows = cluster.bundles.map((b) => [b.host.name, b.host.roles.join(','), String(b.files.length), `${(bundles.sizes[b.host.name] / 1024).toFixed(1)} KiB`]);
  const header = ['HOST', 'ROLES', 'FILES', 'BUNDLE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  return [header, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}
