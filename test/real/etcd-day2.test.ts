/**
 * Day-2 etcd on the seed's real etcd (built from Go modules by scripts/build-components.sh): snapshots from the emitted
 * etcd-snapshot.service, a restore run from the generated restore steps (restoreSteps: the same list deploy.sh and
 * restore.yml run), the same restore onto hosts with new addresses, and an etcd member replaced with the generated
 * membership steps. Members start with the command line and environment of their emitted etcd.service, each in its
 * host's network namespace with the host's root shown at the install paths.
 *
 * The runtime steps run here as written, in order, through a stand-in for ssh: a command runs with sh in the host's
 * namespaces; `systemctl start|stop etcd.service` starts or stops that host's member the way etcd.test.ts does (no
 * systemd here); kube-apiserver steps are recorded (no apiserver runs here) and their place in the order checked.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SEED } from '../support/clusters';
import { ClusterDefinition } from '../../lib';
import { ETCD_FILES, ETCD_SNAPSHOT, RESTORE_REVISION_BUMP } from '../../hosts';
import {
  RESTORE_ENCRYPTION, RESTORE_SNAPSHOT, RuntimeStep, rebuildMemberSteps, restoreSteps, secretKeysCommand,
} from '../../lib/output/rollout';
import { PATHS } from '../../lib/model';
import { requireComponents } from '../support/components';
import { addAddress, attachToBridge, Bridge, cleanupAll, createBridge, createNamespace } from '../support/netns';
import {
  parseEnvironmentFile, Proc, run, RunResult, start, stop, stopAll, SYSTEMD_DEFAULT_PATH,
} from '../support/processes';
import { describeIf, placeProgram, requirePrograms, requireRoot } from '../support/programs';
import { installCluster, InstalledCluster } from '../support/real-cluster';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { cleanupTempDirs } from '../support/tmp';
import { inRootView, unitCommand, unitPaths } from '../support/units';
import { waitFor } from '../support/wait';

const tools = requirePrograms(['ip', 'unshare', 'mount', 'flock', 'sha256sum'], [requireRoot()]);
const components = requireComponents(['etcd', 'etcdctl', 'etcdutl']);

/**
 * How long a member may take to be healthy. Alone it takes seconds; in one fresh-clone CI run, beside the cluster
 * suite on 2 cores, a rebuilt member's wait for cluster health ran out at 60 s (the cause is not known yet).
 */
const WAIT_MS = 150000;

const HOSTS_A = [
  { name: 'm1', ip: '10.77.1.11', interface: 'ens33', roles: ['master', 'etcd', 'lb'] },
  { name: 'm2', ip: '10.77.1.12', interface: 'ens33', roles: ['master', 'etcd', 'lb'] },
  { name: 'e3', ip: '10.77.1.13', interface: 'eth0', roles: ['etcd'] },
] as const;

function definition(hosts: readonly { name: string; ip: string; interface: string; roles: readonly string[] }[], etcd?: object): ClusterDefinition {
  return {
    name: 'day2',
    // The seed's: its etcd companion is the etcd scripts/build-components.sh builds.
    kubernetesVersion: SEED.kubernetesVersion,
    hosts: hosts.map((h) => ({ ...h, roles: [...h.roles] })) as ClusterDefinition['hosts'],
    loadBalancer: { vip: '10.77.1.50/24', port: 6444, virtualRouterId: 78 },
    network: { serviceCidr: '10.0.0.0/24', podCidr: '172.20.0.0/16' },
    certificates: { keyAlgorithm: 'ecdsa' },
    ...(etcd ? { etcd } : {}),
  };
}

/** A host of the test: its root (laid out by its install.sh --root) and its namespace on the one bridge. */
interface TestHost { readonly name: string; readonly root: string; readonly ns: string }

class Day2 {
  readonly hosts = new Map<string, TestHost>();
  readonly members = new Map<string, Proc>();
  /** What the executed steps did, in order: 'stop kube-apiserver.service m1', 'run m1 <command>', ... */
  readonly log: string[] = [];
  private readonly bridge: Bridge;
  constructor(label: string, readonly logDir: string) {
    this.bridge = createBridge(label);
  }

