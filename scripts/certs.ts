// npm run certs                      list every certificate of the cluster in main.ts, warn under 30 days
// npm run certs -- --check           same, exit 1 when any certificate is expiring, expired or missing
// npm run certs -- renew NAME...     re-issue leaf certificates now, keeping their keys (never a CA); then run synth
// npm run certs -- new-secrets       make the secrets secrets.json lacks (after removing it on purpose); then run synth
import { ClusterModel, ClusterPki, certificateReport, defaultStateDir, formatEvent, formatReport } from '../lib';
import { StateStore, loadSecrets } from '../lib/pki';
import { cluster } from '../main';

async function main(args: string[]): Promise<number> {
  const model = ClusterModel.fromDefinition(cluster);
  const stateDir = defaultStateDir(model.name);
  const store = new StateStore(stateDir);
  if (args[0] === 'renew' || args[0] === 'new-secrets') {
    store.check();
    const release = await store.lock(20_000);
    try {
      if (args[0] === 'renew') {
        if (args.length < 2) throw new Error('usage: npm run certs -- renew NAME... (names as listed, e.g. apiserver, etcd-server@k8s1)');
        const pki = await ClusterPki.load(model, { stateDir, renew: args.slice(1) });
        for (const e of pki.events) console.log(formatEvent(e));
      } else {
        // Only what is missing is made: a secret that is there stays.
        const loaded = loadSecrets(store, { fresh: true, now: new Date(), tokenTtlHours: model.addons.bootstrapToken.ttlHours });
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
