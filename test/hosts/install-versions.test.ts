import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fetchedBinariesOn } from '../../lib/components';
import { ClusterDefinition, ClusterModel } from '../../lib/model';
import { seedComponentVersions } from '../../scripts/component-versions';
import { SEED, withChanges } from '../support/clusters';
import { requireComponents } from '../support/components';
import { placeProgram, requirePrograms } from '../support/programs';
import { fakeProgram } from '../support/release-archives';
import { synthBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

/**
 * install.sh's version check on real programs: before it changes anything, every program of the host that is in
 * place must state the version the definition names.
 */

const ecdsa = (def: ClusterDefinition) => withChanges(def, { certificates: { ...def.certificates, keyAlgorithm: 'ecdsa' } });
const REAL = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'etcd', 'etcdctl', 'etcdutl', 'flanneld', 'bridge', 'host-local', 'portmap', 'loopback'];
const components = requireComponents(REAL);
const debian = requirePrograms(['containerd', 'runc', 'timeout']);

/** k8s1's bundle (master, etcd, lb) of this definition, unpacked. */
async function bundleOf(def: ClusterDefinition, dir: string): Promise<string> {
  const s = await synthBundles(ecdsa(def), dir);
  const out = tempDir('bundle');
  expect(spawnSync('tar', ['-xzf', s.archive('k8s1'), '-C', out]).status).toBe(0);
  return out;
}

/** A root with the real programs linked in at their install paths (those built by scripts/build-components.sh). */
function rootWithRealPrograms(): string {
  const root = tempDir('root');
  const at: Record<string, string> = { etcd: '/opt/etcd/bin', etcdctl: '/opt/etcd/bin', etcdutl: '/opt/etcd/bin', bridge: '/opt/cni/bin', 'host-local': '/opt/cni/bin', portmap: '/opt/cni/bin', loopback: '/opt/cni/bin' };
  for (const p of REAL) {
    const dst = path.join(root, at[p] ?? '/opt/kubernetes/bin', p);
    placeProgram(components.path(p), dst);
  }
  return root;
}

function install(bundle: string, ...args: string[]) {
  const r = spawnSync('bash', [path.join(bundle, 'install.sh'), ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}

/** Every path under root (links not followed). */
function listing(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).sort();
}

const versionLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('install.sh: VERSION')).map((l) => l.replace(/^install\.sh: VERSION +/, ''));

const V = seedComponentVersions();
const ETCD = V.ETCD_VERSION.slice(1);