  /** Adds the cluster's hosts (their roots) and a namespace for each host not seen yet, with its address. */
  adopt(c: InstalledCluster, label: string, onlyNew = false): void {
    for (const h of c.model.hosts) {
      const old = this.hosts.get(h.name);
      if (old && onlyNew) continue;
      const ns = old?.ns ?? createNamespace(`${label}-${h.name}`);
      if (!old) attachToBridge(this.bridge, ns, h.interface, `${h.ip}/24`);
      this.hosts.set(h.name, { name: h.name, root: c.root(h.name), ns });
      // The units name /opt/etcd/bin/{etcd,etcdctl,etcdutl}: the Go-built ones.
      for (const b of ['etcd', 'etcdctl', 'etcdutl']) {
        const at = path.join(c.root(h.name), PATHS.etcdBin, b);
        if (!fs.existsSync(at)) placeProgram(components.path(b), at);
      }
    }
  }

  /** A host's machine keeps its disk (the data directory) and takes the files of its new bundle in `c`. */
  reinstall(c: InstalledCluster, name: string): void {
    const old = this.host(name);
    fs.cpSync(path.join(old.root, PATHS.etcdData), path.join(c.root(name), PATHS.etcdData), { recursive: true });
    for (const b of ['etcd', 'etcdctl', 'etcdutl']) {
      const at = path.join(c.root(name), PATHS.etcdBin, b);
      if (!fs.existsSync(at)) placeProgram(components.path(b), at);
    }
    this.hosts.set(name, { ...old, root: c.root(name) });
  }

