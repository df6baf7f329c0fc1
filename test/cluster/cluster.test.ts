/**
 * The seed topology booted for real (issue #11): the seed's Kubernetes, etcd, containerd and flannel built
 * from Go modules by scripts/build-components.sh, nginx/keepalived/containerd/runc from Debian. Every
 * host is a network namespace with one shared mount namespace showing its bundle at the install
 * paths (boot.ts); every program starts with its unit's command line and environment. The only
 * differences from the emitted files are SANDBOX in definition.ts.
 *
 * In order, each test needing the previous ones:
 *  a. control plane: etcd members, apiservers, the VIP + nginx L4 port with dist/admin.kubeconfig,
 *     leader leases, the API through the VIP with one apiserver stopped;
 *  b. addons: server-side apply of dist/addons, every object stored, a second apply changes nothing;
 *     the authorization matrix;
 *  c. nodes join: containerd + kubelet bootstrap on nodes and masters, CSRs auto-approved, Nodes Ready with
 *     their InternalIP and a podCIDR, masters tainted; flanneld (Kubernetes subnet manager) on each taking
 *     its Node's podCIDR; the kubelet's client certificate from the cluster CA, the kubelet API from the
 *     apiserver, kube-proxy rules, the roll-out's node-role labels;
 *  d. pods run: pause and CoreDNS images built from Go modules and imported, CoreDNS Ready, cluster DNS,
 *     pod to pod across nodes over vxlan, a Service by name, apiservers reaching pods;
 *  e. day 2: Secrets encrypted at rest, etcd refusing the node's credentials, a re-issued certificate rolled out
 *     with 0 failed requests, a restore of a snapshot taken before an encryption-key rotation;
 *  f. upgrades with the compiled roll-out: a patch release, then a minor.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import {
  CERT_CHECK, CONTAINERD_FILES, CONTAINERD_SOCKET, ETCD_FILES, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, KUBE_PROXY, KUBE_SCHEDULER, KUBELET,
} from '../../hosts';
import { NODE_ROLE_LABELS, PATHS } from '../../lib/model';
import { rolloutSteps } from '../../lib/components';
import {
  apiserverVersionCommand, drainFlags, etcdHealthCommand, healthCheck, healthChecks, nodeRoleLabelCommand, RESTORE_ENCRYPTION, restoreSteps,
  secretKeysCommand,
  SNAPSHOT_COMMAND, UPGRADE_PATHS,
} from '../../lib/output';
import { ObservedVersions, skewViolations, UpgradePlan } from '../../lib/upgrade';
import { withChanges } from '../support/clusters';
import {
  certPath, ClusterPki, loadSecrets, SECRETS_FILE, StateStore, withEncryptionKeyStep,
} from '../../lib/pki';
import { apiWatchers } from '../../lib/addons';
import { synthBundles } from '../support/synth-bundles';
import { COMPONENT_PROGRAMS, requireComponents } from '../support/components';
import { ComponentVersions, componentVersionsOf, seedComponentVersions } from '../../scripts/component-versions';
import { cleanupHostViews } from '../support/host-view';
import { addressesOf, cleanupAll } from '../support/netns';
import { parseEnvironmentFile, Proc, RunResult, stop, stopAll } from '../support/processes';
import { describeIf, NGINX_STREAM_MODULE, placeProgram, requireFile, requirePrograms, requireRoot } from '../support/programs';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { cleanupTempDirs } from '../support/tmp';
import { flagsOf, parseUnit, stopTimeoutMs, unitCommand } from '../support/units';
import { waitFor } from '../support/wait';
import {
  BootedHosts, bootHosts, DEBIAN_AT, cgroupRootOf, kubeletHosts, packagedUnit, SANDBOX_EDITED, sandboxFiles, UNITS,
} from './boot';
import { BOOT_CLUSTER, MINORS_BEFORE_LAST, PATCH_STEP, SANDBOX, UPGRADE_PATH } from './definition';
import { removeCgroups } from './cgroups';
import { restoreKernelTunables, saveKernelTunables } from './kernel-tunables';
import { ImageSpec, writeOciArchive } from './oci';

/** Free space the boot needs on the nodes' filesystem: the eviction threshold plus the suite's images and logs. */
const NEEDED_FREE_GIB = 8;

const tools = requirePrograms(
  ['nginx', 'keepalived', 'ctr', 'runc', 'iptables', 'iptables-save', 'iptables-restore', 'conntrack',
    'openssl', 'ip', 'sysctl', 'nsenter', 'unshare', 'mount'],
  [requireRoot(), requireFile(NGINX_STREAM_MODULE, 'libnginx-mod-stream')],
);
/** The suite boots the release before the seed's minor (definition.ts UPGRADE_PATH), and upgrades it in stage f. */
const BOOT_V = componentVersionsOf(BOOT_CLUSTER);
const SEED_V = seedComponentVersions();
const RUN = Object.keys(COMPONENT_PROGRAMS).filter((p) => p !== 'config-fields');
const comp = requireComponents(RUN, BOOT_V);
const seedComp = requireComponents(RUN, SEED_V);
const { KUBERNETES_VERSION: SEED_VERSION, ETCD_VERSION, CONTAINERD_VERSION } = BOOT_V;

/** Bounds, printed with the measured times. */
const BOUND = {
  etcdHealthy: 60000,
  apiserverReady: 120000,
  vip: 30000,
  leases: 90000,
  nodeJoin: 180000,
  proxyRules: 90000,
  flannel: 60000,
  pods: 180000,
};

