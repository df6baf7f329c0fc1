// npm run certs                      list every certificate of the cluster in main.ts, warn under 30 days
// npm run certs -- --check           same, exit 1 when any certificate is expiring, expired or missing
// npm run certs -- renew NAME...     re-issue leaf certificates now, keeping their keys (never a CA); then run synth
// npm run certs -- new-secrets       make the secrets secrets.json lacks (after removing it on purpose); then run synth
// npm run certs -- encryption-key add|promote|drop
//                                    one step of rotating the key that encrypts Secrets in etcd; synth and roll out
//                                    the masters after each (README: Encryption at rest)
import { renderEncryptionConfig } from '../hosts/kube-apiserver';
import { ClusterModel, ClusterPki, certificateReport, defaultStateDir, formatEvent, formatReport } from '../lib';
import { PATHS } from '../lib/model';
import { sha256 } from '../lib/output';
import {
  ENCRYPTION_KEY_STEPS, EncryptionKeyStep, SECRETS_FILE, StateStore, loadSecrets, rotateEncryptionKeys,
} from '../lib/pki';
import { encryptionInUse, readRecord } from '../lib/synth/phases';
import { cluster } from '../main';

const STEPS: readonly EncryptionKeyStep[] = ['add', 'promote', 'drop'];
const NEXT: Readonly<Record<EncryptionKeyStep, string>> = {
  add: 'then `npm run certs -- encryption-key promote`, synth and roll out the masters again',
  promote: 'then rewrite every Secret with the new key: kubectl get secrets -A -o json | kubectl replace -f -\n'
    + 'and then `npm run certs -- encryption-key drop`, synth and roll out the masters again',
  drop: 'the rotation is complete',
};

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
  const next = rotateEncryptionKeys(keys, step as EncryptionKeyStep, now);
  store.write(SECRETS_FILE, `${JSON.stringify({ ...loaded.secrets, encryptionKeys: next }, null, 2)}\n`);
  console.log(`encryption keys: ${next.map((k, i) => `${k.name}${i === 0 ? ' (writes)' : ' (reads)'}`).join(', ')}`);
  console.log(`after synth and roll-out of the masters, ${ENCRYPTION_KEY_STEPS[step as EncryptionKeyStep]}; ${NEXT[step as EncryptionKeyStep]}`);
}

async function main(args: string[]): Promise<number> {
  const model = ClusterModel.fromDefinition(cluster);
  const stateDir = defaultStateDir(model.name);
  const store = new StateStore(stateDir);
  if (args[0] === 'renew' || args[0] === 'new-secrets' || args[0] === 'encryption-key') {
    store.check();
    const release = await store.lock(20_000);
    try {
      if (args[0] === 'encryption-key') {
        encryptionKeyStep(model, store, args[1]);
      } else if (args[0] === 'renew') {
        if (args.length < 2) throw new Error('usage: npm run certs -- renew NAME... (names as listed, e.g. apiserver, etcd-server@k8s1)');
        const pki = await ClusterPki.load(model, { stateDir, renew: args.slice(1) });
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
  return args.includes('--check') && bad.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
  console.error(`kubesmith: ${e.message}`);
  process.exitCode = 1;
});
