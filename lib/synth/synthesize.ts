import type { UpgradePlan } from '../upgrade';
import type { App } from 'cdk8s';
import { Cluster } from '../components/cluster';
import { ClusterDefinition } from '../model/definition';
import { ClusterModel } from '../model/cluster-model';
import { ClusterDefinitionError } from '../model/validation';
import { WriteResult } from '../output/bundle-writer';
import { ChangePlan } from '../output/change-plan';
import { ClusterPki } from '../pki/cluster-pki';
import { PkiStateError } from '../pki/errors';
import { PhaseTimes } from '../util/stopwatch';
import { PHASES, SynthRun } from './phases';

export { defaultStateDir } from './phases';

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
  /**
   * Start a new cluster on purpose: a state with no CAs may replace the output of another cluster.
   * @default true when KUBESMITH_NEW_CLUSTER names this cluster
   */
  readonly newCluster?: boolean;
  /**
   * How long to wait for another synth's lock on the state before refusing.
   * @default $KUBESMITH_LOCK_WAIT_MS, else 20000
   */
  readonly lockWaitMs?: number;
}

export interface SynthesisResult {
  readonly model: ClusterModel;
  readonly pki: ClusterPki;
  readonly app: App;
  readonly cluster: Cluster;
  readonly bundles: WriteResult;
  /** What changed since the previous synth, and which services must restart where. */
  readonly plan: ChangePlan;
  /** The upgrade the roll-out makes against the versions of the last version change; none when nothing moves. */
  readonly upgrade?: UpgradePlan;
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
 * definition → validated model → PKI → host files and charts → writers: the phases of lib/synth/phases.ts, in order.
 * Throws ClusterDefinitionError or PkiStateError before anything is written.
 */
export async function synthesizeCluster(def: ClusterDefinition, options: SynthesizeOptions = {}): Promise<SynthesisResult> {
  const run = new SynthRun(def, options);
  try {
    for (const phase of PHASES) {
      await phase.run(run);
      run.lap(phase);
    }
    return run.result();
  } finally {
    await run.cleanup();
  }
}

/** Entry point for main.ts: prints definition and state errors plainly and exits non-zero. */
export function synthesize(def: ClusterDefinition, options: SynthesizeOptions = {}): void {
  synthesizeCluster(def, options).catch((e: unknown) => {
    if (e instanceof ClusterDefinitionError || e instanceof PkiStateError) console.error(`kubesmith: ${e.message}`);
    else console.error(e);
    process.exitCode = 1;
  });
}