(components.ok ? describe : describe.skip)(`install.sh checks the version of every program in place (the seed's Kubernetes ${V.KUBERNETES_VERSION}, etcd ${V.ETCD_VERSION}, flannel ${V.FLANNEL_VERSION}, CNI plugins ${V.CNI_VERSION}, built from Go modules)`, () => {
  const state = tempDir('state');
  let seedBundle: string;
  beforeAll(async () => { seedBundle = await bundleOf(SEED, state); });

  test('the programs of the definition pass, and the install goes on', () => {
    const root = rootWithRealPrograms();
    const r = install(seedBundle, '--root', root);
    expect([r.status, versionLines(r.stderr)]).toEqual([0, []]);
    expect(r.stdout).toMatch(/k8s1: \d+ files added/);
    // Only the programs nobody put there are reported missing (containerd, runc, the flannel CNI plugin; nginx, keepalived).
    expect(r.stderr.split('\n').filter((l) => l.includes('warning: missing')).map((l) => l.split(' ')[3])).toEqual([
      '/usr/local/bin/containerd', '/usr/local/bin/containerd-shim-runc-v2', '/usr/local/sbin/runc', '/opt/cni/bin/flannel',
      '/usr/sbin/nginx', '/usr/sbin/keepalived',
    ]);
  });

  test('a program of another version is refused before anything changes, naming it, its version and the field', async () => {
    // A cluster of its own: on the seed's state, synth would refuse taking etcd down a minor (an upgrade's rule).
    const bundle = await bundleOf(withChanges(SEED, { binaries: { etcd: { version: '3.5.14' }, flannel: { version: '0.22.0' } } }), tempDir());
    // The etcd in place is the seed's, built from Go modules.
    const root = rootWithRealPrograms();
    const before = listing(root);
    const r = install(bundle, '--root', root);
    expect(r.status).toBe(1);
    expect(versionLines(r.stderr)).toEqual([
      `/opt/etcd/bin/etcd is version ${ETCD}; the definition (binaries.etcd.version) says 3.5.14`,
      `/opt/etcd/bin/etcdctl is version ${ETCD}; the definition (binaries.etcd.version) says 3.5.14`,
      `/opt/etcd/bin/etcdutl is version ${ETCD}; the definition (binaries.etcd.version) says 3.5.14`,
      '/opt/kubernetes/bin/flanneld is version 0.22.2; the definition (binaries.flannel.version) says 0.22.0',
    ]);
    expect(r.stderr).toContain('install.sh: error: 4 program(s) are not the versions of the definition; nothing was changed.');
    expect(r.stdout).toBe('');
    expect(listing(root)).toEqual(before);

    // --check reports them as drift and changes nothing either.
    const check = install(bundle, '--root', root, '--check');
    expect(check.status).toBe(3);
    expect(check.stdout.split('\n').filter((l) => l.includes('DRIFT version'))).toEqual([
      `install.sh: DRIFT version  /opt/etcd/bin/etcd is version ${ETCD}; the definition (binaries.etcd.version) says 3.5.14`,
      `install.sh: DRIFT version  /opt/etcd/bin/etcdctl is version ${ETCD}; the definition (binaries.etcd.version) says 3.5.14`,
      `install.sh: DRIFT version  /opt/etcd/bin/etcdutl is version ${ETCD}; the definition (binaries.etcd.version) says 3.5.14`,
      'install.sh: DRIFT version  /opt/kubernetes/bin/flanneld is version 0.22.2; the definition (binaries.flannel.version) says 0.22.0',
    ]);
    expect(listing(root)).toEqual(before);
  });

  (debian.ok ? test : test.skip)("Debian's containerd and runc (not the definition's), and a program that states no version, are refused", () => {
    const root = rootWithRealPrograms();
    fs.mkdirSync(path.join(root, 'usr/local/sbin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
    placeProgram(debian.path('containerd'), path.join(root, 'usr/local/bin/containerd'));
    placeProgram(debian.path('runc'), path.join(root, 'usr/local/sbin/runc'));
    fs.writeFileSync(path.join(root, 'opt/cni/bin/flannel'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    const before = listing(root);
    const r = install(seedBundle, '--root', root);
    expect(r.status).toBe(1);
    const lines = versionLines(r.stderr);
    expect(lines).toHaveLength(3);
    const model = ClusterModel.fromDefinition(SEED);
    expect(lines[0]).toMatch(new RegExp(`^/usr/local/bin/containerd is version 1\\.6\\.\\S+; the definition \\(binaries\\.containerd\\.version\\) says ${model.releaseOf('containerd').version}$`));
    expect(lines[1]).toMatch(new RegExp(`^/usr/local/sbin/runc is version 1\\.1\\.\\S+; the definition \\(binaries\\.runc\\.version\\) says ${model.releaseOf('runc').version}$`));
    expect(lines[2]).toBe('/opt/cni/bin/flannel states no version (it printed: hello); the definition (binaries.flannelCni.version) says 1.2.0');
    expect(listing(root)).toEqual(before);
  });

  test('the programs fetch-binaries.sh stages (stand-ins stating the definition\'s versions) pass, and none is missing', async () => {
    const s = await synthBundles(ecdsa(SEED), state);
    const root = tempDir('root');
    for (const b of fetchedBinariesOn(s.result.model.host('k8s1'), s.result.model)) {
      fs.mkdirSync(path.join(root, path.dirname(b.path)), { recursive: true });
      fs.writeFileSync(path.join(root, b.path), fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
    }
    const r = install(seedBundle, '--root', root);
    expect([r.status, versionLines(r.stderr)]).toEqual([0, []]);
    expect(r.stderr.split('\n').filter((l) => l.includes('warning: missing')).map((l) => l.split(' ')[3])).toEqual(['/usr/sbin/nginx', '/usr/sbin/keepalived']);
  });
});

describe('install.sh --root runs no program outside the root', () => {
  test('a program linked out of the root is not run: --check reports it, an install refuses, nothing changes', async () => {
    const state = tempDir('state');
    const s = await synthBundles(ecdsa(SEED), state);
    const bundle = tempDir('bundle');
    expect(spawnSync('tar', ['-xzf', s.archive('k8s1'), '-C', bundle]).status).toBe(0);
    const root = tempDir('root');
    for (const b of fetchedBinariesOn(s.result.model.host('k8s1'), s.result.model)) {
      fs.mkdirSync(path.join(root, path.dirname(b.path)), { recursive: true });
      fs.writeFileSync(path.join(root, b.path), fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
    }
    // Outside the root: the right version, and a trace that it ran.
    const outside = tempDir('outside');
    const ran = path.join(outside, 'ran');
    const apiserver = '/opt/kubernetes/bin/kube-apiserver';
    const stateVersion = s.result.model.releaseOf('kubernetes').version;
    fs.writeFileSync(path.join(outside, 'kube-apiserver'), `#!/bin/sh\ntouch '${ran}'\necho 'Kubernetes v${stateVersion}'\n`, { mode: 0o755 });
    fs.rmSync(path.join(root, apiserver));
    fs.symlinkSync(path.join(outside, 'kube-apiserver'), path.join(root, apiserver));
    const want = `${apiserver} leads outside --root ${fs.realpathSync(root)} (to ${path.join(fs.realpathSync(outside), 'kube-apiserver')}), so it was not run; put the program itself in the root`;

    const check = install(bundle, '--root', root, '--check');
    expect(check.status).toBe(3);
    expect(check.stdout.split('\n').filter((l) => l.includes('DRIFT version'))).toEqual([`install.sh: DRIFT version  ${want}`]);
    const before = listing(root);
    const r = install(bundle, '--root', root);
    expect([r.status, versionLines(r.stderr)]).toEqual([1, [want]]);
    expect(listing(root)).toEqual(before);
    expect(fs.existsSync(ran)).toBe(false);

    // The same program as a file of the root runs and passes.
    fs.rmSync(path.join(root, apiserver));
    fs.copyFileSync(path.join(outside, 'kube-apiserver'), path.join(root, apiserver));
    fs.chmodSync(path.join(root, apiserver), 0o755);
    const ok = install(bundle, '--root', root);
    expect([ok.status, versionLines(ok.stderr)]).toEqual([0, []]);
    expect(fs.existsSync(ran)).toBe(true);
  });
});