describeIf(tools.ok && comp.ok && seedComp.ok)(`the seed topology booted from its bundles (Kubernetes ${SEED_VERSION}, etcd ${ETCD_VERSION}, containerd ${CONTAINERD_VERSION}), upgraded to ${SEED_V.KUBERNETES_VERSION}`, () => {
  jest.setTimeout(300000);
  let b: BootedHosts;
  let logDir: string;
  let distDir: string;
  const procs = new Map<string, Proc>();
  /** flanneld started on a node before its kubelet (a first boot): systemd would restart it until it succeeds. */
  const FIRST_TRY = 'flanneld-first-try';
  /** Which stages passed: a later test needs the earlier ones and says so instead of timing out again. */
  const passed = new Set<string>();
  const needs = (stage: string) => {
    if (!passed.has(stage)) throw new Error(`needs stage "${stage}", which failed (see above)`);
  };

  beforeAll(async () => {
    // The kubelets evict and refuse pods below their hard thresholds (definition.ts SANDBOX.kubeletConfig), measured
    // on the filesystem that holds the nodes' roots; the suite's images and logs take a few GiB more: say so first
    // rather than time out waiting for pods.
    const fsStats = fs.statfsSync(os.tmpdir());
    const freeGiB = (fsStats.bavail * fsStats.bsize) / 2 ** 30;
    if (freeGiB < NEEDED_FREE_GIB) {
      throw new Error(`only ${freeGiB.toFixed(1)} GiB of the filesystem under ${os.tmpdir()} is available; the suite needs ${NEEDED_FREE_GIB} GiB (the kubelets refuse pods below ${SANDBOX.kubeletConfig.evictionHard['imagefs.available']}): free some space first`);
    }
    logDir = makeTempDir('cluster-logs');
    b = await bootHosts(comp, logDir, 'boot');
    distDir = path.join(b.c.s.dir, 'dist');
  });

  afterAll(async () => {
    // Nodes first (kubelet before containerd), then the control plane; etcd last, followers before the leader.
    const order = ['kube-proxy', 'kubelet', 'flanneld', 'containerd', 'keepalived', 'nginx', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
    for (const kind of order) {
      for (const [name, p] of procs) if (name.endsWith(`-${kind}`)) await stop(p, { graceMs: kind === 'etcd' ? 15000 : 10000 }).catch(() => undefined);
    }
    await stopAll({ graceMs: 5000 }).catch(() => undefined);
    try {
      cleanupAll();
    } finally {
      const restored = restoreKernelTunables();
      if (restored.length > 0) console.log(`kernel settings the kubelets changed, restored: ${restored.join(', ')}`);
      if (b) removeCgroups(kubeletHosts(b.c).map((n) => cgroupRootOf('boot', n)));
      cleanupHostViews();
      if (process.env.KS_KEEP_TMP !== '1') {
        removeTempDirs();
        cleanupTempDirs();
      } else {
        console.log(`KS_KEEP_TMP=1: logs in ${logDir}`);
      }
    }
  });

  const model = () => b.c.model;
  const masters = () => model().masters.map((h) => h.name);
  const nodes = () => model().nodes.map((h) => h.name);
  const lbHosts = () => model().lbHosts.map((h) => h.name);
  const kubectlBin = () => comp.path('kubectl');
  const ctr = (n: string, args: string[]) =>
    b.exec(n, ['ctr', `--address=${CONTAINERD_SOCKET.replace('unix://', '')}`, '--namespace=k8s.io', ...args], { timeoutMs: 120000 });

  /** Imports images into every node's containerd (no registry is reachable) and checks they are listed. */
  async function importImages(images: readonly ImageSpec[]): Promise<void> {
    for (const img of images) {
      const file = path.join(logDir, `${img.name.replace(/[^A-Za-z0-9.-]/g, '_')}.oci.tar`);
      if (!fs.existsSync(file)) await writeOciArchive(img, file);
      for (const n of nodes()) {
        const r = await ctr(n, ['images', 'import', '--no-unpack=false', file]);
        expect([n, img.name, r.code, r.stderr.trim()]).toEqual([n, img.name, 0, '']);
      }
    }
    for (const n of nodes()) {
      const listed = (await ctr(n, ['images', 'ls', '-q'])).stdout.split('\n');
      for (const img of images) expect([n, listed.includes(img.name)]).toEqual([n, true]);
    }
  }

  /** A release's pause and CoreDNS images, from its own builds. */
  function releaseImages(v: ComponentVersions): ImageSpec[] {
    const c = requireComponents(['pause', 'coredns'], v);
    return [
      { name: v.PAUSE_IMAGE, binaries: { '/pause': c.path('pause') }, entrypoint: ['/pause'] },
      { name: v.COREDNS_IMAGE, binaries: { '/coredns': c.path('coredns') }, entrypoint: ['/coredns'] },
    ];
  }

  async function startUnit(host: string, unitPath: string, extraArgs: string[] = []): Promise<Proc> {
    const name = `${host}-${path.basename(unitPath, '.service')}`;
    const p = await b.startUnit(host, unitPath, { extraArgs, name });
    procs.set(name, p);
    return p;
  }

  /** systemd's stop of a unit as installed on a host: SIGTERM, then SIGKILL after the unit's TimeoutStopSec. */
  function stopUnit(host: string, unit: string, p: Proc) {
    return stop(p, { graceMs: stopTimeoutMs(parseUnit(fs.readFileSync(b.c.file(host, UNITS.component(unit)), 'utf8'))) });
  }

  /** kubectl with dist/admin.kubeconfig as shipped, run from a node's namespace (the VIP is on the LAN). */
  function kubectl(args: string[], opts: { host?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const host = opts.host ?? nodes()[1];
    return b.exec(host, [kubectlBin(), `--kubeconfig=${path.join(distDir, 'admin.kubeconfig')}`, '--request-timeout=20s', ...args], {
      timeoutMs: opts.timeoutMs ?? 60000, input: opts.input,
    });
  }
  async function kubectlOk(args: string[], opts: { host?: string; input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }
  async function getJson<T = any>(args: string[]): Promise<T> {
    return JSON.parse(await kubectlOk([...args, '-o', 'json']));
  }

  function etcdctl(host: string, args: string[]): Promise<RunResult> {
    return b.exec(host, [comp.path('etcdctl'), '--dial-timeout=2s', '--command-timeout=5s', ...args], {
      // The member's own etcdctl settings, from the etcdctl.env its bundle gives operators.
      env: { PATH: '/usr/bin:/bin', ...parseEnvironmentFile(fs.readFileSync(b.c.file(host, ETCD_FILES.etcdctlEnvironment), 'utf8')) },
    });
  }

  // ------------------------------------------------------------------ a
  describe('a. control plane', () => {
    test(`3 etcd ${ETCD_VERSION} members from etcd.service get healthy`, async () => {
      const t0 = Date.now();
      for (const h of model().etcdMembers) await startUnit(h.name, UNITS.etcd);
      const first = model().etcdMembers[0].name;
      await waitFor(async () => (await etcdctl(first, ['endpoint', 'health', '--cluster'])).code === 0, {
        what: 'every etcd member healthy', timeoutMs: BOUND.etcdHealthy, intervalMs: 1000, proc: procs.get(`${first}-etcd`),
      });
      console.log(`etcd: ${model().etcdMembers.length} members healthy ${Date.now() - t0} ms after start (bound ${BOUND.etcdHealthy} ms)`);
      const status = await etcdctl(first, ['endpoint', 'status', '--cluster', '-w', 'json']);
      const versions = (JSON.parse(status.stdout.replace(/:(\d{16,})/g, ':"$1"')) as { Status: { version: string } }[]).map((s) => s.Status.version);
      expect(versions).toHaveLength(3);
      for (const v of versions) expect(v).toBe(ETCD_VERSION.slice(1));
      passed.add('etcd');
    });

    test('both apiservers answer /readyz; controller-manager and scheduler start on both masters', async () => {
      needs('etcd');
      const t0 = Date.now();
      for (const m of masters()) await startUnit(m, UNITS.component(KUBE_APISERVER.unit));
      for (const m of masters()) {
        await waitFor(async () => (await b.exec(m, [kubectlBin(), `--kubeconfig=/opt/kubernetes/cfg/admin.kubeconfig`, 'get', '--raw', '/readyz'], { timeoutMs: 15000 })).stdout.trim() === 'ok', {
          what: `${m}'s apiserver /readyz`, timeoutMs: BOUND.apiserverReady, intervalMs: 1000, proc: procs.get(`${m}-kube-apiserver`),
        });
      }
      console.log(`kube-apiserver: both /readyz ok ${Date.now() - t0} ms after start (bound ${BOUND.apiserverReady} ms)`);
      // Each readyz answered by that master's own apiserver: its admin.kubeconfig points at 127.0.0.1.
      for (const m of masters()) {
        const kc = parse(fs.readFileSync(b.c.file(m, '/opt/kubernetes/cfg/admin.kubeconfig'), 'utf8'));
        expect(kc.clusters[0].cluster.server).toBe(`https://127.0.0.1:${model().apiServerPort}`);
      }
      for (const m of masters()) {
        await startUnit(m, UNITS.component(KUBE_CONTROLLER_MANAGER.unit));
        await startUnit(m, UNITS.component(KUBE_SCHEDULER.unit));
      }
      passed.add('apiservers');
    });

    test(`nginx + keepalived on the lb pair: kubectl with dist/admin.kubeconfig through the VIP gets /readyz and ${SEED_VERSION}`, async () => {
      needs('apiservers');
      const nginxUnit = packagedUnit('nginx.service');
      const keepalivedUnit = packagedUnit('keepalived.service');
      for (const h of lbHosts()) {
        // The package's unit as systemd runs it, in the foreground so the PID is tracked (systemd reads PIDFile).
        const u = unitCommand('/', nginxUnit);
        const pre = await b.exec(h, u.pre[0].argv, { env: u.env });
        expect([h, pre.code, pre.stderr]).toEqual([h, 0, '']);
        const argv = u.argv.map((a) => a.replace('daemon on;', 'daemon off;'));
        procs.set(`${h}-nginx`, b.view(h).start(argv, { name: `${h}-nginx`, env: u.env }));
      }
      const t0 = Date.now();
      for (const h of lbHosts()) {
        const u = unitCommand('/', keepalivedUnit);
        procs.set(`${h}-keepalived`, b.view(h).start([...u.argv, '--log-console', '--log-detail'], { name: `${h}-keepalived`, env: u.env }));
      }
      const vip = model().loadBalancer!.vip;
      const holder = lbHosts()[0];
      await waitFor(() => addressesOf(b.net.nsOf(holder), model().host(holder).interface).includes(vip), {
        what: `the VIP ${vip} on ${holder}`, timeoutMs: BOUND.vip, proc: procs.get(`${holder}-keepalived`),
      });
      console.log(`keepalived: VIP on ${holder} ${Date.now() - t0} ms after start (bound ${BOUND.vip} ms)`);
      const kc = parse(fs.readFileSync(path.join(distDir, 'admin.kubeconfig'), 'utf8'));
      expect(kc.clusters[0].cluster.server).toBe(`https://${vip}:${model().loadBalancer!.port}`);
      expect((await kubectlOk(['get', '--raw', '/readyz'])).trim()).toBe('ok');
      const version = JSON.parse(await kubectlOk(['version', '-o', 'json']));
      expect(version.serverVersion.gitVersion).toBe(SEED_VERSION);
      expect(version.clientVersion.gitVersion).toBe(SEED_VERSION);
      // nginx's access log on the VIP holder shows the node's connection.
      const accessLog = fs.readFileSync(b.c.file(holder, '/var/log/nginx/k8s-access.log'), 'utf8');
      expect(accessLog).toContain(model().host(nodes()[1]).ip);
      passed.add('vip');
    });

    test('one controller-manager and one scheduler hold their leader Leases', async () => {
      needs('vip');
      const t0 = Date.now();
      for (const lease of ['kube-controller-manager', 'kube-scheduler']) {
        const holder = await waitFor(async () => {
          const l = await getJson(['-n', 'kube-system', 'get', 'lease', lease]);
          const renew = Date.parse(l.spec.renewTime);
          return l.spec.holderIdentity && Date.now() - renew < 30000 ? String(l.spec.holderIdentity) : undefined;
        }, { what: `the ${lease} leader Lease to be held and renewed`, timeoutMs: BOUND.leases, intervalMs: 2000 });
        console.log(`${lease}: leader ${holder} (${Date.now() - t0} ms)`);
      }
      for (const m of masters()) {
        for (const c of ['kube-controller-manager', 'kube-scheduler']) expect([m, c, procs.get(`${m}-${c}`)!.isRunning()]).toEqual([m, c, true]);
      }
      passed.add('leases');
    });

    test('with one master\'s apiserver stopped, the API is still served through the VIP', async () => {
      needs('vip');
      const down = masters()[0];
      await stop(procs.get(`${down}-kube-apiserver`)!, { graceMs: 15000 });
      try {
        for (let i = 0; i < 6; i++) {
          const r = await kubectl(['get', '--raw', '/readyz']);
          expect([i, r.code, r.stdout.trim()]).toEqual([i, 0, 'ok']);
          expect((await kubectlOk(['get', 'namespace', 'kube-system', '-o', 'name'])).trim()).toBe('namespace/kube-system');
        }
      } finally {
        await startUnit(down, UNITS.component(KUBE_APISERVER.unit));
      }
      await waitFor(async () => (await b.exec(down, [kubectlBin(), `--kubeconfig=/opt/kubernetes/cfg/admin.kubeconfig`, 'get', '--raw', '/readyz'], { timeoutMs: 15000 })).stdout.trim() === 'ok', {
        what: `${down}'s apiserver back`, timeoutMs: BOUND.apiserverReady, intervalMs: 1000, proc: procs.get(`${down}-kube-apiserver`),
      });
      passed.add('control-plane');
    });
  });

  // ------------------------------------------------------------------ b
  describe('b. addons', () => {
    /** Every object of dist/addons: kind, namespace, name. */
    function addonObjects(): { kind: string; apiVersion: string; namespace?: string; name: string }[] {
      const dir = path.join(distDir, 'addons');
      return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) =>
        parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()).filter(Boolean).map((o: any) => ({
          kind: o.kind, apiVersion: o.apiVersion, namespace: o.metadata.namespace, name: o.metadata.name,
        })));
    }

    test('kubectl apply --server-side -f dist/addons succeeds; every object is stored; a second (server dry-run) apply changes nothing', async () => {
      needs('control-plane');
      const addons = path.join(distDir, 'addons');
      const applied = await kubectl(['apply', '--server-side', '-f', addons], { timeoutMs: 120000 });
      expect([applied.code, applied.stderr.trim()]).toEqual([0, '']);
      const objects = addonObjects();
      expect(objects.length).toBeGreaterThan(20);
      // kubectl get -f exits non-zero if any object of the files is missing.
      const stored = (await kubectlOk(['get', '-f', addons, '-o', 'name'])).trim().split('\n');
      expect(stored).toHaveLength(objects.length);
      // A second apply, as a server-side dry run, would change nothing: objects with a spec keep their generation,
      // the others their resourceVersion (controllers' status writes move a Deployment's resourceVersion, not its generation).
      // Controllers still settle what was just created (the PV binder writes the PVs and PVCs), so the pair
      // "dry-run apply, then read" is repeated until nothing moved in between (bounded); a real change repeats every time.
      const version = (list: any) => (list.items ?? [list]).map((o: any) =>
        `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name} ${o.metadata.generation !== undefined ? `generation ${o.metadata.generation}` : `resourceVersion ${o.metadata.resourceVersion}`}`);
      let last: { wouldBe: string[]; current: string[] } | undefined;
      const same = await waitFor(async () => {
        const again = await kubectl(['apply', '--server-side', '--dry-run=server', '-f', addons, '-o', 'json'], { timeoutMs: 120000 });
        expect([again.code, again.stderr.trim()]).toEqual([0, '']);
        last = { wouldBe: version(JSON.parse(again.stdout)), current: version(await getJson(['get', '-f', addons])) };
        return JSON.stringify(last.wouldBe) === JSON.stringify(last.current);
      }, { what: 'a server dry-run apply that changes nothing', timeoutMs: 60000, intervalMs: 3000 }).catch(() => false);
      expect(same ? [] : last!.wouldBe.filter((v, i) => v !== last!.current[i])).toEqual([]);
      expect(last!.current).toHaveLength(objects.length);
      const diff = await kubectl(['diff', '--server-side', '-f', addons], { timeoutMs: 120000 });
      expect([diff.code, diff.stdout, diff.stderr]).toEqual([0, '', '']);
      passed.add('addons');
    });

    test('authorization matrix: anonymous nothing; bootstrappers their CSRs only; a node no unrelated Secret; the apiserver\'s kubelet client the kubelet API', async () => {
      needs('addons');
      const token = parse(fs.readFileSync(b.c.file(nodes()[0], KUBELET.bootstrapKubeconfig), 'utf8')).users[0].user.token as string;
      const bootstrapUser = `system:bootstrap:${token.split('.')[0]}`;
      const kubeletClientCert = certPath('apiserver-kubelet-client');
      /**
       * One SubjectAccessReview, created as the admin: the apiserver's own answer (Node authorizer, then RBAC) for
       * that user and those groups. (SelfSubjectAccessReview through impersonation would not do for anonymous:
       * system:anonymous may not even create one.)
       */
      interface Who { readonly user: string; readonly groups: readonly string[] }
      interface Attrs { verb: string; resource: string; subresource?: string; group?: string; namespace?: string; name?: string }
      const can = async (who: Who, a: Attrs): Promise<string> => {
        const review = {
          apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
          spec: { user: who.user, groups: who.groups, resourceAttributes: { group: a.group ?? '', ...a } },
        };
        const out = JSON.parse(await kubectlOk(['create', '-f', '-', '-o', 'json'], { input: JSON.stringify(review) }));
        return out.status.allowed ? 'yes' : 'no';
      };
      const anonymous: Who = { user: 'system:anonymous', groups: ['system:unauthenticated'] };
      const bootstrapper: Who = { user: bootstrapUser, groups: ['system:bootstrappers', 'system:authenticated'] };
      const node: Who = { user: `system:node:${nodes()[0]}`, groups: ['system:nodes', 'system:authenticated'] };
      // The identity in the apiserver's --kubelet-client-certificate as installed on a master.
      const subject = certSubject(b.c.file(masters()[0], kubeletClientCert));
      const apiserver: Who = { user: subject.CN[0], groups: [...(subject.O ?? []), 'system:authenticated'] };
      const secret = `bootstrap-token-${token.split('.')[0]}`;
      const csr = { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' };
      const matrix: [string, Who, Attrs, string][] = [
        ['anonymous', anonymous, { verb: 'get', resource: 'pods' }, 'no'],
        ['anonymous', anonymous, { verb: 'list', resource: 'secrets', namespace: 'kube-system' }, 'no'],
        ['anonymous', anonymous, { verb: 'create', ...csr }, 'no'],
        ['anonymous', anonymous, { verb: 'get', resource: 'namespaces' }, 'no'],
        ['anonymous', anonymous, { verb: '*', group: '*', resource: '*' }, 'no'],
        ['bootstrapper', bootstrapper, { verb: 'create', ...csr }, 'yes'],
        ['bootstrapper', bootstrapper, { verb: 'get', ...csr }, 'yes'],
        ['bootstrapper', bootstrapper, { verb: 'list', ...csr }, 'yes'],
        ['bootstrapper', bootstrapper, { verb: 'create', ...csr, subresource: 'nodeclient' }, 'yes'],
        ['bootstrapper', bootstrapper, { verb: 'update', ...csr, subresource: 'approval' }, 'no'],
        ['bootstrapper', bootstrapper, { verb: 'delete', ...csr }, 'no'],
        ['bootstrapper', bootstrapper, { verb: 'get', resource: 'secrets', namespace: 'kube-system', name: secret }, 'no'],
        ['bootstrapper', bootstrapper, { verb: 'get', resource: 'nodes' }, 'no'],
        ['bootstrapper', bootstrapper, { verb: 'create', resource: 'pods', namespace: 'default' }, 'no'],
        ['node', node, { verb: 'get', resource: 'secrets', namespace: 'kube-system', name: secret }, 'no'],
        ['node', node, { verb: 'list', resource: 'secrets', namespace: 'kube-system' }, 'no'],
        ['node', node, { verb: 'get', resource: 'nodes', name: nodes()[0] }, 'yes'],
        ['apiserver kubelet client', apiserver, { verb: 'get', resource: 'nodes', subresource: 'proxy', name: nodes()[0] }, 'yes'],
        ['apiserver kubelet client', apiserver, { verb: 'create', resource: 'nodes', subresource: 'proxy', name: nodes()[0] }, 'yes'],
        ['apiserver kubelet client', apiserver, { verb: 'get', resource: 'nodes', subresource: 'log', name: nodes()[0] }, 'yes'],
        ['apiserver kubelet client', apiserver, { verb: 'get', resource: 'nodes', subresource: 'stats', name: nodes()[0] }, 'yes'],
        ['apiserver kubelet client', apiserver, { verb: 'get', resource: 'secrets', namespace: 'kube-system' }, 'no'],
      ];
      const show = (who: string, a: Attrs) => `${who}: ${a.verb} ${a.group ? `${a.group}/` : ''}${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` -n ${a.namespace}` : ''}`;
      const got: string[] = [];
      for (const [who, w, a] of matrix) got.push(`${show(who, a)} → ${await can(w, a)}`);
      expect(got).toEqual(matrix.map(([who, , a, want]) => `${show(who, a)} → ${want}`));
      passed.add('authz');
    });
  });

  // ------------------------------------------------------------------ c
  describe('c. nodes join', () => {
    test('containerd and kubelet (nodes and masters) bootstrap with the bundle\'s bootstrap kubeconfig; CSRs approved automatically; Nodes register with their InternalIP, masters tainted, each with a podCIDR', async () => {
      needs('authz');
      const t0 = Date.now();
      const hosts = kubeletHosts(b.c);
      expect(hosts).toEqual([...new Set([...masters(), ...nodes()])]);
      // A host's first boot starts flanneld before its Node exists: it must fail, so that Restart=on-failure retries.
      const early = nodes()[1];
      procs.set(FIRST_TRY, await b.startUnit(early, UNITS.flanneld, { name: FIRST_TRY }));
      for (const n of hosts) {
        const ctr = await startUnit(n, UNITS.containerd);
        await waitFor(() => fs.existsSync(b.c.file(n, '/run/containerd/containerd.sock')), { what: `${n}'s containerd socket`, timeoutMs: 30000, proc: ctr });
        expect(fs.existsSync(b.c.file(n, KUBELET.kubeconfig))).toBe(false);
        saveKernelTunables(); // the kubelet changes machine-wide settings (kernel-tunables.ts)
        await startUnit(n, UNITS.component(KUBELET.unit));
      }
      const podCidrs = new Map<string, string>();
      for (const n of hosts) {
        const node = await waitFor(async () => {
          const r = await kubectl(['get', 'node', n, '-o', 'json']);
          const x = r.code === 0 ? JSON.parse(r.stdout) : undefined;
          // The controller-manager (--allocate-node-cidrs) gives each Node its podCIDR right after it registers.
          return x?.spec.podCIDR ? x : undefined;
        }, { what: `Node ${n} to register and get a podCIDR`, timeoutMs: BOUND.nodeJoin, intervalMs: 2000, proc: procs.get(`${n}-kubelet`) });
        const internal = node.status.addresses.filter((a: any) => a.type === 'InternalIP').map((a: any) => a.address);
        expect([n, internal]).toEqual([n, [model().host(n).ip]]);
        expect([n, node.status.nodeInfo.kubeletVersion, node.status.nodeInfo.containerRuntimeVersion]).toEqual([n, SEED_VERSION, `containerd://${CONTAINERD_VERSION.slice(1)}`]);
        const taints = (node.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`);
        const isMaster = model().host(n).has('master');
        expect([n, taints.includes('node-role.kubernetes.io/control-plane:NoSchedule')]).toEqual([n, isMaster]);
        expect([n, node.spec.podCIDR]).toEqual([n, expect.stringMatching(/^172\.20\.\d+\.0\/24$/)]);
        podCidrs.set(n, node.spec.podCIDR);
      }
      expect(new Set(podCidrs.values()).size).toBe(hosts.length);
      // Ready: containerd found flannel's CNI config, the kubelet its runtime.
      for (const n of hosts) {
        await waitFor(async () => {
          const node = await getJson(['get', 'node', n]);
          return node.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True');
        }, { what: `Node ${n} Ready`, timeoutMs: 60000, intervalMs: 2000, proc: procs.get(`${n}-kubelet`) });
      }
      console.log(`kubelet: ${hosts.join(', ')} registered with podCIDRs ${[...podCidrs.values()].join(', ')} ${Date.now() - t0} ms after start (bound ${BOUND.nodeJoin} ms)`);
      const csrs = (await getJson(['get', 'csr'])).items as any[];
      const token = parse(fs.readFileSync(b.c.file(nodes()[0], KUBELET.bootstrapKubeconfig), 'utf8')).users[0].user.token as string;
      for (const n of hosts) {
        const mine = csrs.filter((c) => c.spec.username === `system:bootstrap:${token.split('.')[0]}` && Buffer.from(c.spec.request, 'base64').toString().length > 0)
          .filter((c) => decodeCsrSubject(c.spec.request).includes(`CN=system:node:${n}`) || decodeCsrSubject(c.spec.request).includes(`CN = system:node:${n}`));
        expect([n, mine.length]).toEqual([n, 1]);
        const csr = mine[0];
        expect(csr.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
        expect(csr.status.conditions.map((c: any) => `${c.type} ${c.status} ${c.reason}`)).toEqual(['Approved True AutoApproved']);
        expect(csr.status.certificate).toBeTruthy();
      }
      passed.add('nodes');
    });

    test('the roll-out\'s node-role labels: each Node labelled with its host\'s roles; a wrong one taken away; a second run changes nothing', async () => {
      needs('nodes');
      // As deploy.sh and site.yml run it: in dist/, with its admin.kubeconfig, from the operator's side of the VIP.
      const label = () => b.exec(nodes()[1], ['bash', '-c', `cd ${distDir} && ${nodeRoleLabelCommand(model())}`],
        { env: { PATH: '/usr/bin:/bin', KUBECTL: kubectlBin() }, timeoutMs: 120000 });
      const roles = async () => Object.fromEntries((await getJson(['get', 'nodes'])).items.map((n: any) => [n.metadata.name,
        Object.keys(n.metadata.labels).filter((k) => k.startsWith('node-role.kubernetes.io/')).sort()]));
      const want = Object.fromEntries(kubeletHosts(b.c).map((n) => [n, (['master', 'node'] as const)
        .filter((r) => model().hosts.find((h) => h.name === n)!.has(r)).map((r) => NODE_ROLE_LABELS[r]).sort()]));
      // A label the host's roles do not give (as after a demotion) is taken away.
      await kubectlOk(['label', 'node', nodes()[0], `${NODE_ROLE_LABELS.master}=`]);
      const first = await label();
      expect([first.code, first.stderr]).toEqual([0, expect.anything()]);
      // kubectl says "labeled" or "modified" for a Node it changed, and "label ... not found." for one it need not take away.
      const results = (r: RunResult) => r.stdout.trim().split('\n').filter((l) => !/^label "[^"]+" not found\.$/.test(l)).map((l) => l.replace(/^node\/\S+ /, ''));
      expect(results(first)).toEqual(kubeletHosts(b.c).map(() => expect.stringMatching(/^(labeled|modified)$/)));
      expect(await roles()).toEqual(want);
      const again = await label();
      expect([again.code, results(again)]).toEqual([0, kubeletHosts(b.c).map(() => 'not labeled')]);
      const shown = await kubectlOk(['get', 'nodes', '--no-headers']);
      console.log(`node roles as kubectl shows them:\n${shown.trim()}`);
    });

    test('flanneld on every node and master takes its Node\'s podCIDR (Kubernetes subnet manager), writes subnet.env; etcd holds no flannel state', async () => {
      needs('nodes');
      const t0 = Date.now();
      // Every host whose bundle has flanneld.service: the nodes and (for the apiservers' sake) the masters.
      const flannelHosts = model().hosts.map((h) => h.name).filter((h) => fs.existsSync(b.c.file(h, UNITS.flanneld)));
      expect(flannelHosts).toEqual(kubeletHosts(b.c));
      const firstTry = procs.get(FIRST_TRY)!;
      await waitFor(() => !firstTry.isRunning(), { what: 'flanneld started before its Node existed to give up', timeoutMs: BOUND.flannel });
      expect(firstTry.exitInfo()!.code).not.toBe(0);
      console.log(`flanneld before its Node had a podCIDR: exit ${firstTry.exitInfo()!.code}: ${firstTry.stderr().split('\n').filter((l) => /^[EF]\d{4} /.test(l)).pop() ?? ''}`);
      for (const n of flannelHosts) {
        // systemd-sysctl at boot: the bundle's sysctl.d (net.* keys: per network namespace), on the hosts that have one.
        const sysctl = b.c.file(n, '/etc/sysctl.d/99-kubernetes.conf');
        if (fs.existsSync(sysctl)) {
          const r = await b.exec(n, ['sysctl', '-p', sysctl]);
          expect([n, r.code, r.stderr]).toEqual([n, 0, '']);
        }
        await startUnit(n, UNITS.flanneld);
      }
      const subnets = new Map<string, string>();
      for (const n of flannelHosts) {
        const env = await waitFor(() => {
          const f = b.c.file(n, '/run/flannel/subnet.env');
          return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined;
        }, { what: `${n}'s /run/flannel/subnet.env`, timeoutMs: BOUND.flannel, proc: procs.get(`${n}-flanneld`) });
        expect(env).toContain(`FLANNEL_NETWORK=${model().network.podCidr.text}`);
        const subnet = /FLANNEL_SUBNET=(\S+)/.exec(env)![1];
        const node = await getJson(['get', 'node', n]);
        // The Node's podCIDR, its first address on the bridge.
        expect([n, subnet]).toEqual([n, node.spec.podCIDR.replace(/\.0\/24$/, '.1/24')]);
        subnets.set(n, subnet);
        const links = await b.exec(n, ['ip', '-o', 'link', 'show', 'flannel.1']);
        expect([n, links.code]).toEqual([n, 0]);
        // flanneld published this host's address and VTEP on its Node (nodes/status patch of kubesmith:flannel).
        await waitFor(async () => (await getJson(['get', 'node', n])).metadata.annotations?.['flannel.alpha.coreos.com/public-ip'] === model().host(n).ip, {
          what: `${n}'s flannel public-ip annotation`, timeoutMs: BOUND.flannel, intervalMs: 1000, proc: procs.get(`${n}-flanneld`),
        });
      }
      expect(new Set(subnets.values()).size).toBe(flannelHosts.length);
      const flannelKeys = await etcdctl(model().etcdMembers[0].name, ['get', '--prefix', '--keys-only', '/coreos.com/']);
      expect([flannelKeys.code, flannelKeys.stdout.trim()]).toEqual([0, '']);
      console.log(`flanneld: ${[...subnets].map(([n, s]) => `${n} ${s}`).join(', ')} ${Date.now() - t0} ms after start`);
      passed.add('flannel');
    });

    test('the kubelet\'s client certificate is signed by the cluster CA; the apiserver reaches the kubelet API with its kubelet client certificate', async () => {
      needs('nodes');
      for (const n of nodes()) {
        // A symlink the kubelet made, to an absolute path on the host: resolved inside the host's root.
        const cert = await waitFor(() => {
          const f = b.c.file(n, `${KUBELET.certDir}/kubelet-client-current.pem`);
          if (!fs.existsSync(f) && !fs.lstatSync(f, { throwIfNoEntry: false })?.isSymbolicLink()) return undefined;
          const target = fs.lstatSync(f).isSymbolicLink() ? b.c.file(n, fs.readlinkSync(f)) : f;
          return fs.existsSync(target) ? target : undefined;
        }, { what: `${n}'s kubelet-client-current.pem`, timeoutMs: 30000 });
        const ca = b.c.file(n, certPath('kubernetes-ca'));
        const v = spawnSync('openssl', ['verify', '-CAfile', ca, '-purpose', 'sslclient', cert], { encoding: 'utf8', timeout: 10000 });
        expect([n, v.status, v.stdout.trim()]).toEqual([n, 0, `${cert}: OK`]);
        // The key the kubelet generated is in the same file, and matches.
        const certKey = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-pubkey'], { encoding: 'utf8' }).stdout;
        const fileKey = spawnSync('openssl', ['pkey', '-in', cert, '-pubout'], { encoding: 'utf8' }).stdout;
        expect(certKey).toBe(fileKey);
        const subj = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' }).stdout.trim();
        expect(subj).toBe(`subject=CN=system:node:${n},O=system:nodes`);
        // The kubelet's own kubeconfig now uses that certificate.
        expect(fs.readFileSync(b.c.file(n, KUBELET.kubeconfig), 'utf8')).toContain(`${KUBELET.certDir}/kubelet-client-current.pem`);
        // apiserver → kubelet: authenticated by --kubelet-client-certificate, authorized by the kubelet's webhook (SubjectAccessReview).
        const health = await kubectl(['get', '--raw', `/api/v1/nodes/${n}/proxy/healthz`]);
        expect([n, health.code, health.stdout.trim(), health.stderr.trim()]).toEqual([n, 0, 'ok', '']);
      }
      // The audit policy at work: both apiservers logged request metadata (and never a Secret's data).
      const events: any[] = [];
      for (const m of masters()) {
        const audit = fs.readFileSync(b.c.file(m, KUBE_APISERVER.auditLog), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
        expect([m, audit.length > 10]).toEqual([m, true]);
        for (const e of audit) expect([m, e.kind, e.level, e.requestObject, e.responseObject]).toEqual([m, 'Event', 'Metadata', undefined, undefined]);
        events.push(...audit);
      }
      // The kubelets' CSRs went through one apiserver or the other.
      expect(events.some((e) => e.objectRef?.resource === 'certificatesigningrequests' && e.verb === 'create' && e.user.username.startsWith('system:bootstrap:'))).toBe(true);
      const apiFlags = flagsOf(b.unit(masters()[0], UNITS.component(KUBE_APISERVER.unit)).argv);
      expect(apiFlags.get('kubelet-client-certificate')).toBe(certPath('apiserver-kubelet-client'));
    });

    test('the certificate expiry check, run on every host as its timer runs it, finds every certificate valid, the kubelets\' own included', async () => {
      needs('nodes');
      for (const h of model().hosts) {
        const config = fs.readFileSync(b.c.file(h.name, CERT_CHECK.config), 'utf8');
        const listed = [...config.matchAll(/^cert name=(\S+) /gm)].map((m) => m[1]);
        // The metric file is left out: the host's view shares this machine's /var/lib.
        const r = await b.exec(h.name, ['bash', CERT_CHECK.script, '--config', CERT_CHECK.config, '--no-textfile'], { timeoutMs: 60000 });
        expect([h.name, r.code, r.stderr]).toEqual([h.name, 0, '']);
        const ok = [...r.stdout.matchAll(/^cert-check: OK (\S+) \S+ \((.*)\): (\d+) days left/gm)];
        expect([h.name, [...new Set(ok.map((m) => m[1]))]]).toEqual([h.name, listed]);
        if (kubeletHosts(b.c).includes(h.name)) {
          const client = ok.find((m) => m[1] === 'kubelet-client')!;
          // Signed by the controller-manager for its signing duration (a year), so far from its warning.
          expect([h.name, client[2], Number(client[3]) > 300]).toEqual([h.name, `CN=system:node:${h.name},O=system:nodes`, true]);
          expect([h.name, ok.find((m) => m[1] === 'kubelet-serving')?.[2]]).toEqual([h.name, expect.stringMatching(new RegExp(`^CN=${h.name}@\\d+$`))]);
        }
      }
    });

    test('kube-proxy starts and syncs its rules (iptables) for the kubernetes Service', async () => {
      needs('nodes');
      const t0 = Date.now();
      const hosts = kubeletHosts(b.c);
      for (const n of hosts) await startUnit(n, UNITS.component(KUBE_PROXY.unit));
      const svc = await getJson(['-n', 'default', 'get', 'service', 'kubernetes']);
      for (const n of hosts) {
        await waitFor(async () => {
          const r = await b.exec(n, ['iptables-save', '-t', 'nat']);
          return r.code === 0 && r.stdout.includes(`-d ${svc.spec.clusterIP}/32`) && /KUBE-SVC-\S+ -m comment --comment "default\/kubernetes:https/.test(r.stdout)
            && /KUBE-SEP-/.test(r.stdout);
        }, { what: `${n}'s kube-proxy rules for default/kubernetes ${svc.spec.clusterIP}`, timeoutMs: BOUND.proxyRules, intervalMs: 2000, proc: procs.get(`${n}-kube-proxy`) });
        const nat = (await b.exec(n, ['iptables-save', '-t', 'nat'])).stdout;
        for (const m of model().masters) expect([n, nat.includes(`--to-destination ${m.ip}:${model().apiServerPort}`)]).toEqual([n, true]);
        expect(procs.get(`${n}-kube-proxy`)!.stderr()).toMatch(/Using iptables Proxier/);
      }
      console.log(`kube-proxy: rules for ${svc.spec.clusterIP} on ${hosts.join(', ')} ${Date.now() - t0} ms after start`);
    });
  });

  // ------------------------------------------------------------------ d
  describe('d. pods run', () => {
    const NETCHECK_IMAGE = 'kubesmith.test/netcheck:1';

    test('the pause and CoreDNS images (built from Go modules) are imported under the manifests\' names; CoreDNS runs on the pod network', async () => {
      needs('flannel');
      // The names exactly as emitted: containerd's sandbox_image and the CoreDNS Deployment's image.
      const sandboxImage = /(?:sandbox_image|sandbox) = "([^"]+)"/.exec(fs.readFileSync(b.c.file(nodes()[0], CONTAINERD_FILES.config), 'utf8'))![1];
      const corednsDeployment = parseAllDocuments(fs.readFileSync(path.join(distDir, 'addons', '20-coredns.yaml'), 'utf8'))
        .map((d) => d.toJS()).find((o: any) => o?.kind === 'Deployment');
      const corednsImage = corednsDeployment.spec.template.spec.containers[0].image as string;
      expect([sandboxImage, corednsImage]).toEqual([BOOT_V.PAUSE_IMAGE, BOOT_V.COREDNS_IMAGE]);
      const images: ImageSpec[] = [
        { name: sandboxImage, binaries: { '/pause': comp.path('pause') }, entrypoint: ['/pause'] },
        { name: corednsImage, binaries: { '/coredns': comp.path('coredns') }, entrypoint: ['/coredns'] },
        { name: NETCHECK_IMAGE, binaries: { '/netcheck': comp.path('netcheck') }, entrypoint: ['/netcheck'] },
      ];
      await importImages(images);
      // The seed's, for stage f's addons (CoreDNS of its own release, built from its module).
      await importImages(releaseImages(SEED_V));
      // The CoreDNS pods created before the images existed back off; new ones start at once.
      await kubectlOk(['-n', 'kube-system', 'delete', 'pod', '-l', 'k8s-app=kube-dns', '--wait=false']);
      const t0 = Date.now();
      await waitFor(async () => {
        const d = await getJson(['-n', 'kube-system', 'get', 'deployment', 'coredns']);
        return d.status.readyReplicas === d.spec.replicas;
      }, { what: 'every CoreDNS replica Ready', timeoutMs: BOUND.pods, intervalMs: 2000 });
      console.log(`coredns: ready ${Date.now() - t0} ms after its pods were recreated`);
      const pods = (await getJson(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns'])).items as any[];
      for (const p of pods.filter((x) => x.status.phase === 'Running')) expect(p.status.podIP).toMatch(/^172\.20\./);
      passed.add('images');
    });

    test('a pod resolves kubernetes.default through the cluster DNS and reaches a pod on the other node over flannel\'s vxlan', async () => {
      needs('images');
      const [n1, n2] = nodes();
      const pod = (name: string, node: string) => ({
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name, namespace: 'default', labels: { app: name } },
        spec: {
          nodeName: node,
          containers: [{ name: 'netcheck', image: NETCHECK_IMAGE, imagePullPolicy: 'Never', args: ['serve', ':8080'], ports: [{ containerPort: 8080 }] }],
        },
      });
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'netcheck-b', namespace: 'default' }, spec: { selector: { app: 'netcheck-b' }, ports: [{ port: 80, targetPort: 8080 }] } };
      await kubectlOk(['apply', '-f', '-'], { input: [pod('netcheck-a', n1), pod('netcheck-b', n2), svc].map((o) => JSON.stringify(o)).join('\n') });
      const ips = new Map<string, string>();
      for (const name of ['netcheck-a', 'netcheck-b']) {
        const p = await waitFor(async () => {
          const x = await getJson(['-n', 'default', 'get', 'pod', name]);
          return x.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ? x : undefined;
        }, { what: `pod ${name} Ready`, timeoutMs: BOUND.pods, intervalMs: 2000 }).catch(async (e) => {
          // What the kubelet said about the pod: its status and events.
          const describe = await kubectl(['-n', 'default', 'describe', 'pod', name]);
          throw new Error(`${(e as Error).message}\n--- kubectl describe pod ${name} ---\n${describe.stdout}${describe.stderr}`);
        });
        ips.set(name, p.status.podIP);
      }
      // Each pod's address is in its own node's flannel subnet.
      for (const [name, node] of [['netcheck-a', n1], ['netcheck-b', n2]]) {
        const subnet = /FLANNEL_SUBNET=172\.20\.(\d+)\.1\/24/.exec(fs.readFileSync(b.c.file(node, '/run/flannel/subnet.env'), 'utf8'))![1];
        expect([name, ips.get(name)]).toEqual([name, expect.stringMatching(new RegExp(`^172\\.20\\.${subnet}\\.\\d+$`))]);
      }
      const exec = (args: string[]) => kubectl(['-n', 'default', 'exec', 'netcheck-a', '--', '/netcheck', ...args]);
      const resolv = await exec(['cat', '/etc/resolv.conf']);
      expect(resolv.stdout).toMatch(new RegExp(`^nameserver ${model().network.clusterDns.replace(/\./g, '\\.')}$`, 'm'));
      expect(resolv.stdout).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
      const lookup = await exec(['lookup', `kubernetes.default.svc.${model().network.dnsDomain}`]);
      expect([lookup.code, lookup.stdout.trim(), lookup.stderr.trim()]).toEqual([0, '10.0.0.1', '']);
      // Packets sent by the node's vxlan device (netlink: the host views keep this machine's /sys, whose class/net is not the namespace's).
      const vxlanTx = async () => {
        const r = await b.exec(n1, ['ip', '-j', '-s', 'link', 'show', 'dev', 'flannel.1']);
        const link = JSON.parse(r.stdout)[0];
        expect(link.linkinfo?.info_kind ?? 'vxlan').toBe('vxlan');
        return Number(link.stats64.tx.packets);
      };
      const before = await vxlanTx();
      const direct = await exec(['get', `http://${ips.get('netcheck-b')}:8080/`]);
      expect([direct.code, direct.stdout.trim(), direct.stderr.trim()]).toEqual([0, 'netcheck netcheck-b', '']);
      expect(await vxlanTx()).toBeGreaterThan(before);
      // And through the Service, by its DNS name: cluster DNS + kube-proxy + vxlan together.
      const viaService = await exec(['get', 'http://netcheck-b.default.svc.cluster.local/']);
      expect([viaService.code, viaService.stdout.trim(), viaService.stderr.trim()]).toEqual([0, 'netcheck netcheck-b', '']);
      passed.add('pods');
    });

    test('the apiservers reach pods on the pod network (as admission webhooks and aggregated APIs need)', async () => {
      needs('pods');
      // The apiserver's pod and service proxies dial the pod IP from the master itself, as its webhook and
      // aggregator clients do with --enable-aggregator-routing. Both masters, each through its own apiserver.
      for (const m of masters()) {
        for (const url of ['/api/v1/namespaces/default/pods/netcheck-b:8080/proxy/', '/api/v1/namespaces/default/services/netcheck-b:80/proxy/']) {
          const r = await b.exec(m, [kubectlBin(), '--kubeconfig=/opt/kubernetes/cfg/admin.kubeconfig', '--request-timeout=15s', 'get', '--raw', url], { timeoutMs: 30000 });
          expect([m, url, r.code, r.stdout.trim(), r.stderr.trim()]).toEqual([m, url, 0, 'netcheck netcheck-b', '']);
        }
      }
    });
  });

  // ------------------------------------------------------------------ e
  describe('e. day 2: encryption at rest, etcd isolation, a roll-out that keeps the API available', () => {
    test('a Secret is stored in etcd encrypted (k8s:enc:secretbox:v1:<key>:) and reads back through the API', async () => {
      needs('addons');
      const value = `not-in-etcd-${process.pid}`;
      await kubectlOk(['-n', 'default', 'create', 'secret', 'generic', 'at-rest', `--from-literal=word=${value}`]);
      // The key the apiservers write with: the first of the encryption config's secretbox keys.
      const config = parse(fs.readFileSync(b.c.file(masters()[0], PATHS.encryptionConfig), 'utf8'));
      const key = config.resources[0].providers[0].secretbox.keys[0].name as string;
      expect(key).toMatch(/^key-\d{8}-[0-9a-z]+$/);
      const stored = await etcdctl(model().etcdMembers[0].name, ['get', '/registry/secrets/default/at-rest', '--print-value-only']);
      expect(stored.code).toBe(0);
      expect(stored.stdout.startsWith(`k8s:enc:secretbox:v1:${key}:`)).toBe(true);
      expect(stored.stdout).not.toContain(value);
      const back = await getJson(['-n', 'default', 'get', 'secret', 'at-rest']);
      expect(Buffer.from(back.data.word, 'base64').toString()).toBe(value);
    });

    test('every credential on the plain node (its kubelet\'s rotated client certificate too) is refused by etcd; the apiserver\'s is not', async () => {
      needs('nodes');
      const plain = model().hosts.find((h) => !h.has('etcd') && !h.has('master'))!;
      const root = b.c.root(plain.name);
      // Every certificate on the node, with its key: X.pem + X-key.pem, X.crt + X.key, or one file holding both.
      const files = spawnSync('find', [root, '-type', 'f', '(', '-name', '*.pem', '-o', '-name', '*.crt', ')'], { encoding: 'utf8' }).stdout.trim().split('\n')
        .filter((f) => f && !/-key\.pem$/.test(f));
      const pairs = files.map((cert) => {
        const text = fs.readFileSync(cert, 'utf8');
        if (!text.includes('BEGIN CERTIFICATE')) return undefined;
        const key = [cert.replace(/\.pem$/, '-key.pem'), cert.replace(/\.crt$/, '.key')].find((k) => k !== cert && fs.existsSync(k))
          ?? (text.includes('PRIVATE KEY') ? cert : undefined);
        return key ? { cert, key } : undefined;
      }).filter((p): p is { cert: string; key: string } => p !== undefined);
      const rel = (f: string) => f.slice(root.length);
      // The kubelet's client certificate as the cluster CA issued it (kubelet-client-current.pem links to it).
      expect(pairs.map((p) => rel(p.cert))).toEqual(expect.arrayContaining([expect.stringMatching(/\/kubelet-client-\d{4}-[\d-]+\.pem$/)]));
      const endpoint = `https://${model().etcdMembers[0].ip}:2379`;
      const tryRead = (cert: string, key: string) => b.exec(plain.name, [comp.path('etcdctl'), `--endpoints=${endpoint}`, '--insecure-skip-tls-verify',
        `--cert=${cert}`, `--key=${key}`, '--dial-timeout=3s', '--command-timeout=5s', 'get', '/registry/', '--prefix', '--keys-only', '--limit=1'], { env: { PATH: '/usr/bin:/bin' } });
      for (const p of pairs) {
        const r = await tryRead(p.cert, p.key);
        expect([rel(p.cert), r.code === 0, r.stdout]).toEqual([rel(p.cert), false, '']);
      }
      // The same read from the same namespace with the apiserver's etcd client certificate works: the refusals are etcd's.
      const m = masters()[0];
      const ok = await tryRead(b.c.file(m, certPath('apiserver-etcd-client')), b.c.file(m, certPath('apiserver-etcd-client').replace(/\.pem$/, '-key.pem')));
      expect([ok.code, ok.stdout]).toEqual([0, expect.stringMatching(/^\/registry\//)]);
      console.log(`etcd isolation: ${pairs.length} certificate(s) on ${plain.name} refused: ${pairs.map((p) => rel(p.cert)).join(', ')}`);
    });

    test('a re-issued apiserver certificate, rolled out host by host with the roll-out\'s health checks: 0 failed requests through the VIP', async () => {
      needs('control-plane');
      const dir = b.c.s.dir;
      const port = model().apiServerPort;
      const served = async (m: string) => (await b.exec(m, ['bash', '-c',
        `openssl s_client -connect 127.0.0.1:${port} < /dev/null 2> /dev/null | openssl x509 -noout -serial`])).stdout.trim();
      const before = new Map<string, string>();
      for (const m of masters()) before.set(m, await served(m));
      for (const m of masters()) expect(before.get(m)).toMatch(/^serial=/);

      // The operator's side: npm run certs -- renew apiserver, then synth (the same state).
      await ClusterPki.load(model(), { stateDir: path.join(dir, 'state'), renew: ['apiserver'] });
      const s2 = await synthBundles(BOOT_CLUSTER, dir);
      const checks = healthChecks(s2.result.model);
      const order = [...new Set(rolloutSteps(s2.result.model).map((st) => st.host.name))];

      // A client through the VIP, one request after the other, until the roll-out is over.
      const results: { ok: boolean; err: string; start: number; end: number }[] = [];
      const events: { at: number; what: string }[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const start = Date.now();
          const r = await kubectl(['get', '--raw', '/api/v1/namespaces/kube-system'], { timeoutMs: 30000 });
          results.push({ ok: r.code === 0 && r.stdout.includes('"kube-system"'), err: r.stderr.trim(), start, end: Date.now() });
        }
      })();

      const restarted: string[] = [];
      const t0 = Date.now();
      try {
        for (const host of order) {
          const bundle = makeTempDir(`rollout-${host}`);
          const tar = spawnSync('tar', ['-xzf', s2.archive(host), '-C', bundle], { encoding: 'utf8', timeout: 30000 });
          expect(tar.status).toBe(0);
          const installSh = path.join(bundle, 'install.sh');
          const root = b.c.root(host);
          const check = spawnSync('bash', [installSh, '--root', root, '--check'], { encoding: 'utf8', timeout: 60000 });
          const drift = check.stdout.split('\n').filter((l) => l.includes('DRIFT'));
          // Sandbox: the stand-ins (Debian's runc; the flannel CNI plugin's older source) state other versions,
          // and install.sh refuses to install beside them: they step aside while it runs, and come back.
          const standIns = drift.map((l) => /DRIFT version\s+(\S+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined);
          const changed = drift.map((l) => /DRIFT content\s+(\S+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined)
            .filter((f) => !SANDBOX_EDITED.includes(f));
          for (const bin of standIns) fs.renameSync(b.c.file(host, bin), `${b.c.file(host, bin)}.sandbox`);
          let install;
          try {
            install = spawnSync('bash', [installSh, '--root', root], { encoding: 'utf8', timeout: 60000 });
          } finally {
            for (const bin of standIns) fs.renameSync(`${b.c.file(host, bin)}.sandbox`, b.c.file(host, bin));
          }
          expect([host, install.status, install.stderr.split('\n').filter((l) => l.includes('error'))]).toEqual([host, 0, []]);
          sandboxFiles(b.c, (h) => cgroupRootOf('boot', h), [host]);
          // What systemd would restart: the running units whose files (install.sh's DEPS) changed, in start order;
          // those whose changed files are all ones their reload applies (RELOADS) get its ExecReload's SIGHUP instead.
          const script = fs.readFileSync(installSh, 'utf8');
          const deps = installDeps(script);
          const units = [...deps.keys()].filter((u) => deps.get(u)!.some((f) => changed.includes(`/${f}`)));
          for (const unit of units) {
            const name = `${host}-${unit.replace(/\.service$/, '')}`;
            const p = procs.get(name);
            if (reloadOnly(script, unit, changed) && p?.isRunning()) {
              process.kill(p.pid, 'SIGHUP');
              restarted.push(`${host} ${unit} (reloaded)`);
              continue;
            }
            expect([unit, p?.isRunning()]).toEqual([unit, true]);
            const s0 = Date.now();
            events.push({ at: s0, what: `${host} ${unit} SIGTERM` });
            const exit = await stopUnit(host, unit, p!);
            events.push({ at: Date.now(), what: `${host} ${unit} exited` });
            console.log(`roll-out: ${host} ${unit} stopped in ${Date.now() - s0} ms (${exit.signal ?? `exit ${exit.code}`})`);
            await startUnit(host, UNITS.component(unit));
            events.push({ at: Date.now(), what: `${host} ${unit} started` });
            restarted.push(`${host} ${unit}`);
          }
          // The roll-out's wait after this host: every service of the health table that runs here, healthy again.
          for (const c of checks.filter((x) => procs.get(`${host}-${x.component}`)?.isRunning())) {
            const w0 = Date.now();
            await waitFor(async () => (await b.exec(host, ['bash', '-c', c.command], { timeoutMs: 30000 })).code === 0, {
              what: `${host} ${c.what}`, timeoutMs: BOUND.apiserverReady, intervalMs: 1000, proc: procs.get(`${host}-${c.component}`),
            });
            if (units.includes(c.unit)) {
              events.push({ at: Date.now(), what: `${host} ${c.what} ok` });
              console.log(`roll-out: ${host} ${c.what} ok ${Date.now() - w0} ms after its restart`);
            }
          }
        }
      } finally {
        polling = false;
        await poller;
      }
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) {
        // When each failed, against the roll-out's events (ms from its start).
        const t = (x: number) => x - t0;
        console.log([`roll-out started ${new Date(t0).toISOString()}`, ...events.map((e) => `${t(e.at)} ${e.what}`), ...failed.map((f) => `${t(f.start)}..${t(f.end)} FAILED ${f.err}`)]
          .sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).join('\n'));
        // What the load balancers saw meanwhile: keepalived's state changes, nginx's errors and non-200 sessions.
        for (const h of lbHosts()) {
          const k = procs.get(`${h}-keepalived`);
          const states = `${k?.stdout() ?? ''}\n${k?.stderr() ?? ''}`.split('\n').filter((l) => /Entering|FAULT|[Ss]cript|priority 0/.test(l)).slice(-20);
          const errors = fs.readFileSync(b.c.file(h, '/var/log/nginx/error.log'), 'utf8').split('\n').slice(-30);
          const access = fs.readFileSync(b.c.file(h, '/var/log/nginx/k8s-access.log'), 'utf8').split('\n').filter((l) => l && !/\] 200 /.test(l)).slice(-30);
          console.log(`${h} keepalived:\n${states.join('\n')}\n${h} nginx error.log:\n${errors.join('\n')}\n${h} nginx non-200:\n${access.join('\n')}`);
        }
      }
      console.log(`roll-out: ${restarted.join(', ')} restarted in ${Date.now() - t0} ms; ${results.length} requests through the VIP, ${failed.length} failed`);
      // Only the apiservers read the certificate: each restarted once, one after the other.
      expect(restarted).toEqual(masters().map((m) => `${m} kube-apiserver.service`));
      expect(results.length).toBeGreaterThan(20);
      expect(failed.map((r) => r.err)).toEqual([]);
      // Each apiserver now serves the new certificate.
      for (const m of masters()) {
        const now = await served(m);
        const file = spawnSync('openssl', ['x509', '-in', b.c.file(m, certPath('apiserver')), '-noout', '-serial'], { encoding: 'utf8' }).stdout.trim();
        expect([m, now === before.get(m), now]).toEqual([m, false, file]);
      }
    });

    /** Puts each master's encryption config of the last synth in place and restarts its apiserver, one at a time. */
    async function rollOutEncryptionConfig(archive: (host: string) => string): Promise<void> {
      for (const m of masters()) {
        const bundle = makeTempDir(`keys-${m}`);
        expect(spawnSync('tar', ['-xzf', archive(m), '-C', bundle], { timeout: 30000 }).status).toBe(0);
        // The roll-out's own view of what changed on the host: the encryption config, and nothing else of the bundle.
        const check = spawnSync('bash', [path.join(bundle, 'install.sh'), '--root', b.c.root(m), '--check'], { encoding: 'utf8', timeout: 60000 });
        const changed = check.stdout.split('\n').map((l) => /DRIFT content\s+(\S+) /.exec(l)?.[1]).filter((f): f is string => f !== undefined)
          .filter((f) => !SANDBOX_EDITED.includes(f));
        expect([m, changed]).toEqual([m, [PATHS.encryptionConfig]]);
        fs.copyFileSync(path.join(bundle, PATHS.encryptionConfig), b.c.file(m, PATHS.encryptionConfig));
        // Killed, not drained (an apiserver with open watches takes 60 s to stop): the availability of a roll-out is
        // the re-issued certificate's test above; here only the keys each apiserver holds matter.
        await stop(procs.get(`${m}-kube-apiserver`)!, { signal: 'SIGKILL', graceMs: 10000 });
        await startUnit(m, UNITS.component('kube-apiserver.service'));
        await waitFor(async () => (await b.exec(m, ['bash', '-c', healthCheck(model(), 'kube-apiserver').command], { timeoutMs: 30000 })).code === 0, {
          what: `${m} apiserver /readyz`, timeoutMs: BOUND.apiserverReady, intervalMs: 1000, proc: procs.get(`${m}-kube-apiserver`),
        });
      }
    }

    test('restore of a snapshot taken before an encryption-key rotation: its Secrets read back (the retired key comes back for the restore only), the ConfigMap deleted after it is back, every watcher restarted', async () => {
      needs('control-plane');
      const first = model().etcdMembers[0].name;
      const dir = b.c.s.dir;
      const store = new StateStore(path.join(dir, 'state'));
      const secrets = () => loadSecrets(store, { fresh: false, now: new Date(), tokenTtlHours: model().addons.bootstrapToken.ttlHours }).secrets;
      const oldKey = secrets().encryptionKeys[0].name;
      await kubectlOk(['-n', 'default', 'create', 'configmap', 'before-snapshot', '--from-literal=kept=yes']);
      await kubectlOk(['-n', 'default', 'create', 'secret', 'generic', 'before-rotation', '--from-literal=word=kept']);
      // The member's own snapshot script (the timer's, and deploy.sh --snapshot's): it prints the file last.
      const snap = await b.exec(first, [SNAPSHOT_COMMAND], { timeoutMs: 60000 });
      expect([snap.code, snap.stderr]).toEqual([0, expect.stringContaining('etcd-snapshot: saved and verified')]);
      const inHost = snap.stdout.trim().split('\n').pop()!;
      const file = path.join(makeTempDir('restore'), path.basename(inHost));
      fs.copyFileSync(b.c.file(first, inHost), file);
      await kubectlOk(['-n', 'default', 'delete', 'configmap', 'before-snapshot']);
      await kubectlOk(['-n', 'default', 'create', 'configmap', 'after-snapshot', '--from-literal=lost=yes']);

      // A whole key rotation after the snapshot, as npm run certs -- encryption-key add | promote | drop makes it, each
      // step synthesized and rolled out to the masters; drop only once etcd holds no Secret written with the old key.
      const r0 = Date.now();
      for (const step of ['add', 'promote', 'drop'] as const) {
        if (step === 'drop') {
          await kubectlOk(['get', 'secrets', '-A', '-o', 'json'], {}).then((all) => kubectlOk(['replace', '-f', '-'], { input: all }));
          const writer = secrets().encryptionKeys[0].name;
          const count = await b.exec(first, ['bash', '-c', secretKeysCommand(writer)], { timeoutMs: 60000 });
          expect([count.code, count.stdout]).toEqual([0, expect.stringMatching(new RegExp(`^\\s*\\d+ secretbox:${writer}\\n$`))]);
        }
        store.write(SECRETS_FILE, `${JSON.stringify(withEncryptionKeyStep(secrets(), step, new Date()), null, 2)}\n`);
        await rollOutEncryptionConfig((await synthBundles(BOOT_CLUSTER, dir)).archive);
        console.log(`restore: encryption-key ${step} synthesized and on both masters at ${Date.now() - r0} ms`);
      }
      const newKey = secrets().encryptionKeys[0].name;
      expect([secrets().encryptionKeys.map((k) => k.name), secrets().retiredEncryptionKeys?.map((k) => k.name)]).toEqual([[newKey], [oldKey]]);
      await kubectlOk(['-n', 'default', 'create', 'secret', 'generic', 'after-snapshot', '--from-literal=lost=yes']);
      const before = new Map<string, string>();
      for (const w of apiWatchers(model().addons)) {
        before.set(w.name, (await kubectl(['-n', w.namespace, 'get', `${w.kind}/${w.name}`, '-o', 'jsonpath={.metadata.generation}'])).stdout);
      }

      // The steps deploy.sh --restore and restore.yml run, carried out as systemd would (units are processes here);
      // the operator's kubectl steps run as deploy.sh runs them, in dist/, with its admin.kubeconfig, from a node.
      const t0 = Date.now();
      const done: string[] = [];
      for (const step of restoreSteps(model(), newKey)) {
        if (step.install) throw new Error(`a restore step this test cannot run: ${step.title}`);
        if (step.on === 'operator') {
          const command = `cd ${distDir} && ${step.command!}`;
          const env = { PATH: '/usr/bin:/bin', KUBECTL: kubectlBin() };
          if (step.wait) {
            await waitFor(async () => (await b.exec(nodes()[1], ['bash', '-c', command], { env, timeoutMs: 60000 })).code === 0, {
              what: step.title, timeoutMs: BOUND.apiserverReady, intervalMs: 1000,
            });
          } else {
            const r = await b.exec(nodes()[1], ['bash', '-c', command], { env, timeoutMs: 60000 });
            expect([step.title, r.code, r.stderr]).toEqual([step.title, 0, expect.anything()]);
          }
          done.push(step.title);
          console.log(`restore: step ${done.length} (${step.title.slice(0, 60)}) done at ${Date.now() - t0} ms`);
          continue;
        }
        for (const h of step.on) {
          if (step.upload) {
            const to = b.c.file(h.name, step.upload.to);
            fs.mkdirSync(path.dirname(to), { recursive: true });
            fs.copyFileSync(step.upload.from === 'snapshot' ? file : path.join(distDir, step.upload.from), to);
            fs.chmodSync(to, 0o600);
          }
          if (!step.command) continue;
          const unit = /^systemctl (stop|start --no-block|start|restart) (.+)$/.exec(step.command);
          if (unit) {
            const [, verb, units] = unit;
            for (const u of units.split(' ')) {
              const name = `${h.name}-${u.replace(/\.service$/, '')}`;
              const p = procs.get(name);
              if ((verb === 'stop' || verb === 'restart') && p?.isRunning()) {
                // A slow stop is named.
                const s0 = Date.now();
                const exit = await stopUnit(h.name, u, p);
                if (Date.now() - s0 > 5000) console.log(`restore: ${name} took ${Date.now() - s0} ms to stop (${exit.signal ?? `exit ${exit.code}`})`);
              }
              if (verb !== 'stop' && !procs.get(name)?.isRunning()) await startUnit(h.name, u === 'etcd.service' ? UNITS.etcd : UNITS.component(u));
            }
          } else if (step.wait) {
            await waitFor(async () => (await b.exec(h.name, ['bash', '-c', step.command!], { timeoutMs: 30000 })).code === 0, {
              what: `${h.name}: ${step.title}`, timeoutMs: BOUND.apiserverReady, intervalMs: 1000,
            });
          } else {
            const r = await b.exec(h.name, ['bash', '-c', step.command], { timeoutMs: 60000 });
            expect([step.title, h.name, r.code, r.stderr.trim()]).toEqual([step.title, h.name, 0, expect.anything()]);
          }
        }
        done.push(step.title);
        console.log(`restore: step ${done.length} (${step.title.slice(0, 60)}) done at ${Date.now() - t0} ms`);
      }
      console.log(`restore: ${done.length} steps in ${Date.now() - t0} ms`);
      // Through the VIP: the Secret written with the retired key reads back, the ConfigMap from before the snapshot is
      // back, what came after is gone, the nodes are there.
      await waitFor(async () => (await kubectl(['-n', 'default', 'get', 'configmap', 'before-snapshot', '-o', 'name'])).stdout.trim() === 'configmap/before-snapshot', {
        what: 'the ConfigMap from before the snapshot', timeoutMs: 60000, intervalMs: 1000,
      });
      const kept = await getJson(['-n', 'default', 'get', 'secret', 'before-rotation']);
      expect(Buffer.from(kept.data.word, 'base64').toString()).toBe('kept');
      for (const gone of ['configmap/after-snapshot', 'secret/after-snapshot']) {
        expect((await kubectl(['-n', 'default', 'get', gone, '--ignore-not-found', '-o', 'name'])).stdout.trim()).toBe('');
      }
      // In etcd every Secret is written with the key in force, and each master holds only the keys in force again.
      const count = await b.exec(first, ['bash', '-c', secretKeysCommand(newKey)], { timeoutMs: 60000 });
      expect([count.code, count.stdout]).toEqual([0, expect.stringMatching(new RegExp(`^\\s*\\d+ secretbox:${newKey}\\n$`))]);
      for (const m of masters()) {
        const keys = parse(fs.readFileSync(b.c.file(m, PATHS.encryptionConfig), 'utf8')).resources[0].providers[0].secretbox.keys.map((k: { name: string }) => k.name);
        expect([m, keys, fs.existsSync(b.c.file(m, RESTORE_ENCRYPTION.saved))]).toEqual([m, [newKey], false]);
      }
      // The watchers restarted: the units (each a new process) and the addons' workloads (a new generation).
      for (const w of apiWatchers(model().addons)) {
        const generation = (await kubectl(['-n', w.namespace, 'get', `${w.kind}/${w.name}`, '-o', 'jsonpath={.metadata.generation}'])).stdout;
        expect([w.name, Number(generation)]).toEqual([w.name, Number(before.get(w.name)) + 1]);
      }
      expect(done.filter((t) => t.startsWith('restart ')).join('; ')).toMatch(/kube-proxy.*flanneld|flanneld.*kube-proxy/);
      expect((await etcdctl(first, ['endpoint', 'health', '--cluster'])).code).toBe(0);
      const nodeNames = (await getJson(['get', 'nodes'])).items.map((n: any) => n.metadata.name).sort();
      expect(nodeNames).toEqual(kubeletHosts(b.c).sort());
    }, 900000);
  });

  // ------------------------------------------------------------------ f
  /** The release the last minor upgrade starts from, and the seed's it reaches. */
  const TARGET = UPGRADE_PATH[UPGRADE_PATH.length - 1];
  const LAST_FROM = UPGRADE_PATH[UPGRADE_PATH.length - 2];
  const LAST_FROM_V = componentVersionsOf(withChanges(BOOT_CLUSTER, { kubernetesVersion: LAST_FROM }));

  describe('f. upgrades with the compiled roll-out: a patch release, then a minor, in the skew policy\'s order', () => {
    /** A client polling through the VIP until stopped: every request must succeed. */
    function pollVip() {
      const results: { ok: boolean; err: string; start: number }[] = [];
      let polling = true;
      const loop = (async () => {
        while (polling) {
          const start = Date.now();
          const r = await kubectl(['get', '--raw', '/api/v1/namespaces/kube-system'], { timeoutMs: 30000 });
          results.push({ ok: r.code === 0 && r.stdout.includes('"kube-system"'), err: r.stderr.trim(), start });
        }
      })();
      return { results, stop: async () => { polling = false; await loop; } };
    }

    /** The versions the live cluster reports: each master's apiserver (its /version) and each Node's kubelet. */
    async function observed(): Promise<ObservedVersions> {
      const apiservers: Record<string, string> = {};
      for (const m of masters()) {
        const r = await b.exec(m, ['bash', '-c', apiserverVersionCommand(model())], { timeoutMs: 15000 });
        apiservers[m] = r.code === 0 ? JSON.parse(r.stdout).gitVersion : 'unreachable';
      }
      const kubelets = Object.fromEntries((await getJson(['get', 'nodes'])).items.map((n: any) => [n.metadata.name, n.status.nodeInfo.kubeletVersion]));
      return { apiservers, kubelets };
    }

    const unitPath = (unit: string) => (unit === 'etcd.service' ? UNITS.etcd : unit === 'containerd.service' ? UNITS.containerd
      : unit === 'flanneld.service' ? UNITS.flanneld : UNITS.component(unit));

    interface Walk { restarted: string[]; skipped: string[]; drained: string[]; skew: string[]; ms: number; held: number }

    /**
     * Synthesizes the definition at `version` (the same state) and walks its upgrade plan's steps as deploy.sh's
     * upgrade_run does, each host's step with the real install.sh --units (units are processes here, so the restarts
     * install.sh would make are made as systemd would: files it wrote that the unit reads, or its program replaced).
     * `killAfter`: stop after that many steps were carried out, as a killed roll-out does.
     */
    async function walk(version: string, opts: { killAfter?: number } = {}): Promise<Walk & { killed: boolean; plan: UpgradePlan }> {
      const def = withChanges(BOOT_CLUSTER, { kubernetesVersion: version });
      const s2 = await synthBundles(def, b.c.s.dir);
      const plan = s2.result.upgrade;
      if (!plan) throw new Error(`synth to ${version} planned no upgrade`);
      const to = requireComponents(RUN, componentVersionsOf(def));
      const model2 = s2.result.model;
      const checks = healthChecks(model2);
      const w: Walk = { restarted: [], skipped: [], drained: [], skew: [], ms: 0, held: 0 };
      const t0 = Date.now();
      let carried = 0;
      for (const st of plan.waves.flatMap((x) => x.steps)) {
        const host = st.host.name;
        const record = b.c.file(host, `${UPGRADE_PATHS.reached}/${st.step}`);
        if (fs.existsSync(record) && fs.readFileSync(record, 'utf8').trim() === plan.target) { w.skipped.push(`${host} ${st.step}`); continue; }
        if (opts.killAfter !== undefined && carried === opts.killAfter) return { ...w, ms: Date.now() - t0, killed: true, plan };
        carried++;
        const stepStart = Date.now();
        if (st.drain) {
          await kubectlOk(['cordon', host]);
          const d = await kubectl(['drain', host, ...drainFlags(model2)], { timeoutMs: (model2.upgrades.drainTimeoutSeconds + 30) * 1000 });
          expect([host, 'drain', d.code, d.stderr.trim()]).toEqual([host, 'drain', 0, expect.anything()]);
          // An eviction a PodDisruptionBudget refuses is retried by kubectl until the budget allows it.
          w.held += d.stderr.split('\n').filter((l) => l.includes('would violate the pod\'s disruption budget')).length;
          w.drained.push(host);
        }
        // The programs deploy.sh copies for the step (those that differ), the replaced ones kept; a Debian stand-in
        // (runc) stays, and install.sh does not see it (below), as at boot.
        for (const p of st.programs.filter((q) => !DEBIAN_AT[q.path])) {
          const at = b.c.file(host, p.path);
          const keep = b.c.file(host, `${UPGRADE_PATHS.previous}${p.path}`);
          fs.mkdirSync(path.dirname(keep), { recursive: true });
          if (fs.existsSync(keep) || fs.lstatSync(keep, { throwIfNoEntry: false })) fs.rmSync(keep);
          fs.renameSync(at, keep);
          placeProgram(to.path(path.basename(p.path)), at);
        }
        const bundle = makeTempDir(`upgrade-${host}`);
        expect(spawnSync('tar', ['-xzf', s2.archive(host), '-C', bundle], { timeout: 30000 }).status).toBe(0);
        const installSh = path.join(bundle, 'install.sh');
        const root = b.c.root(host);
        const check = spawnSync('bash', [installSh, '--root', root, '--check'], { encoding: 'utf8', timeout: 60000 }).stdout.split('\n');
        const standIns = check.map((l) => /DRIFT version\s+(\S+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined)
          .filter((bin) => DEBIAN_AT[bin] || !st.programs.some((p) => p.path === bin));
        const changed = check.map((l) => /DRIFT content\s+(\S+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined)
          .filter((f) => !SANDBOX_EDITED.includes(f));
        for (const bin of standIns) fs.renameSync(b.c.file(host, bin), `${b.c.file(host, bin)}.sandbox`);
        let install;
        try {
          install = spawnSync('bash', [installSh, '--root', root, '--units', st.units.join(',')], { encoding: 'utf8', timeout: 60000 });
        } finally {
          for (const bin of standIns) fs.renameSync(`${b.c.file(host, bin)}.sandbox`, b.c.file(host, bin));
        }
        expect([host, st.step, install.status, install.stderr.split('\n').filter((l) => l.includes('error'))]).toEqual([host, st.step, 0, []]);
        sandboxFiles(b.c, (h) => cgroupRootOf('boot', h), [host], { onlyRewritten: true, model: s2.result.model });
        const script = fs.readFileSync(installSh, 'utf8');
        const deps = installDeps(script);
        const binaries = new Map(s2.result.cluster.bundle(host).services.map((sv) => [sv.unit, sv.binaries]));
        for (const unit of st.units) {
          const p = procs.get(`${host}-${unit.replace(/\.service$/, '')}`);
          if (p && !p.isRunning()) {
            // It exited meanwhile (a controller-manager that lost its lease while its apiserver restarted): systemd's
            // Restart= would have started it again, by now with the step's program.
            await startUnit(host, unitPath(unit));
            w.restarted.push(`${host} ${unit} (had exited)`);
            continue;
          }
          if (!p) continue;
          const why = (deps.get(unit) ?? []).some((f) => changed.includes(`/${f}`))
            || st.programs.some((x) => (binaries.get(unit) ?? []).includes(x.path));
          if (!why) continue;
          if (reloadOnly(script, unit, changed) && !st.programs.some((x) => (binaries.get(unit) ?? []).includes(x.path))) {
            process.kill(p.pid, 'SIGHUP');
            w.restarted.push(`${host} ${unit} (reloaded)`);
            continue;
          }
          await stopUnit(host, unit, p);
          await startUnit(host, unitPath(unit));
          w.restarted.push(`${host} ${unit}`);
        }
        for (const c of checks.filter((x) => st.units.includes(x.unit) && procs.get(`${host}-${x.component}`)?.isRunning())) {
          await waitFor(async () => (await b.exec(host, ['bash', '-c', c.command], { timeoutMs: 30000 })).code === 0, {
            what: `${host} ${c.what}`, timeoutMs: BOUND.apiserverReady, intervalMs: 1000, proc: procs.get(`${host}-${c.component}`),
          });
        }
        if (st.wave === 'etcd') {
          await waitFor(async () => (await b.exec(host, ['bash', '-c', etcdHealthCommand(model2)], { timeoutMs: 30000 })).code === 0, {
            what: 'etcd cluster health', timeoutMs: BOUND.etcdHealthy, intervalMs: 1000,
          });
        }
        if (st.wave === 'node') {
          await waitFor(async () => {
            const n = await getJson(['get', 'node', host]);
            return n.status.nodeInfo.kubeletVersion === `v${plan.to.kubernetes}`
              && n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True');
          }, { what: `${host} Ready at kubelet v${plan.to.kubernetes}`, timeoutMs: BOUND.nodeJoin, intervalMs: 2000 });
        }
        if (st.drain) await kubectlOk(['uncordon', host]);
        fs.mkdirSync(path.dirname(record), { recursive: true });
        fs.writeFileSync(record, `${plan.target}\n`);
        // The skew invariant, read from the live cluster after every host.
        const o = await observed();
        expect([host, st.step, skewViolations(o)]).toEqual([host, st.step, []]);
        w.skew.push(`${host} ${st.step} (${Date.now() - stepStart} ms): apiservers ${Object.values(o.apiservers).join(' ')}; kubelets ${Object.values(o.kubelets).join(' ')}`);
      }
      return { ...w, ms: Date.now() - t0, killed: false, plan };
    }

    /** Bare pods block a drain (kubectl will not delete what no controller recreates): stage d's go first. */
    const removeBarePods = () => kubectlOk(['-n', 'default', 'delete', 'pod', 'netcheck-a', 'netcheck-b', '--ignore-not-found', '--wait=true']);

    const report = (what: string, w: Walk, vip: { results: { ok: boolean }[] }) => console.log([
      `${what}: ${w.ms} ms; restarted: ${w.restarted.join(', ') || 'nothing'}; drained: ${w.drained.join(', ') || 'nothing'} (${w.held} evictions held back by a PodDisruptionBudget, retried); skipped (done before): ${w.skipped.join(', ') || 'nothing'}`,
      ...w.skew.map((x) => `  skew after ${x}`),
      `  ${vip.results.length} requests through the VIP, ${vip.results.filter((r) => !r.ok).length} failed`,
    ].join('\n'));

    (PATCH_STEP ? test : test.skip)(`a patch release (${PATCH_STEP ? `${UPGRADE_PATH[0]} → ${UPGRADE_PATH[1]}` : 'none on this path'}): no drain; control plane before the kubelets, one host at a time; 0 failed requests through the VIP`, async () => {
      needs('pods');
      const vip = pollVip();
      let w;
      try {
        w = await walk(UPGRADE_PATH[1]);
      } finally {
        await vip.stop();
      }
      report('patch upgrade', w, vip);
      expect(w.plan.kind).toBe('patch');
      expect(w.drained).toEqual([]);
      // kube-apiserver on each master before any kubelet, masters' kubelets before the nodes'.
      const order = w.restarted.map((r) => r.split(' ')[1]);
      expect(order.lastIndexOf('kube-apiserver.service')).toBeLessThan(order.indexOf('kubelet.service'));
      expect(w.restarted.filter((r) => r.endsWith('kubelet.service')).map((r) => r.split(' ')[0])).toEqual([...masters(), ...nodes()]);
      expect(w.restarted).not.toContainEqual(expect.stringMatching(/etcd\.service$/));
      expect(vip.results.length).toBeGreaterThan(20);
      expect(vip.results.filter((r) => !r.ok).map((r) => r.err)).toEqual([]);
      const o = await observed();
      expect(new Set([...Object.values(o.apiservers), ...Object.values(o.kubelets)])).toEqual(new Set([`v${UPGRADE_PATH[1]}`]));
      passed.add('before last minor');
    }, 900000);

    (MINORS_BEFORE_LAST.length > 0 ? test : test.skip)(`the chain: each minor's newest release in turn (${MINORS_BEFORE_LAST.join(' → ')}), each with its own images and addons; the skew invariant after every host; 0 failed requests`, async () => {
      needs('pods');
      await removeBarePods();
      for (const version of MINORS_BEFORE_LAST) {
        const v = componentVersionsOf(withChanges(BOOT_CLUSTER, { kubernetesVersion: version }));
        await importImages(releaseImages(v));
        const vip = pollVip();
        let w;
        try {
          w = await walk(version);
          // The addons of the new release, as deploy.sh applies them last.
          await kubectlOk(['apply', '-f', path.join(distDir, 'addons')], { timeoutMs: 120000 });
        } finally {
          await vip.stop();
        }
        report(`minor upgrade to ${version}`, w, vip);
        expect([version, w.plan.kind]).toEqual([version, 'minor']);
        expect([version, vip.results.filter((r) => !r.ok).map((r) => r.err)]).toEqual([version, []]);
        const o = await observed();
        expect([version, new Set([...Object.values(o.apiservers), ...Object.values(o.kubelets)])]).toEqual([version, new Set([`v${version}`])]);
        await waitFor(async () => {
          const d = await getJson(['-n', 'kube-system', 'get', 'deployment', 'coredns']);
          return d.spec.template.spec.containers[0].image === v.COREDNS_IMAGE && d.status.updatedReplicas === d.spec.replicas && d.status.readyReplicas === d.spec.replicas;
        }, { what: `CoreDNS ${v.COREDNS_IMAGE} Ready`, timeoutMs: BOUND.pods, intervalMs: 2000 });
      }
      passed.add('before last minor');
    }, 3 * 3600 * 1000);

    test(`a minor (${LAST_FROM} → ${TARGET}, etcd ${LAST_FROM_V.ETCD_VERSION} → ${SEED_V.ETCD_VERSION}): etcd one member at a time, each master's control plane, then each host drained and upgraded; a Deployment's PodDisruptionBudget holds; a killed roll-out resumes without repeating finished hosts; 0 failed requests`, async () => {
      needs('before last minor');
      await removeBarePods();
      const app = {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'pdb-app', namespace: 'default' },
        spec: {
          replicas: 2, selector: { matchLabels: { app: 'pdb-app' } },
          template: {
            metadata: { labels: { app: 'pdb-app' } },
            spec: {
              containers: [{
                name: 'netcheck', image: 'kubesmith.test/netcheck:1', imagePullPolicy: 'Never', args: ['serve', ':8080'],
                readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 2 },
              }],
            },
          },
        },
      };
      const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb-app', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'pdb-app' } } } };
      await kubectlOk(['apply', '-f', '-'], { input: [app, pdb].map((o) => JSON.stringify(o)).join('\n') });
      await waitFor(async () => (await getJson(['-n', 'default', 'get', 'deployment', 'pdb-app'])).status.availableReplicas === 2,
        { what: 'pdb-app available', timeoutMs: BOUND.pods, intervalMs: 2000 });
      // Its available replicas, sampled through the roll-out.
      const available: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const r = await kubectl(['-n', 'default', 'get', 'deployment', 'pdb-app', '-o', 'jsonpath={.status.availableReplicas}']);
          if (r.code === 0) available.push(Number(r.stdout || 0));
          await new Promise((res) => setTimeout(res, 1000));
        }
      })();
      const vip = pollVip();
      let first;
      let second;
      try {
        // Killed after the control plane and the first node-wave host: the re-run starts from the records.
        const plan = (await synthBundles(withChanges(BOOT_CLUSTER, { kubernetesVersion: TARGET }), b.c.s.dir)).result.upgrade!;
        const killAfter = plan.waves.filter((x) => x.spec.name !== 'node').reduce((n, x) => n + x.steps.length, 0) + 1;
        first = await walk(TARGET, { killAfter });
        second = await walk(TARGET);
        // The addons of the new release, as deploy.sh applies them last.
        await kubectlOk(['apply', '-f', path.join(distDir, 'addons')], { timeoutMs: 120000 });
      } finally {
        await vip.stop();
        sampling = false;
        await sampler;
      }
      report('minor upgrade, killed', first, vip);
      report('minor upgrade, re-run', second, vip);
      expect(first.killed).toBe(true);
      expect(first.plan.kind).toBe('minor');
      const done = [...first.restarted.map((r) => r.split(' ')[0])];
      expect(done.length).toBeGreaterThan(0);
      // The re-run skipped every step the first run finished, and restarted nothing on those hosts' finished steps.
      expect(second.skipped.length).toBe(first.plan.waves.filter((x) => x.spec.name !== 'node').reduce((n, x) => n + x.steps.length, 0) + 1);
      expect(second.drained).not.toContain(first.drained[0]);
      expect([...first.drained, ...second.drained]).toEqual([...masters(), ...nodes()]);
      const all = [...first.restarted, ...second.restarted];
      const order = all.map((r) => r.split(' ')[1]);
      // etcd member by member first, then apiservers, then the kubelets.
      expect(all.filter((r) => r.endsWith('etcd.service')).map((r) => r.split(' ')[0])).toEqual(model().etcdMembers.map((m) => m.name));
      expect(order.lastIndexOf('etcd.service')).toBeLessThan(order.indexOf('kube-apiserver.service'));
      expect(order.lastIndexOf('kube-apiserver.service')).toBeLessThan(order.indexOf('kubelet.service'));
      expect(vip.results.filter((r) => !r.ok).map((r) => r.err)).toEqual([]);
      expect(available.length).toBeGreaterThan(10);
      expect(Math.min(...available)).toBeGreaterThanOrEqual(1);
      const o = await observed();
      expect(new Set([...Object.values(o.apiservers), ...Object.values(o.kubelets)])).toEqual(new Set([`v${TARGET}`]));
      const etcdVersions = await etcdctl(model().etcdMembers[0].name, ['endpoint', 'status', '--cluster', '-w', 'json']);
      for (const e of JSON.parse(etcdVersions.stdout)) expect(e.Status.version).toBe(SEED_V.ETCD_VERSION.slice(1));
      // CoreDNS of the new release serves the cluster.
      await waitFor(async () => {
        const d = await getJson(['-n', 'kube-system', 'get', 'deployment', 'coredns']);
        return d.spec.template.spec.containers[0].image === SEED_V.COREDNS_IMAGE && d.status.updatedReplicas === d.spec.replicas && d.status.readyReplicas === d.spec.replicas;
      }, { what: `CoreDNS ${SEED_V.COREDNS_IMAGE} Ready`, timeoutMs: BOUND.pods, intervalMs: 2000 });
      passed.add('minor');
    }, 1800000);

    test('a synth and roll-out with nothing changed after the upgrade: every step is skipped, and no unit would restart', async () => {
      needs('minor');
      const s3 = await synthBundles(withChanges(BOOT_CLUSTER, { kubernetesVersion: TARGET }), b.c.s.dir);
      // The upgrade's waves stay in the roll-out, each step recorded done on its host.
      const steps = s3.result.upgrade!.waves.flatMap((x) => x.steps);
      for (const st of steps) {
        expect(fs.readFileSync(b.c.file(st.host.name, `${UPGRADE_PATHS.reached}/${st.step}`), 'utf8').trim()).toBe(s3.result.upgrade!.target);
      }
      // The ordinary roll-out's install.sh on every host: no file a running unit reads differs, no program is another version.
      for (const h of model().hosts) {
        const bundle = makeTempDir(`again-${h.name}`);
        expect(spawnSync('tar', ['-xzf', s3.archive(h.name), '-C', bundle], { timeout: 30000 }).status).toBe(0);
        const check = spawnSync('bash', [path.join(bundle, 'install.sh'), '--root', b.c.root(h.name), '--check'], { encoding: 'utf8', timeout: 60000 }).stdout;
        const drift = check.split('\n').filter((l) => l.includes('DRIFT')).filter((l) => !SANDBOX_EDITED.some((f) => l.includes(f)))
          .filter((l) => !/DRIFT version\s+\S*(runc|\/flannel) /.test(l));
        expect([h.name, drift]).toEqual([h.name, []]);
      }
    });
  });
});