  host(name: string): TestHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no test host ${name}`);
    return h;
  }

  /** A shell command as root on a host: its network namespace, its root at /opt and /var/lib/etcd. */
  sh(name: string, command: string, timeoutMs = 60000): Promise<RunResult> {
    const h = this.host(name);
    return run(inRootView(h.root, ['/opt', '/var/lib/etcd/default.etcd', path.posix.dirname(ETCD_FILES.rejoin)], ['sh', '-c', command]), {
      netns: h.ns, timeoutMs, env: { PATH: SYSTEMD_DEFAULT_PATH },
    });
  }

  startMember(name: string): Proc {
    const h = this.host(name);
    const cmd = unitCommand(h.root, ETCD_FILES.unit);
    const p = start(inRootView(h.root, unitPaths(cmd), cmd.argv), { name: `etcd-${name}-${Date.now()}`, env: cmd.env, netns: h.ns, logDir: this.logDir });
    this.members.set(name, p);
    return p;
  }

  async stopMember(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.members.get(name);
    if (p) await stop(p, { signal, graceMs: 15000 });
    this.members.delete(name);
  }

  /**
   * Runs runtime steps as deploy.sh does: each step on each of its hosts, in order, waits bounded. `file` is the
   * operator's snapshot, `dist` the synth's output folder. The operator's kubectl steps are recorded (no apiserver).
   */
  async runSteps(steps: readonly RuntimeStep[], file?: string, install?: (host: string) => void, dist?: string): Promise<void> {
    for (const s of steps) {
      if (s.on === 'operator') {
        if (!s.command?.includes('kubectl')) throw new Error(`an operator step in this test: ${s.title}`);
        this.log.push('kubectl');
        continue;
      }
      for (const h of s.on) {
        if (s.upload) {
          const to = path.join(this.host(h.name).root, s.upload.to);
          fs.mkdirSync(path.dirname(to), { recursive: true });
          fs.copyFileSync(s.upload.from === 'snapshot' ? file! : path.join(dist!, s.upload.from), to);
          fs.chmodSync(to, 0o600);
          this.log.push(`upload ${h.name} ${s.upload.to}`);
        }
        if (s.install) { install!(h.name); this.log.push(`install ${h.name}`); }
        if (!s.command) continue;
        // Units other than etcd and the apiserver (restarted after a restore) do not run here.
        if (/^systemctl restart (kube-controller-manager|kube-scheduler|kubelet)\.service/.test(s.command)) { this.log.push(`restart ${h.name}`); continue; }
        const unit = /^systemctl (stop|start|start --no-block|restart) (\S+)$/.exec(s.command);
        if (unit) {
          const [, verb, name] = unit;
          this.log.push(`${verb.split(' ')[0]} ${name} ${h.name}`);
          if (name === 'etcd.service' && verb === 'stop') await this.stopMember(h.name);
          else if (name === 'etcd.service') { if (!this.members.get(h.name)?.isRunning()) this.startMember(h.name); }
          else if (name !== 'kube-apiserver.service') throw new Error(`unexpected unit step: ${s.command}`);
          continue;
        }
        if (s.command.includes('/readyz')) { this.log.push(`readyz ${h.name}`); continue; } // no apiserver here
        this.log.push(`run ${h.name} ${s.command.split(' ').slice(0, 2).join(' ')}`);
        if (s.wait) {
          const t0 = Date.now();
          await waitFor(async () => (await this.sh(h.name, s.command!, 20000)).code === 0, { what: `${h.name}: ${s.title}`, timeoutMs: WAIT_MS, intervalMs: 500 });
          console.log(`day2: ${h.name}: "${s.title}" after ${Date.now() - t0} ms`);
        } else {
          const r = await this.sh(h.name, s.command);
          if (r.code !== 0) throw new Error(`${h.name}: ${s.title} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
        }
      }
    }
  }

  /** etcdctl as a member, with the flags of its etcdctl.env (what operators use on the host). */
  etcdctl(name: string, args: string, endpoints?: string): Promise<RunResult> {
    const env = parseEnvironmentFile(fs.readFileSync(path.join(this.host(name).root, ETCD_FILES.etcdctlEnvironment), 'utf8'));
    return this.sh(name, `${ETCD_FILES.etcdctl} --endpoints=${endpoints ?? env.ETCDCTL_ENDPOINTS} --cacert=${env.ETCDCTL_CACERT} `
      + `--cert=${env.ETCDCTL_CERT} --key=${env.ETCDCTL_KEY} --dial-timeout=2s --command-timeout=8s ${args}`, 20000);
  }

  async waitHealthy(name: string, endpoints?: string): Promise<number> {
    const t0 = Date.now();
    await waitFor(async () => (await this.etcdctl(name, 'endpoint health', endpoints)).code === 0, {
      what: `every etcd endpoint healthy from ${name}`, timeoutMs: WAIT_MS, intervalMs: 500,
    });
    return Date.now() - t0;
  }

  async keys(name: string, prefix: string): Promise<Map<string, string>> {
    const r = await this.etcdctl(name, `get ${prefix} --prefix -w json`);
    if (r.code !== 0) throw new Error(`get ${prefix}: ${r.stderr}`);
    const kvs = (JSON.parse(r.stdout).kvs ?? []) as { key: string; value: string }[];
    return new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value, 'base64').toString()]));
  }

  async memberList(name: string): Promise<string[]> {
    const r = await this.etcdctl(name, 'member list -w json');
    if (r.code !== 0) throw new Error(`member list: ${r.stderr}`);
    return (JSON.parse(r.stdout).members as { name: string; peerURLs: string[] }[]).map((m) => `${m.name} ${m.peerURLs.join(',')}`).sort();
  }
}

/** The key the state's apiservers write Secrets with. */
const writingKey = (dir: string): string => JSON.parse(fs.readFileSync(path.join(dir, 'state/secrets.json'), 'utf8')).encryptionKeys[0].name;

const expected = (n: number) => new Map(Array.from({ length: n }, (_, i) => [`/day2/key-${i}`, `value-${i}`]));
const ok = tools.ok && components.ok;

