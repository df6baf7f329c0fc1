// npm run certs                      list every certificate of the cluster in main.ts, warn under 30 days
// npm run certs -- --check           same, exit 1 when any certificate is expiring, expired or missing
// npm run certs -- renew [--rekey] NAME...
//                                    re-issue leaf certificates now, keeping their keys or (--rekey) with new ones
//                                    (never a CA); then run synth
// npm run certs -- new-secrets       make the secrets secrets.json lacks (after removing it on purpose); then run synth
// npm run certs -- encryption-key add|promote|drop
//                                    one step of rotating the key that encrypts Secrets in etcd; synth and roll out
//                                    the masters after each (README: Encryption at rest)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { renderEncryptionConfig } from '../hosts/kube-apiserver';
import { ClusterModel, ClusterPki, certificateReport, defaultStateDir, formatEvent, formatReport } from '../lib';
import { PATHS, closest } from '../lib/model';
import { REWRITE_SECRETS_HINT, encryptionInUse, readRecord, sha256 } from '../lib/output';
import {
  CertificateNameError, ENCRYPTION_KEY_STEPS, EncryptionKeyStep, SECRETS_FILE, StateStore, certInstances, loadSecrets,
  renewNameProblems, withEncryptionKeyStep,
} from '../lib/pki';
import { cluster } from '../main';

const STEPS: readonly EncryptionKeyStep[] = ['add', 'promote', 'drop'];
const NEXT: Readonly<Record<EncryptionKeyStep, string>> = {
  add: 'then `npm run certs -- encryption-key promote`, synth and roll out the masters again',
  promote: `then rewrite every Secret with the new key: ${REWRITE_SECRETS_HINT}\n`
    + 'and then `npm run certs -- encryption-key drop` (it checks in etcd, through dist/deploy.sh --secret-keys, that no '
    + 'Secret needs the old key), synth and roll out the masters again',
  drop: 'the rotation is complete',
};

/** Where the last synth wrote dist/: KUBESMITH_DIST, or dist/ where npm runs. */
const distDir = () => path.resolve(process.env.KUBESMITH_DIST ?? 'dist');

/**
 * The cluster's own answer to "is any Secret still written with another key": dist/deploy.sh --secret-keys reads the
 * stored values' prefixes in etcd on the first member. Throws, saying what it saw, unless every Secret is written with
 * `writer`; a cluster that cannot be asked is a refusal too, since dropping a key still in use loses those Secrets.
 */
