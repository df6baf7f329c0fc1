import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import {
  ClusterDefinition, ClusterModel, ClusterPki, PkiStateError, formatEvent, synthesizeCluster,
} from '../../lib';
import { KUBELET } from '../../hosts';
import { serviceDependencies } from '../../lib/components';
import { SEED, withChanges } from '../support/clusters';
import { tree } from '../support/file-tree';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { parse as parseYaml } from 'yaml';

afterAll(cleanupTempDirs);

const DEF: ClusterDefinition = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
const quiet = { log: () => undefined };

function paths(dir = tempDir()) {
  return { dir, outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state') };
}


/** Rewrites secrets.json of a state through fn. */
function editSecrets(stateDir: string, fn: (secrets: any) => void): void {
  const file = path.join(stateDir, 'secrets.json');
  const secrets = JSON.parse(fs.readFileSync(file, 'utf8'));
  fn(secrets);
  fs.writeFileSync(file, JSON.stringify(secrets));
}

/** Runs a synth that must fail with PkiStateError and write nothing; returns its message. */
async function refused(def: ClusterDefinition, opts: { outdir: string; stateDir: string; dir: string; newCluster?: boolean }): Promise<string> {
  const before = tree(opts.dir);
  let error: unknown;
  try {
    await synthesizeCluster(def, { ...quiet, ...opts });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PkiStateError);
  expect(tree(opts.dir)).toEqual(before);
  return (error as Error).message;
}

describe('never a silent new cluster', () => {
  test('a missing or mistyped state next to an existing output is refused, naming the CAs that made it, and writes nothing', async () => {
    const p = paths();
    await synthesizeCluster(DEF, { ...quiet, ...p });
    const identity = JSON.parse(fs.readFileSync(path.join(p.outdir, 'cluster.json'), 'utf8'));
    expect(Object.keys(identity.cas)).toEqual(['etcd-ca', 'kubernetes-ca', 'front-proxy-ca', 'ingress-ca']);
    for (const wrong of [path.join(p.dir, 'wrong/path'), path.join(p.dir, 'empty')]) {
      if (wrong.endsWith('empty')) fs.mkdirSync(wrong);
      const msg = await refused(DEF, { ...p, stateDir: wrong });
      expect(msg).toContain(`the state holds no CAs, but ${p.outdir} was made by cluster "kubesmith" with etcd-ca ${identity.cas['etcd-ca']}`);
      expect(msg).toContain('restore the state');
      expect(msg).toContain('KUBESMITH_NEW_CLUSTER=kubesmith');
      expect(fs.existsSync(path.join(wrong, 'ca'))).toBe(false);
    }
  });

  test('bundles without a record of their cluster are enough to refuse', async () => {
    const p = paths();
    await synthesizeCluster(DEF, { ...quiet, ...p });
    fs.rmSync(path.join(p.outdir, 'cluster.json'));
    fs.rmSync(p.stateDir, { recursive: true });
    expect(await refused(DEF, p)).toContain(`a cluster whose bundles are there (${path.join(p.outdir, 'hosts', 'k8s1.tar.gz')}`);
  });

  test('a state with other CAs than those that made the output is refused', async () => {
    const a = paths();
    const b = paths();
    await synthesizeCluster(DEF, { ...quiet, ...a });
    await synthesizeCluster(DEF, { ...quiet, ...b });
    const msg = await refused(DEF, { ...a, stateDir: b.stateDir });
    expect(msg).toContain('etcd-ca, kubernetes-ca, front-proxy-ca, ingress-ca in the state differ from those that made');
  });

  test('KUBESMITH_NEW_CLUSTER=<name> starts a new cluster on purpose; with a state that has CAs it is refused', async () => {
    const p = paths();
    await synthesizeCluster(DEF, { ...quiet, ...p });
    const old = fs.readFileSync(path.join(p.outdir, 'cluster.json'), 'utf8');
    expect(await refused(DEF, { ...p, newCluster: true })).toContain('move');
    fs.rmSync(p.stateDir, { recursive: true });
    process.env.KUBESMITH_NEW_CLUSTER = 'kubesmith';
    try {
      const r = await synthesizeCluster(DEF, { ...quiet, ...p });
      expect(r.pki.events.filter((e) => e.action === 'created').map((e) => e.name)).toEqual(['etcd-ca', 'kubernetes-ca', 'front-proxy-ca', 'ingress-ca']);
    } finally {
      delete process.env.KUBESMITH_NEW_CLUSTER;
    }
    expect(fs.readFileSync(path.join(p.outdir, 'cluster.json'), 'utf8')).not.toBe(old);
  });
});

describe('a damaged state is an error naming the file and what to do, never a stack trace or a silent regeneration', () => {
  let base: ReturnType<typeof paths>;
  beforeAll(async () => {
    base = paths();
    await synthesizeCluster(DEF, { ...quiet, ...base });
  });
  /** A copy of the synthesized cluster, damaged. */
  function damaged(damage: (stateDir: string) => void) {
    const p = paths();
    fs.cpSync(base.dir, p.dir, { recursive: true });
    damage(p.stateDir);
    return p;
  }

  test.each([
    ['secrets.json deleted', (s: string) => fs.rmSync(path.join(s, 'secrets.json')), /secrets.json: is missing, but the state holds CAs/],
    ['secrets.json {}', (s: string) => fs.writeFileSync(path.join(s, 'secrets.json'), '{}'), /secrets.json: has no bootstrapToken and no keepalivedAuthPass/],
    ['secrets.json null', (s: string) => fs.writeFileSync(path.join(s, 'secrets.json'), 'null'), /secrets.json: holds null, not an object/],
    ['secrets.json with a bad token', (s: string) => fs.writeFileSync(path.join(s, 'secrets.json'), '{"bootstrapToken":{"id":"x"},"keepalivedAuthPass":"abc"}'), /bootstrapToken has no id of 6/],
    ['secrets.json not JSON', (s: string) => fs.writeFileSync(path.join(s, 'secrets.json'), '{'), /secrets.json: is not valid JSON/],
    ['secrets.json without the encryption keys the apiservers were given', (s: string) => editSecrets(s, (x) => { delete x.encryptionKeys; }),
      /secrets.json: has no encryptionKeys, but the last synth gave the apiservers an encryption config: without its keys the Secrets in etcd cannot be read/],
    ['secrets.json with a short encryption key', (s: string) => editSecrets(s, (x) => { x.encryptionKeys[0].secret = 'c2hvcnQ='; }),
      /secrets.json: encryptionKeys \[0\] \(key-\d{8}-[a-z0-9]{4}\) has no secret of 32 bytes in base64/],
    ['secrets.json with two keys of one name', (s: string) => editSecrets(s, (x) => { x.encryptionKeys.push(x.encryptionKeys[0]); }),
      /secrets.json: encryptionKeys \[1\] repeats the name key-/],
    ['last-synth.json {}', (s: string) => fs.writeFileSync(path.join(s, 'last-synth.json'), '{}'), /last-synth.json has no "hosts" object.*\n.*remove .*last-synth.json and synth again/],
    ['last-synth.json null', (s: string) => fs.writeFileSync(path.join(s, 'last-synth.json'), 'null'), /last-synth.json has no "hosts" object/],
    ['a CA certificate that is a directory', (s: string) => { fs.rmSync(path.join(s, 'ca/etcd-ca.crt')); fs.mkdirSync(path.join(s, 'ca/etcd-ca.crt')); }, /ca\/etcd-ca.crt is a directory, not a file/],
  ] as const)('%s', async (_name, damage, message) => {
    const p = damaged(damage);
    expect(await refused(DEF, p)).toMatch(message);
  });

  test('a state path that is a file, or a dangling symbolic link, is an error', async () => {
    const p = paths();
    fs.writeFileSync(p.stateDir, 'not a directory');
    expect(await refused(DEF, p)).toMatch(/is a file, not a directory/);
    const q = paths();
    fs.symlinkSync(path.join(q.dir, 'gone'), q.stateDir);
    expect(await refused(DEF, q)).toMatch(/is a symbolic link to .*gone, which does not exist/);
  });

  test('temp files a stopped synth left, private keys among them, are removed and named', async () => {
    const p = damaged((s) => fs.writeFileSync(path.join(s, 'certs/admin.key.tmp-999999-abcd1234'), 'KEY'));
    fs.writeFileSync(path.join(p.outdir, 'hosts/k8s1.tar.gz.tmp-999999'), 'partial');
    const lines: string[] = [];
    await synthesizeCluster(DEF, { ...p, log: (l) => lines.push(l) });
    expect(Object.keys(tree(p.dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(lines.filter((l) => l.includes('left by a synth that was stopped'))).toHaveLength(2);
  });
});

describe('one synth at a time', () => {
  test('a second synth waits for the lock, then refuses; a lock whose holder is gone is taken over', async () => {
    const p = paths();
    await synthesizeCluster(DEF, { ...quiet, ...p });
    const lock = path.join(p.dir, '.state.lock');
    // A live holder: a process of our own that sleeps.
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lock, `${holder.pid}\n`);
      const started = Date.now();
      const msg = await refused(DEF, { ...p, lockWaitMs: 500 } as never);
      expect(msg).toContain(`another synth (pid ${holder.pid}) holds ${lock}`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((r) => holder.once('exit', r));
    // Its holder is gone now: the next synth takes the lock over, and releases it.
    const r = await synthesizeCluster(DEF, { ...quiet, ...p, lockWaitMs: 500 });
    expect(r.bundles.written).toEqual([]);
    expect(fs.existsSync(lock)).toBe(false);
  });

  test('two synths started together on one state: one waits for the other, and the CAs stay one set', async () => {
    const p = paths();
    const runs = await Promise.all([synthesizeCluster(DEF, { ...quiet, ...p }), synthesizeCluster(DEF, { ...quiet, ...p })]);
    expect(runs[0].pki.ca('kubernetes-ca').certPem).toBe(runs[1].pki.ca('kubernetes-ca').certPem);
    const pki = await ClusterPki.load(ClusterModel.fromDefinition(DEF), { stateDir: p.stateDir });
    expect(pki.events).toEqual([]);
  });
});

describe('CA lifetime', () => {
  test('a CA close to its end warns loudly, leaves issued then end with it, and an expired CA is an error', async () => {
    const p = paths();
    const model = ClusterModel.fromDefinition(withChanges(DEF, { certificates: { ...DEF.certificates, caValidityDays: 400, validityDays: 365 } }));
    await ClusterPki.load(model, { stateDir: p.stateDir });
    const ca = (await ClusterPki.load(model, { stateDir: p.stateDir })).ca('kubernetes-ca').certificate;
    const caEnd = new Date(ca.validTo);
    const messages: string[] = [];
    const late = await ClusterPki.load(model, { stateDir: p.stateDir, now: new Date(caEnd.getTime() - 100 * 86_400_000), onProgress: (m) => messages.push(m) });
    expect(messages.some((m) => /^warning: kubernetes-ca expires in (99|100) days/.test(m))).toBe(true);
    // The leaves expired by then: re-issued, and cut at their CA's end.
    expect(new Date(late.cert('admin').certificate.validTo).getTime()).toBeLessThanOrEqual(caEnd.getTime());
    expect((await ClusterPki.load(model, { stateDir: p.stateDir, now: new Date(caEnd.getTime() - 99 * 86_400_000) })).events).toEqual([]);
    await expect(ClusterPki.load(model, { stateDir: p.stateDir, now: new Date(caEnd.getTime() + 86_400_000) }))
      .rejects.toThrow(/kubernetes-ca: the CA expired on/);
  });
});

describe('output safety', () => {
  test('whatever the umask, secrets are 0600 and folders have explicit modes', async () => {
    const p = paths();
    const old = process.umask(0);
    try {
      await synthesizeCluster(DEF, { ...quiet, ...p });
    } finally {
      process.umask(old);
    }
    const mode = (f: string) => (fs.statSync(path.join(p.outdir, f)).mode & 0o7777).toString(8);
    expect(['.', 'hosts', 'addons', 'ansible'].map(mode)).toEqual(['755', '700', '755', '755']);
    expect(['addons/10-rbac.yaml', 'addons/50-app-java-demo.yaml', 'admin.kubeconfig', 'hosts/k8s1.tar.gz'].map(mode)).toEqual(['600', '600', '600', '600']);
    expect(['addons/00-namespaces.yaml', 'addons/20-coredns.yaml', 'topology.md', 'ansible/site.yml', 'deploy.sh'].map(mode)).toEqual(['644', '644', '644', '644', '755']);
    expect(mode('../state')).toBe('700');
  });

  test('a damaged bundle is rewritten and the plan says so: content altered under a current MANIFEST, or cut after MANIFEST', async () => {
    const p = paths();
    await synthesizeCluster(DEF, { ...quiet, ...p });
    const file = path.join(p.outdir, 'hosts/k8s3.tar.gz');
    const good = fs.readFileSync(file);
    const tar = zlib.gunzipSync(good);
    const altered = Buffer.from(tar);
    const at = altered.indexOf('ETCD_NAME="k8s3"');
    altered.write('ETCD_NAME="k8s9"', at);
    const cut = tar.subarray(0, 2048);
    for (const [bad, problem] of [[altered, /etcd\/cfg\/etcd does not hold what MANIFEST says/], [cut, /cut off|ends inside/]] as const) {
      fs.writeFileSync(file, zlib.gzipSync(bad));
      const lines: string[] = [];
      const r = await synthesizeCluster(DEF, { ...p, log: (l) => lines.push(l) });
      expect(r.bundles.written).toEqual(['k8s3']);
      expect(lines.find((l) => l.includes('k8s3.tar.gz was damaged'))).toMatch(problem);
      expect(zlib.gunzipSync(fs.readFileSync(file)).equals(tar)).toBe(true);
    }
  });
});

describe('the bootstrap token expires', () => {
  test('it lives ttlHours; a synth with less than half left makes a new one, the plan says why, and no kubelet restarts for it', async () => {
    const p = paths();
    const t0 = new Date('2026-12-01T00:00:00Z');
    const first = await synthesizeCluster(DEF, { ...quiet, ...p, now: t0 });
    const token = first.cluster.secrets.bootstrapToken;
    expect(token.expires).toBe('2026-12-02T00:00:00Z');
    const rbac = fs.readFileSync(path.join(p.outdir, 'addons/10-rbac.yaml'), 'utf8');
    expect(rbac).toContain('expiration: "2026-12-02T00:00:00Z"');
    // 11 hours later: 13 of 24 left, kept.
    const kept = await synthesizeCluster(DEF, { ...quiet, ...p, now: new Date(t0.getTime() + 11 * 3_600_000) });
    expect(kept.cluster.secrets.bootstrapToken.token).toBe(token.token);
    // 13 hours later: 11 of 24 left, replaced.
    const later = await synthesizeCluster(DEF, { ...quiet, ...p, now: new Date(t0.getTime() + 13 * 3_600_000) });
    expect(later.cluster.secrets.bootstrapToken.token).not.toBe(token.token);
    expect(later.plan.certificates.map(formatEvent)).toEqual(['generated bootstrapToken: the old token expires at 2026-12-02T00:00:00Z, in less than half its lifetime (nodes that joined keep running)']);
    const k8s4 = later.plan.hosts.find((h) => h.host === 'k8s4')!;
    expect(k8s4.changed).toEqual([KUBELET.bootstrapKubeconfig.slice(1)]);
    expect(k8s4.restart).toEqual([]);
    expect([...serviceDependencies(later.cluster.bundle('k8s4')).get('kubelet.service')!]).not.toContain(KUBELET.bootstrapKubeconfig);
    // A definition's own lifetime.
    const short = withChanges(DEF, { addons: { ...DEF.addons, bootstrapToken: { ttlHours: 2 } } });
    const q = paths();
    expect((await synthesizeCluster(short, { ...quiet, ...q, now: t0 })).cluster.secrets.bootstrapToken.expires).toBe('2026-12-01T02:00:00Z');
  });
});

describe('npm run synth and the cdk8s CLI', () => {
  const ROOT = path.join(__dirname, '../..');
  const APP = ['--require', path.join(ROOT, 'lib/typescript-loader.js'), path.join(ROOT, 'main.ts')];
  jest.setTimeout(120000);

  test('package.json\'s synth runs what cdk8s.yaml\'s app runs', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const app = /^app:\s*(.+)$/m.exec(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'))![1].trim();
    expect(pkg.scripts.synth).toBe(app);
  });

  test('a no-op synth rewrites nothing and prints one line; a failing one leaves dist/ as it was, under the CLI too', () => {
    const dir = tempDir();
    const env = { ...process.env, KUBESMITH_STATE_DIR: path.join(dir, 'state') };
    const synth = () => spawnSync(process.execPath, APP, { cwd: dir, env, encoding: 'utf8', timeout: 90000 });
    expect(synth().status).toBe(0);
    const before = tree(path.join(dir, 'dist'));
    const again = synth();
    expect([again.status, again.stdout, again.stderr]).toEqual([0, '', 'kubesmith: cluster kubesmith: nothing changed\n']);
    expect(tree(path.join(dir, 'dist'))).toEqual(before);

    // The CLI empties only its scratch folder; a synth that fails (a state path that is a file) leaves dist/ alone.
    fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `language: typescript\napp: ${process.execPath} ${APP.join(' ')}\noutput: .cdk8s-scratch\n`);
    const cli = path.join(ROOT, 'node_modules/.bin/cdk8s');
    const ok = spawnSync(cli, ['synth', '--no-check-upgrade'], { cwd: dir, env, encoding: 'utf8', timeout: 90000 });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('.cdk8s-scratch/kubesmith.yaml');
    expect(tree(path.join(dir, 'dist'))).toEqual(before);
    const bad = spawnSync(cli, ['synth', '--no-check-upgrade'], { cwd: dir, env: { ...env, KUBESMITH_STATE_DIR: path.join(dir, 'dist/deploy.sh') }, encoding: 'utf8', timeout: 90000 });
    expect(bad.stderr).toContain('is a file, not a directory');
    expect(tree(path.join(dir, 'dist'))).toEqual(before);
  });

  test('secrets removed on purpose: synth refuses, `npm run certs -- new-secrets` makes new ones, then synth goes on', () => {
    const dir = tempDir();
    const env = { ...process.env, KUBESMITH_STATE_DIR: path.join(dir, 'state') };
    const run = (script: string, args: string[] = []) => spawnSync(process.execPath, ['--require', path.join(ROOT, 'lib/typescript-loader.js'), path.join(ROOT, script), ...args],
      { cwd: dir, env, encoding: 'utf8', timeout: 90000 });
    expect(run('main.ts').status).toBe(0);
    const secretsFile = path.join(dir, 'state/secrets.json');
    const { encryptionKeys } = JSON.parse(fs.readFileSync(secretsFile, 'utf8'));
    fs.rmSync(secretsFile);
    const refusedRun = run('main.ts');
    expect([refusedRun.status, refusedRun.stderr]).toEqual([1, expect.stringContaining('npm run certs -- new-secrets')]);
    // The encryption keys the apiservers were given are never made anew: they must come back from a backup.
    const noKeys = run('scripts/certs.ts', ['new-secrets']);
    expect([noKeys.status, noKeys.stderr]).toEqual([1, expect.stringContaining('has no encryptionKeys, but the last synth gave the apiservers an encryption config')]);
    expect(fs.existsSync(secretsFile)).toBe(false);
    fs.writeFileSync(secretsFile, JSON.stringify({ encryptionKeys }), { mode: 0o600 });
    const made = run('scripts/certs.ts', ['new-secrets']);
    expect([made.status, made.stdout]).toEqual([0, expect.stringContaining('generated bootstrapToken: not in the state yet')]);
    expect(JSON.parse(fs.readFileSync(secretsFile, 'utf8')).encryptionKeys).toEqual(encryptionKeys);
    const after = run('main.ts');
    expect(after.status).toBe(0);
    expect(after.stderr).toContain('~ /etc/keepalived/keepalived.conf');
    expect(after.stderr).not.toContain('encryption-config.yaml');
  });

  test('encryption keys: a state from before them gets one (new since); a rotation goes add, promote, drop, each refused until the last synth carried the one before', () => {
    const dir = tempDir();
    const env = { ...process.env, KUBESMITH_STATE_DIR: path.join(dir, 'state') };
    const run = (script: string, args: string[] = []) => spawnSync(process.execPath, ['--require', path.join(ROOT, 'lib/typescript-loader.js'), path.join(ROOT, script), ...args],
      { cwd: dir, env, encoding: 'utf8', timeout: 90000 });
    const secretsFile = path.join(dir, 'state/secrets.json');
    const keyNames = () => (JSON.parse(fs.readFileSync(secretsFile, 'utf8')).encryptionKeys as { name: string }[]).map((k) => k.name);
    /** The key names of k8s1's encryption config, writer first, as the apiserver reads them. */
    const configured = () => {
      const r = spawnSync('tar', ['-xzOf', path.join(dir, 'dist/hosts/k8s1.tar.gz'), 'opt/kubernetes/cfg/encryption-config.yaml'], { encoding: 'utf8' });
      const providers = parseYaml(r.stdout).resources[0].providers;
      expect(providers[1]).toEqual({ identity: {} });
      return (providers[0].secretbox.keys as { name: string }[]).map((k) => k.name);
    };
    expect(run('main.ts').status).toBe(0);
    // A state made before encryption at rest: no keys, no encryption config in the last synth.
    editSecrets(path.join(dir, 'state'), (x) => { delete x.encryptionKeys; });
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'state/last-synth.json'), 'utf8'));
    for (const h of Object.values(record.hosts) as { files: Record<string, string> }[]) delete h.files['opt/kubernetes/cfg/encryption-config.yaml'];
    fs.writeFileSync(path.join(dir, 'state/last-synth.json'), JSON.stringify(record));
    const upgraded = run('main.ts');
    expect([upgraded.status, upgraded.stderr]).toEqual([0, expect.stringContaining('generated encryptionKeys: new since this state was made: Secrets are encrypted at rest')]);
    const [first] = keyNames();
    expect(configured()).toEqual([first]);

    // Nothing to promote or drop yet.
    expect(run('scripts/certs.ts', ['encryption-key', 'promote']).stderr).toContain('there is no new key to promote');
    expect(run('scripts/certs.ts', ['encryption-key', 'drop']).stderr).toContain(`${first} is the only key`);
    expect(run('scripts/certs.ts', ['encryption-key', 'rotate']).stderr).toContain('usage: npm run certs -- encryption-key add|promote|drop (got "rotate")');

    const added = run('scripts/certs.ts', ['encryption-key', 'add']);
    expect(added.status).toBe(0);
    const [, second] = keyNames();
    expect(added.stdout).toContain(`encryption keys: ${first} (writes), ${second} (reads)`);
    // Promoting before the masters got the new key would make one apiserver write what the other cannot read.
    const early = run('scripts/certs.ts', ['encryption-key', 'promote']);
    expect([early.status, early.stderr]).toEqual([1, expect.stringContaining('the last synth did not give k8s1, k8s2 the current keys')]);
    expect(run('scripts/certs.ts', ['encryption-key', 'add']).stderr).toContain('a rotation is under way');
    expect(run('main.ts').status).toBe(0);
    expect(configured()).toEqual([first, second]);
    expect(run('scripts/certs.ts', ['encryption-key', 'promote']).stdout).toContain('kubectl get secrets -A -o json | kubectl replace -f -');
    expect(keyNames()).toEqual([second, first]);
    expect(run('scripts/certs.ts', ['encryption-key', 'drop']).stderr).toContain('the last synth did not give');
    expect(run('main.ts').status).toBe(0);
    expect(configured()).toEqual([second, first]);

    // Drop asks the cluster (dist/deploy.sh --secret-keys, over an ssh stand-in) and refuses while a Secret needs the old key.
    const stub = path.join(dir, 'ssh');
    fs.writeFileSync(stub, '#!/bin/bash\n[[ "$*" == *"/registry/secrets/"* ]] || exit 0\nprintf "%b" "$ANSWER"\nexit "$CODE"\n', { mode: 0o755 });
    const drop = (answer: string, code: number) => spawnSync(process.execPath, ['--require', path.join(ROOT, 'lib/typescript-loader.js'), path.join(ROOT, 'scripts/certs.ts'), 'encryption-key', 'drop'],
      { cwd: dir, env: { ...env, SSH: stub, ANSWER: answer, CODE: String(code) }, encoding: 'utf8', timeout: 90000 });
    const secretsBefore = fs.readFileSync(secretsFile, 'utf8');
    const mixed = drop(`      2 secretbox:${first}\\n      3 secretbox:${second}\\n`, 1);
    expect([mixed.status, mixed.stderr]).toEqual([1, expect.stringContaining(`not every Secret is written with ${second} yet, so dropping the other keys would lose 2 with secretbox:${first}`)]);
    const plain = drop(`      1 identity\\n      3 secretbox:${second}\\n`, 1);
    expect(plain.stderr).toContain('would lose 1 with identity');
    const unreachable = drop('', 255);
    expect([unreachable.status, unreachable.stderr]).toEqual([1, expect.stringContaining(`not every Secret is written with ${second} yet`)]);
    expect(fs.readFileSync(secretsFile, 'utf8')).toBe(secretsBefore);
    const dropped = drop(`      5 secretbox:${second}\\n`, 0);
    expect([dropped.status, dropped.stdout]).toEqual([0, expect.stringContaining(`encryption keys: ${second} (writes); retired, kept for restoring older snapshots: ${first}`)]);
    expect(run('main.ts').status).toBe(0);
    expect(configured()).toEqual([second]);
    // The restore's encryption config (dist/, 0600) holds the retired key after the ones in force.
    const restore = path.join(dir, 'dist/restore/encryption-config.yaml');
    expect(fs.statSync(restore).mode & 0o777).toBe(0o600);
    const providers = parseYaml(fs.readFileSync(restore, 'utf8')).resources[0].providers;
    expect([providers[0].secretbox.keys.map((k: { name: string }) => k.name), providers[1]]).toEqual([[second, first], { identity: {} }]);
    // A retired key is never handed back as a current one: secrets.json naming it twice is refused as damage.
    editSecrets(path.join(dir, 'state'), (x) => { x.retiredEncryptionKeys.push({ ...x.encryptionKeys[0], retired: new Date().toISOString() }); });
    expect(run('main.ts').stderr).toContain(`secrets.json: retiredEncryptionKeys holds ${second}, which encryptionKeys holds too`);
  });
});