describeIf(ok)('etcd 3.5 day 2: snapshots, restore (also onto new addresses), a member replaced', () => {
  jest.setTimeout(2 * WAIT_MS + 120000);
  let d: Day2;
  let a: InstalledCluster;
  let snapshot = '';

  beforeAll(async () => {
    // keep 2 so the third snapshot prunes; the after-snapshot command is the "off-site copy".
    a = await installCluster(definition(HOSTS_A, {
      snapshots: { keep: 2, afterSnapshot: 'mkdir -p /var/lib/etcd/offsite && cp "$SNAPSHOT" /var/lib/etcd/offsite/ && echo "$SNAPSHOT" >> /var/lib/etcd/offsite/log' },
    }), { standIns: false });
    d = new Day2('day2', makeTempDir('day2-logs'));
    d.adopt(a, 'day2');
  });

  afterAll(async () => {
    for (const name of [...d?.members.keys() ?? []]) await d.stopMember(name);
    await stopAll({ graceMs: 15000 });
    cleanupAll();
    removeTempDirs();
    cleanupTempDirs();
  });

  test('the snapshot service saves, verifies and prunes snapshots with the member\'s own credentials, then runs the after-snapshot command', async () => {
    const t0 = Date.now();
    for (const h of a.model.etcdMembers) d.startMember(h.name);
    console.log(`day2: 3 members healthy ${await d.waitHealthy('m1')} ms after start`);
    for (let i = 0; i < 50; i++) expect((await d.etcdctl('m1', `put /day2/key-${i} value-${i}`)).code).toBe(0);

    // The command etcd-snapshot.service runs, three times a second apart (names carry the second).
    const service = unitCommand(d.host('m1').root, ETCD_SNAPSHOT.serviceUnit);
    expect(service.argv).toEqual([ETCD_SNAPSHOT.script]);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 1100));
      const r = await d.sh('m1', service.argv.join(' '), 60000);
      expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('saved and verified')]);
      made.push(r.stdout.trim().split('\n').pop()!);
    }
    const dir = path.join(d.host('m1').root, ETCD_SNAPSHOT.dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    // Pruned to the newest 2 of this member's; each one 0600 and a snapshot etcdutl reads.
    expect(fs.readdirSync(dir).sort()).toEqual(made.slice(1).map((f) => path.basename(f)).sort());
    for (const f of made.slice(1)) {
      expect(path.basename(f)).toMatch(/^m1-\d{8}T\d{6}Z\.db$/);
      expect(fs.statSync(path.join(d.host('m1').root, f)).mode & 0o777).toBe(0o600);
      const st = await d.sh('m1', `${ETCD_FILES.etcdutl} snapshot status ${f} -w json`);
      expect(st.code).toBe(0);
      expect(JSON.parse(st.stdout).totalKey).toBeGreaterThanOrEqual(50);
    }
    // The after-snapshot command ran after each, with SNAPSHOT set.
    expect(fs.readFileSync(path.join(d.host('m1').root, 'var/lib/etcd/offsite/log'), 'utf8').trim().split('\n')).toEqual(made);
    snapshot = path.join(d.host('m1').root, made[2]);
    console.log(`day2: 3 snapshots taken, verified, pruned to 2 in ${Date.now() - t0} ms (cluster start included)`);
  });

  test('restore refuses while etcd runs; the generated restore steps bring every key back after every data directory is destroyed', async () => {
    expect(snapshot).not.toBe('');
    // Written after the snapshot: must be gone after the restore.
    expect((await d.etcdctl('m1', 'put /day2/after-snapshot x')).code).toBe(0);
    fs.copyFileSync(snapshot, path.join(d.host('m1').root, RESTORE_SNAPSHOT));
    const refused = await d.sh('m1', `${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('etcd is running')]);

    const operatorCopy = path.join(makeTempDir('day2-operator'), 'snapshot.db');
    fs.copyFileSync(snapshot, operatorCopy);
    for (const name of [...d.members.keys()]) await d.stopMember(name, 'SIGKILL');
    for (const h of a.model.etcdMembers) fs.rmSync(path.join(d.host(h.name).root, PATHS.etcdData), { recursive: true, force: true });

    const t0 = Date.now();
    const steps = restoreSteps(a.model, writingKey(a.s.dir));
    const installed = new Map(a.model.masters.map((m) => [m.name, fs.readFileSync(path.join(d.host(m.name).root, PATHS.encryptionConfig), 'utf8')]));
    await d.runSteps(steps, operatorCopy, undefined, path.join(a.s.dir, 'dist'));
    const elapsed = Date.now() - t0;
    // The order the issue asks for: apiservers stopped, etcd stopped, restored, etcd started and healthy, apiservers started.
    const names = new Set(a.model.hosts.map((h) => h.name));
    const order = d.log.map((l) => l.split(' ').filter((w) => !names.has(w)).join(' ')).filter((l, i, all) => all.indexOf(l) === i);
    expect(order).toEqual([
      `upload ${RESTORE_SNAPSHOT}`, `run ${ETCD_FILES.etcdutl} snapshot`, 'stop kube-apiserver.service',
      `upload ${RESTORE_ENCRYPTION.upload}`, 'run if [', 'stop etcd.service',
      `run ${ETCD_FILES.restore} ${RESTORE_SNAPSHOT}`, 'start etcd.service', `run ${ETCD_FILES.etcdctl} --cacert=/opt/etcd/ssl/ca.pem`,
      'start kube-apiserver.service', 'readyz', 'kubectl', `run f=$(${ETCD_FILES.etcdctl} --endpoints=https://127.0.0.1:2379`,
      'restart kube-apiserver.service', 'restart',
    ]);
    // Each master's own encryption config is back in place; the restore's (every key) is gone from it.
    for (const m of a.model.masters) {
      const root = d.host(m.name).root;
      expect([m.name, fs.readFileSync(path.join(root, PATHS.encryptionConfig), 'utf8')]).toEqual([m.name, installed.get(m.name)]);
      expect([m.name, fs.existsSync(path.join(root, RESTORE_ENCRYPTION.saved)), fs.existsSync(path.join(root, RESTORE_ENCRYPTION.upload))]).toEqual([m.name, false, false]);
    }
    expect(await d.keys('m2', '/day2/key-')).toEqual(expected(50));
    expect((await d.keys('e3', '/day2/after-snapshot')).size).toBe(0);
    expect(await d.memberList('e3')).toEqual(a.model.etcdMembers.map((h) => `${h.name} https://${h.ip}:2380`).sort());
    // Revisions moved past any a watcher held, and marked compacted: a read or watch from before ends with "compacted".
    const got = await d.etcdctl('m1', 'get /day2/key-1 -w json');
    expect(Number(JSON.parse(got.stdout).header.revision)).toBeGreaterThan(RESTORE_REVISION_BUMP);
    const old = await d.etcdctl('m1', 'get /day2/key-1 --rev=10');
    expect([old.code, old.stderr]).toEqual([1, expect.stringContaining('required revision has been compacted')]);
    console.log(`day2: restore from the generated steps: 3 members healthy, 50 keys back, revision ${JSON.parse(got.stdout).header.revision}, ${elapsed} ms`);
  });

  test('restore onto hosts with new addresses: re-synthed bundles (new certificates), the new peer URLs, every key back', async () => {
    const moved = HOSTS_A.map((h, i) => ({ ...h, ip: `10.77.1.${21 + i}` }));
    // A copy of the state: the next test replaces a member against the first synth's record.
    const copy = makeTempDir('day2-moved');
    fs.cpSync(a.s.dir, copy, { recursive: true });
    const b = await installCluster(definition(moved), { standIns: false, dir: copy });
    expect(b.s.result.plan.certificates.map((e) => e.name)).toEqual(expect.arrayContaining(['etcd-server@m1', 'etcd-peer@e3']));
    for (const name of [...d.members.keys()]) await d.stopMember(name);
    const e = new Day2('day2b', d.logDir);
    e.adopt(b, 'day2b');
    // The old data directories come along (a disk moved to the new machine): the restore keeps them aside.
    for (const h of b.model.etcdMembers) {
      fs.cpSync(path.join(d.host(h.name).root, PATHS.etcdData), path.join(e.host(h.name).root, PATHS.etcdData), { recursive: true });
    }
    const t0 = Date.now();
    try {
      await e.runSteps(restoreSteps(b.model, writingKey(copy)), snapshot, undefined, path.join(copy, 'dist'));
      console.log(`day2: restore onto new addresses ${Date.now() - t0} ms`);
      expect(await e.memberList('m1')).toEqual(moved.map((h) => `${h.name} https://${h.ip}:2380`).sort());
      expect(await e.keys('e3', '/day2/key-')).toEqual(expected(50));
      for (const h of b.model.etcdMembers) {
        const aside = fs.readdirSync(path.join(e.host(h.name).root, path.dirname(PATHS.etcdData))).filter((f) => f.startsWith('default.etcd.before-restore-'));
        expect([h.name, aside.length]).toEqual([h.name, 1]);
      }
    } finally {
      for (const name of [...e.members.keys()]) await e.stopMember(name);
    }
    // Back to the first cluster's members for the next test.
    for (const h of a.model.etcdMembers) d.startMember(h.name);
    await d.waitHealthy('m1');
  });

  test('replacing a member: the plan lists member remove, member add, then the new member\'s bundle (state existing); run, healthy, nothing lost', async () => {
    const replaced = [HOSTS_A[0], HOSTS_A[1], { name: 'e4', ip: '10.77.1.14', interface: 'eth0', roles: ['etcd'] }];
    const c = await installCluster(definition(replaced), { standIns: false, dir: a.s.dir });
    const runtime = c.s.result.plan.runtime ?? [];
    expect(runtime.map((s) => `${s.title} @ ${s.on === 'operator' ? 'here' : s.on.map((h) => h.name).join(',')}`)).toEqual([
      'etcdctl member remove e3 @ m1',
      'etcdctl member add e4 --peer-urls=https://10.77.1.14:2380 @ m1',
      'install e4\'s bundle (ETCD_INITIAL_CLUSTER_STATE=existing) and wait for the etcd cluster\'s health @ e4',
    ]);
    const state = (host: string) => parseEnvironmentFile(fs.readFileSync(c.file(host, ETCD_FILES.environment), 'utf8')).ETCD_INITIAL_CLUSTER_STATE;
    expect([state('m1'), state('e4')]).toEqual(['new', 'existing']);
    // deploy.sh runs the same steps, before the roll-out.
    const deploy = fs.readFileSync(path.join(c.s.dir, 'dist/deploy.sh'), 'utf8');
    const run = deploy.slice(deploy.indexOf('membership_run() {'));
    expect(run.indexOf(`${ETCD_FILES.member} remove e3`)).toBeGreaterThan(0);
    expect(run.indexOf(`${ETCD_FILES.member} add e4 https://10.77.1.14:2380`)).toBeGreaterThan(run.indexOf(`${ETCD_FILES.member} remove e3`));
    expect(run.indexOf("install_host 'e4'")).toBeGreaterThan(run.indexOf(`${ETCD_FILES.member} add e4`));

    d.adopt(c, 'day2', true);
    const t0 = Date.now();
    await d.runSteps(runtime, undefined, (h) => { if (!d.members.get(h)?.isRunning()) d.startMember(h); });
    console.log(`day2: e3 replaced by e4 from the generated steps in ${Date.now() - t0} ms`);
    await d.stopMember('e3');
    const endpoints = c.model.etcdEndpoints.join(',');
    await d.waitHealthy('e4', endpoints);
    expect(await d.memberList('e4')).toEqual(c.model.etcdMembers.map((h) => `${h.name} https://${h.ip}:2380`).sort());
    expect(await d.keys('e4', '/day2/key-')).toEqual(expected(50));
    // Served by the new member itself.
    const own = await d.etcdctl('e4', 'get /day2/key-7 --print-value-only', 'https://10.77.1.14:2379');
    expect([own.code, own.stdout.trim()]).toEqual([0, 'value-7']);
    // A second run changes nothing: every step is a no-op once done.
    await d.runSteps(runtime, undefined, (h) => { if (!d.members.get(h)?.isRunning()) d.startMember(h); });
    expect(await d.memberList('m1')).toEqual(c.model.etcdMembers.map((h) => `${h.name} https://${h.ip}:2380`).sort());
    const again = await d.sh('m1', `${ETCD_FILES.member} add e4 https://10.77.1.14:2380 && ${ETCD_FILES.member} remove e3`);
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/is a member already: nothing to add\n.*e3 is not a member: nothing to remove/)]);
  });

  test('a member moved to a new address: member update from the generated step, then its new bundle there; healthy, nothing lost', async () => {
    const hosts = [HOSTS_A[0], HOSTS_A[1], { name: 'e4', ip: '10.77.1.24', interface: 'eth0', roles: ['etcd'] }];
    const c = await installCluster(definition(hosts), { standIns: false, dir: a.s.dir });
    const runtime = c.s.result.plan.runtime ?? [];
    expect(runtime.map((s) => `${s.title} @ ${s.on === 'operator' ? 'here' : s.on.map((h) => h.name).join(',')}`)).toEqual([
      'etcdctl member update e4 --peer-urls=https://10.77.1.24:2380 @ m1',
    ]);
    const t0 = Date.now();
    await d.runSteps(runtime);
    // The machine has its new address; the roll-out installs its bundle there, which restarts etcd.
    addAddress(d.host('e4').ns, 'eth0', '10.77.1.24/24');
    await d.stopMember('e4');
    d.reinstall(c, 'e4');
    d.startMember('e4');
    const endpoints = c.model.etcdEndpoints.join(',');
    await d.waitHealthy('e4', endpoints);
    console.log(`day2: e4 moved to 10.77.1.24 from the generated step and its new bundle in ${Date.now() - t0} ms`);
    expect(await d.memberList('m1')).toEqual(c.model.etcdMembers.map((h) => `${h.name} https://${h.ip}:2380`).sort());
    // Its client URL it advertises itself, once restarted there.
    const list = JSON.parse((await d.etcdctl('m2', 'member list -w json', endpoints)).stdout).members as { name: string; clientURLs: string[] }[];
    expect(list.find((m) => m.name === 'e4')!.clientURLs).toEqual(['https://10.77.1.24:2379']);
    const own = await d.etcdctl('e4', 'get /day2/key-7 --print-value-only', 'https://10.77.1.24:2379');
    expect([own.code, own.stdout.trim()]).toEqual([0, 'value-7']);
    expect(await d.keys('e4', '/day2/key-')).toEqual(expected(50));
    // Run again, the step is a no-op.
    const again = await d.sh('m1', `${ETCD_FILES.member} update e4 https://10.77.1.24:2380`);
    expect([again.code, again.stdout.trim()]).toEqual([0, 'etcd-member: e4 has https://10.77.1.24:2380 already: nothing to update']);
  });

  test('a member rebuilt in place from empty data (its database lost): removed, added back, started to join; healthy, every key back', async () => {
    const hosts = [HOSTS_A[0], HOSTS_A[1], { name: 'e4', ip: '10.77.1.24', interface: 'eth0', roles: ['etcd'] }];
    // The cluster as the last roll-outs left it: m2 holds the current bundle (its member list names e4 at .24).
    const c = await installCluster(definition(hosts), { standIns: false, dir: a.s.dir });
    const model = c.model;
    // m2's bundle says ETCD_INITIAL_CLUSTER_STATE=new (a founding member): the rebuild must make it join instead.
    expect(parseEnvironmentFile(fs.readFileSync(path.join(d.host('m2').root, ETCD_FILES.environment), 'utf8')).ETCD_INITIAL_CLUSTER_STATE).toBe('new');
    const before = (await d.memberList('m1')).find((m) => m.startsWith('m2 '));
    const idOf = async (name: string) => (JSON.parse((await d.etcdctl('m1', 'member list -w json', model.etcdEndpoints.filter((e) => !e.includes('10.77.1.12')).join(','))).stdout)
      .members as { name: string; ID: string }[]).find((m) => m.name === name)?.ID;
    const oldId = await idOf('m2');
    await d.stopMember('m2', 'SIGKILL');
    d.reinstall(c, 'm2');
    const db = path.join(d.host('m2').root, PATHS.etcdData, 'member/snap/db');
    fs.writeFileSync(db, 'not a bbolt database');

    const steps = rebuildMemberSteps(model, 'm2');
    expect(steps.map((s) => `${s.title} @ ${s.on === 'operator' ? 'here' : s.on.map((h) => h.name).join(',')}`)).toEqual([
      'etcdctl member remove m2 @ m1', 'stop etcd on m2 @ m2',
      'move m2\'s data directory aside and mark it to join the running cluster @ m2',
      'etcdctl member add m2 --peer-urls=https://10.77.1.12:2380 @ m1', 'start etcd on m2 @ m2',
      'wait for the etcd cluster to be healthy @ m1', 'remove m2\'s rejoin mark (its data now says it is a member) @ m2',
    ]);
    const t0 = Date.now();
    await d.runSteps(steps);
    console.log(`day2: m2 rebuilt from empty data with the generated steps in ${Date.now() - t0} ms`);
    const endpoints = model.etcdEndpoints.join(',');
    await d.waitHealthy('m2', endpoints);
    expect((await d.memberList('m1')).find((m) => m.startsWith('m2 '))).toBe(before);
    expect(await idOf('m2')).not.toBe(oldId);
    const own = await d.etcdctl('m2', 'get /day2/key-7 --print-value-only', 'https://10.77.1.12:2379');
    expect([own.code, own.stdout.trim()]).toEqual([0, 'value-7']);
    expect(await d.keys('m2', '/day2/key-')).toEqual(expected(50));
    // The broken data is kept aside; the rejoin mark is gone (the next start reads the bundle's state, which etcd ignores now).
    const aside = fs.readdirSync(path.dirname(path.join(d.host('m2').root, PATHS.etcdData))).filter((f) => f.startsWith('default.etcd.before-rebuild-'));
    expect(aside).toHaveLength(1);
    expect(fs.existsSync(path.join(d.host('m2').root, ETCD_FILES.rejoin))).toBe(false);
    // A restart of the rebuilt member with its bundle alone (state new) keeps it in the cluster.
    await d.stopMember('m2');
    d.startMember('m2');
    await d.waitHealthy('m2', endpoints);
  });

  test('the Secrets-by-key count (deploy.sh --secret-keys, the restore\'s check, encryption-key drop) reads the stored prefixes, binary values included', async () => {
    const env = parseEnvironmentFile(fs.readFileSync(path.join(d.host('m1').root, ETCD_FILES.etcdctlEnvironment), 'utf8'));
    const etcdctl = `${ETCD_FILES.etcdctl} --endpoints=https://127.0.0.1:2379 --cacert=${env.ETCDCTL_CACERT} --cert=${env.ETCDCTL_CERT} --key=${env.ETCDCTL_KEY}`;
    // Values as the apiserver stores them: the provider's prefix, then ciphertext (any bytes, newlines and quotes too).
    const put = async (key: string, value: string) => {
      const r = await d.sh('m1', `printf '${value}' | ${etcdctl} put /registry/secrets/${key}`);
      expect([key, r.code, r.stderr]).toEqual([key, 0, '']);
    };
    await put('default/a', 'k8s:enc:secretbox:v1:key-20261207-new1:\\001\\n\\377"\\047x');
    await put('default/b', 'k8s:enc:secretbox:v1:key-20261207-new1:\\000\\000');
    await put('kube-system/c', 'k8s:enc:secretbox:v1:key-20250101-old1:\\200:');
    await put('kube-system/d', 'k8s\\000\\012\\013v1\\022\\006Secret');
    // Not a Secret: another resource whose name starts the same.
    expect((await d.sh('m1', `printf 'k8s:enc:secretbox:v1:key-x:y' | ${etcdctl} put /registry/secretsx/e`)).code).toBe(0);
    const count = await d.sh('m1', secretKeysCommand());
    expect([count.code, count.stdout.trim().split('\n').map((l) => l.trim())]).toEqual([0, ['1 identity', '1 secretbox:key-20250101-old1', '2 secretbox:key-20261207-new1']]);
    const mixed = await d.sh('m1', secretKeysCommand('key-20261207-new1'));
    expect(mixed.code).toBe(1);
    for (const key of ['kube-system/c', 'kube-system/d']) await put(key, 'k8s:enc:secretbox:v1:key-20261207-new1:z');
    const done = await d.sh('m1', secretKeysCommand('key-20261207-new1'));
    expect([done.code, done.stdout.trim()]).toEqual([0, '4 secretbox:key-20261207-new1']);
    // etcd unreachable is a failure, never an empty count.
    await d.stopMember('m1');
    const down = await d.sh('m1', secretKeysCommand('key-20261207-new1'));
    expect(down.code).not.toBe(0);
    d.startMember('m1');
    await d.waitHealthy('m1', 'https://10.77.1.11:2379');
  });
});
