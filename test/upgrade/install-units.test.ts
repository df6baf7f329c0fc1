/**
 * install.sh --units: one step of an upgrade wave on a host. Only the listed units' programs must be the new
 * versions, only they restart, and a file that only other units read waits for their step.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fetchedBinariesOn } from '../../lib/components';
import { ClusterModel } from '../../lib/model';
import { SEED, withChanges } from '../support/clusters';
import { fakeProgram } from '../support/release-archives';
import { synthBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const at = (version: string, patch: Record<string, unknown> = {}) => withChanges(SEED, {
  kubernetesVersion: version, certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' }, ...patch,
});

function unpack(archive: string): string {
  const out = tempDir('bundle');
  expect(spawnSync('tar', ['-xzf', archive, '-C', out]).status).toBe(0);
  return out;
}

/** The programs of k8s1 (master, etcd, lb) at a model's versions, written into root as stand-ins that state them. */
function programs(root: string, model: ClusterModel, only?: (p: string) => boolean): void {
  const k8s1 = model.hosts.find((h) => h.name === 'k8s1')!;
  for (const b of fetchedBinariesOn(k8s1, model)) {
    if (only && !only(b.path)) continue;
    fs.mkdirSync(path.join(root, path.dirname(b.path)), { recursive: true });
    fs.writeFileSync(path.join(root, b.path), fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
  }
}

const run = (bundle: string, args: string[]) => spawnSync('bash', [path.join(bundle, 'install.sh'), ...args], { encoding: 'utf8', timeout: 60000 });

test('an etcd step beside an older kubelet: etcd\'s programs checked, the kubelet\'s left for its step; files only the kubelet reads deferred until then', async () => {
  const dir = tempDir();
  const old = await synthBundles(at('1.36.5'), dir);
  const oldBundle = unpack(old.archive('k8s1'));
  // The new release also changes the kubelet's config: it must wait for the node step.
  const next = await synthBundles(at('1.37.2', { components: { kubelet: { config: { maxPods: 120 } } } }), dir);
  const root = path.join(tempDir(), 'root');
  programs(root, old.result.model);
  expect(run(oldBundle, ['--root', root]).status).toBe(0);
  const kubeletConfig = path.join(root, 'opt/kubernetes/cfg/kubelet-config.yaml');
  const before = fs.readFileSync(kubeletConfig, 'utf8');

  const bundle = unpack(next.archive('k8s1'));
  // Without --units the whole host must be at the new versions: refused, nothing changed.
  const whole = run(bundle, ['--root', root]);
  expect(whole.status).toBe(1);
  expect(whole.stderr).toContain('install.sh: VERSION  /opt/etcd/bin/etcd is version 3.6.17; the definition (binaries.etcd.version) says 3.7.4');
  // The etcd step: its programs replaced, the kubelet's still 1.36.5.
  programs(root, next.result.model, (p) => p.startsWith('/opt/etcd/bin/'));
  const step = run(bundle, ['--root', root, '--units', 'etcd.service,etcd-snapshot.timer']);
  expect([step.status, step.stderr.split('\n').filter((l) => /error|VERSION/.test(l))]).toEqual([0, []]);
  expect(step.stdout).toContain('install.sh: deferred /opt/kubernetes/cfg/kubelet-config.yaml (read by units of a later step)');
  expect(step.stdout).toMatch(/deferred to a later step/);
  expect(fs.readFileSync(kubeletConfig, 'utf8')).toBe(before);
  // Listing the kubelet while its program is old is refused, as a whole install is.
  const early = run(bundle, ['--root', root, '--units', 'kubelet.service']);
  expect([early.status, early.stderr]).toEqual([1, expect.stringContaining('install.sh: VERSION  /opt/kubernetes/bin/kubelet is version 1.36.5; the definition (kubernetesVersion) says 1.37.2')]);
  // Its step, once its programs are there: the config is written now.
  programs(root, next.result.model);
  const node = run(bundle, ['--root', root, '--units', 'containerd.service,kube-proxy.service,kubelet.service,flanneld.service,kubelet-bootstrap-cleanup.service']);
  expect(node.status).toBe(0);
  expect(fs.readFileSync(kubeletConfig, 'utf8')).toContain('maxPods: 120');
  // The ordinary install afterwards has nothing left but what no step covers (nginx and keepalived's files are unchanged).
  expect(run(bundle, ['--root', root]).stdout).toContain('k8s1: nothing changed');
});

test('--units names only units the host runs, and does not go with --check', async () => {
  const s = await synthBundles(at('1.37.2'));
  const bundle = unpack(s.archive('k8s4'));
  const root = path.join(tempDir(), 'root');
  const bad = run(bundle, ['--root', root, '--units', 'kube-apiserver.service']);
  expect([bad.status, bad.stderr]).toEqual([1, expect.stringContaining('install.sh: error: --units: k8s4 runs no unit kube-apiserver.service; it runs: containerd.service')]);
  const both = run(bundle, ['--root', root, '--units', 'kubelet.service', '--check']);
  expect([both.status, both.stderr]).toEqual([1, expect.stringContaining('--units and --check do not go together')]);
  expect(run(bundle, ['--units']).status).toBe(2);
  expect(fs.existsSync(root)).toBe(true); // made by --root, nothing in it
  expect(fs.readdirSync(root)).toEqual([]);
});