function checkSecretsRewritten(writer: string): void {
  const deploy = path.join(distDir(), 'deploy.sh');
  if (!fs.existsSync(deploy)) throw new Error(`no ${deploy} to ask the cluster with: run \`npm run synth\` first (KUBESMITH_DIST names another dist/)`);
  const r = spawnSync('bash', [deploy, '--secret-keys'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  const counts = (r.stdout ?? '').split('\n').map((l) => /^\s*(\d+) (\S+)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const other = counts.filter((m) => m[2] !== `secretbox:${writer}`).map((m) => `${m[1]} with ${m[2]}`);
  if (r.status !== 0 || other.length > 0) {
    const seen = counts.length > 0 ? `etcd holds Secrets ${counts.map((m) => `${m[1]} with ${m[2]}`).join(', ')}` : `${(r.stderr || r.stdout || r.error?.message || '').trim()}`;
    throw new Error(`not every Secret is written with ${writer} yet, so dropping the other keys would lose ${other.length > 0 ? other.join(', ') : 'what they wrote'} `
      + `(dist/deploy.sh --secret-keys: ${seen}). Write them again: ${REWRITE_SECRETS_HINT}, then run this again. Nothing was changed`);
  }
}

/** One rotation step on secrets.json; refuses a step whose previous one the last synth did not carry to the masters. */
function encryptionKeyStep(model: ClusterModel, store: StateStore, step: string | undefined): void {
  if (!STEPS.includes(step as EncryptionKeyStep)) {
    throw new Error(`usage: npm run certs -- encryption-key ${STEPS.join('|')} (got ${JSON.stringify(step ?? '')})`);
  }
  const now = new Date();
  const record = readRecord(store);
  const loaded = loadSecrets(store, {
    fresh: false, now, tokenTtlHours: model.addons.bootstrapToken.ttlHours, encryptionInUse: encryptionInUse(record),
  });
  if (loaded.generated.some((g) => g.name === 'encryptionKeys')) {
    throw new Error('this state has no encryption key yet: run `npm run synth` (it makes the first) and roll out the masters');
  }
  const keys = loaded.secrets.encryptionKeys;
  if (step !== 'add') {
    // The keys as they are now must be on every master (at least in the last synth's bundles) before the next step.
    const want = sha256(Buffer.from(renderEncryptionConfig(keys)));
    const rel = PATHS.encryptionConfig.slice(1);
    const behind = model.masters.filter((m) => record?.hosts[m.name]?.files[rel] !== want).map((m) => m.name);
    if (behind.length > 0) {
      throw new Error(`the last synth did not give ${behind.join(', ')} the current keys (${keys.map((k) => k.name).join(', ')}): `
        + 'run `npm run synth`, roll out the masters, then run this again');
    }
  }
  const next = withEncryptionKeyStep(loaded.secrets, step as EncryptionKeyStep, now);
  if (step === 'drop') checkSecretsRewritten(keys[0].name);
  store.write(SECRETS_FILE, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`encryption keys: ${next.encryptionKeys.map((k, i) => `${k.name}${i === 0 ? ' (writes)' : ' (reads)'}`).join(', ')}`
    + `${next.retiredEncryptionKeys ? `; retired, kept for restoring older snapshots: ${next.retiredEncryptionKeys.map((k) => k.name).join(', ')}` : ''}`);
  console.log(`after synth and roll-out of the masters, ${ENCRYPTION_KEY_STEPS[step as EncryptionKeyStep]}; ${NEXT[step as EncryptionKeyStep]}`);
}

const USAGE = 'usage: npm run certs [-- --check] | npm run certs -- renew [--rekey] NAME... | npm run certs -- new-secrets | '
  + `npm run certs -- encryption-key ${STEPS.join('|')}`;
const COMMANDS = ['renew', 'new-secrets', 'encryption-key'];

type Command =
  | { readonly kind: 'report'; readonly check: boolean }
  | { readonly kind: 'renew'; readonly names: readonly string[]; readonly rekey: boolean }
  | { readonly kind: 'new-secrets' }
  | { readonly kind: 'encryption-key'; readonly step: string | undefined };

/** The command line, or an error naming what is not understood and what is: a typo is never run as something else. */
function parseArgs(args: readonly string[]): Command {
  const [first, ...rest] = args;
  const extra = (what: string) => new Error(`${what} takes no ${rest.length > 1 ? 'arguments' : 'argument'} here (got ${rest.map((a) => JSON.stringify(a)).join(' ')})\n${USAGE}`);
  if (first === undefined) return { kind: 'report', check: false };
  if (first === '--check') {
    if (rest.length > 0) throw extra('--check');
    return { kind: 'report', check: true };
  }
  if (first === 'renew') {
    const rekey = rest[0] === '--rekey';
    const names = rekey ? rest.slice(1) : rest;
    if (names.length === 0) throw new Error('usage: npm run certs -- renew [--rekey] NAME... (names as `npm run certs` lists them, e.g. apiserver, etcd-server@k8s1)');
    const flag = names.find((a) => a.startsWith('-'));
    if (flag) throw new Error(`renew takes --rekey first, then certificate names, not ${JSON.stringify(flag)}\n${USAGE}`);
    return { kind: 'renew', names, rekey };
  }
  if (first === 'new-secrets') {
    if (rest.length > 0) throw extra('new-secrets');
    return { kind: 'new-secrets' };
  }
  if (first === 'encryption-key') {
    if (rest.length > 1) throw new Error(`encryption-key takes one step, ${STEPS.join(', ')} (got ${rest.map((a) => JSON.stringify(a)).join(' ')})`);
    return { kind: 'encryption-key', step: rest[0] };
  }
  const near = closest(first, [...COMMANDS, '--check']);
  const what = first.startsWith('-') ? 'flag' : 'subcommand';
  throw new Error(`${JSON.stringify(first)} is not a ${what} of npm run certs (a typo?)${near ? `; did you mean "${near}"?` : ''}\n${USAGE}`);
}

async function main(args: string[]): Promise<number> {
  const command = parseArgs(args);
  const model = ClusterModel.fromDefinition(cluster);
  const stateDir = defaultStateDir(model.name);
  const store = new StateStore(stateDir);
  if (command.kind !== 'report') {
    if (command.kind === 'renew') {
      const wrong = renewNameProblems(model, command.names, command.rekey);
      if (wrong.length > 0) throw new CertificateNameError(wrong, certInstances(model).map((i) => i.name));
    }
    // These change a cluster's state: a missing one (a mistyped KUBESMITH_STATE_DIR) is refused, and nothing is made.
    if (!store.check() || store.isEmpty()) {
      throw new Error(`no state of cluster ${model.name} in ${path.resolve(stateDir)}: \`npm run certs -- ${args[0]}\` changes an existing state. `
        + 'Point KUBESMITH_STATE_DIR at the state directory (it holds ca/, certs/ and secrets.json) or restore it from its backup; '
        + 'a new cluster gets its state from `npm run synth`. Nothing was created');
    }
    const release = await store.lock(20_000);
    try {
      if (command.kind === 'encryption-key') {
        encryptionKeyStep(model, store, command.step);
      } else if (command.kind === 'renew') {
        const pki = await ClusterPki.load(model, { stateDir, renew: command.names, rekey: command.rekey });
        for (const e of pki.events) console.log(formatEvent(e));
      } else {
        // Only what is missing is made: a secret that is there stays.
        const loaded = loadSecrets(store, {
          fresh: true, now: new Date(), tokenTtlHours: model.addons.bootstrapToken.ttlHours, encryptionInUse: encryptionInUse(readRecord(store)),
        });
        if (loaded.write) store.write(...loaded.write);
        for (const g of loaded.generated) console.log(formatEvent({ action: 'generated', ...g }));
        if (loaded.generated.length === 0) console.log('every secret is there; nothing made');
      }
    } finally {
      release();
    }
    console.log('Run `npm run synth` to rebuild the bundles, then roll them out.');
    return 0;
  }
  const rows = certificateReport(model, stateDir);
  console.log(formatReport(rows));
  const bad = rows.filter((r) => r.status !== 'ok');
  for (const r of bad) {
    console.error(`warning: ${r.name} is ${r.status}${r.daysLeft !== undefined ? ` (${r.daysLeft} days left)` : ''}`);
  }
  return command.check && bad.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
  console.error(`kubesmith: ${e.message}`);
  process.exitCode = 1;
});