/** install.sh's DEPS: unit → the files (relative to /) whose change restarts it. */
function installDeps(script: string, name = 'DEPS'): Map<string, string[]> {
  const block = new RegExp(`declare -A ${name}=\\(\\n([\\s\\S]*?)\\n?\\)`).exec(script);
  if (!block) throw new Error(`install.sh has no ${name} block`);
  return new Map([...block[1].matchAll(/^\s*\['([^']+)'\]='([^']*)'$/gm)].map((m) => [m[1], m[2].split(' ').filter(Boolean)]));
}

/** Whether install.sh reloads a unit rather than restarting it: every changed file it reads is in its RELOADS. */
function reloadOnly(script: string, unit: string, changed: readonly string[]): boolean {
  const reloads = installDeps(script, 'RELOADS').get(unit);
  const hit = (installDeps(script).get(unit) ?? []).filter((f) => changed.includes(`/${f}`));
  return reloads !== undefined && hit.length > 0 && hit.every((f) => reloads.includes(f));
}

/** The subject of a PEM CSR (base64 of the PEM, as in CertificateSigningRequest.spec.request). */
function decodeCsrSubject(b64: string): string {
  const r = spawnSync('openssl', ['req', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: Buffer.from(b64, 'base64'), encoding: 'utf8', timeout: 10000 });
  return r.stdout.trim();
}

/** RDN values of a certificate's subject, by attribute (openssl, RFC 2253). */
function certSubject(file: string): Record<string, string[]> {
  const r = spawnSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8', timeout: 10000 });
  const out: Record<string, string[]> = {};
  for (const part of r.stdout.trim().replace(/^subject=/, '').split(',')) {
    const [k, v] = part.split('=');
    (out[k] ??= []).push(v);
  }
  return out;
}
