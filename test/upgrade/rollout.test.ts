/**
 * The upgrade as synth plans it and deploy.sh rolls it out, against stand-ins for ssh, scp and kubectl that log each
 * call and answer as a cluster at the starting release would (test/support/deploy-stubs.ts). test/cluster proves the
 * same waves on booted components.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { synthesizeCluster } from '../../lib';
import { fetchedBinariesByRole } from '../../lib/components';
import { UPGRADE_PATHS, stagedVersions } from '../../lib/output';
import { SEED, withChanges } from '../support/clusters';
import { DeployStubs, deployStubs, runDeploy } from '../support/deploy-stubs';
import { fakeProgram } from '../support/release-archives';
import { SynthesizedBundles, synthBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

const at = (version: string, patch: Record<string, unknown> = {}) => withChanges(SEED, {
  kubernetesVersion: version, certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' }, ...patch,
});

/** kubectl as the operator's: logs its arguments, answers from files in the stubs' directory. */
function kubectlStub(st: DeployStubs, o: { clientMinor: number; nodes: string; pdbs?: string; drainFails?: boolean }): string {
  const file = path.join(st.dir, 'kubectl');
  fs.writeFileSync(path.join(st.dir, 'nodes'), o.nodes);
  fs.writeFileSync(path.join(st.dir, 'pdbs'), o.pdbs ?? '');
  fs.writeFileSync(file, `#!/bin/bash
args=("$@"); set -- "\${args[@]:3}"   # --kubeconfig admin.kubeconfig --request-timeout=30s
[ "\${args[0]}" = --kubeconfig ] || set -- "\${args[@]}"
echo "kubectl $*" >> ${st.log}
case "$*" in
  "version --client -o json") echo '{"clientVersion": {"major": "1", "minor": "${o.clientMinor}"}}' ;;
  "get nodes -o jsonpath="*) cat ${st.dir}/nodes ;;
  "get --raw /metrics") echo 'apiserver_request_total 1' ;;
  "get --raw /apis/"*) exit 1 ;;
  "get pdb "*) cat ${st.dir}/pdbs ;;
  "get pods "*) printf 'default/web-1 ' ;;
  "get node "*) printf 'v1.37.2 True' ;;
  drain*) ${o.drainFails ? 'exit 1' : 'exit 0'} ;;
esac
exit 0
`, { mode: 0o755 });
  return file;
}

function stage(s: SynthesizedBundles): void {
  const staged = path.join(s.dir, 'dist/binaries');
  const { model } = s.result;
  fs.rmSync(staged, { recursive: true, force: true });
  for (const [role, binaries] of fetchedBinariesByRole(model)) {
    for (const b of binaries) {
      fs.mkdirSync(path.join(staged, role, path.dirname(b.path)), { recursive: true });
      fs.writeFileSync(path.join(staged, role, b.path), fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
    }
  }
  fs.writeFileSync(path.join(staged, 'VERSIONS'), stagedVersions(model));
}

describe('synth plans the upgrade against the last synth', () => {
  test('a skipped minor is refused before anything is written: dist/ and the state stay as they were', async () => {
    const dir = tempDir();
    const opts = { outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined };
    await synthesizeCluster(at('1.35.8'), opts);
    const before = spawnSync('bash', ['-c', `cd ${dir} && find . -type f -exec sha256sum {} + | sort`], { encoding: 'utf8' }).stdout;
    await expect(synthesizeCluster(at('1.37.2'), opts)).rejects.toThrow(
      /kubernetesVersion: "1\.37\.2" skips Kubernetes 1\.36 \(the cluster runs 1\.35\.8\); upgrade one minor at a time/);
    expect(spawnSync('bash', ['-c', `cd ${dir} && find . -type f -exec sha256sum {} + | sort`], { encoding: 'utf8' }).stdout).toBe(before);
  });

  test('the plan shows each wave and host with its versions, restarts, drain and checks; the flag changes; the rollback', async () => {
    const dir = tempDir();
    const opts = { outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state') };
    await synthesizeCluster(at('1.36.5'), { ...opts, log: () => undefined });
    const lines: string[] = [];
    const r = await synthesizeCluster(at('1.37.2'), { ...opts, log: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(r.upgrade?.target).toBe('kubernetes=1.37.2 etcd=3.7.4');
    expect(text).toContain('upgrade (a minor upgrade): kubernetes 1.36.5 → 1.37.2, etcd 3.6.17 → 3.7.4');
    expect(text).toContain('  wave etcd: etcd, one member at a time, the cluster healthy between');
    expect(text).toMatch(/    k8s1 etcd: etcd 3\.6\.17 → 3\.7\.4; restart etcd\.service, etcd-snapshot\.timer; no drain; wait for etcd member health, etcd cluster health/);
    expect(text).toMatch(/    k8s3 node: kubernetes 1\.36\.5 → 1\.37\.2; restart containerd\.service, kube-proxy\.service, kubelet\.service, flanneld\.service, kubelet-bootstrap-cleanup\.service; cordon and drain first \(at most 300 s\), uncordon after; wait for kubelet \/healthz, Node Ready with kubelet v1\.37\.2/);
    expect(text).toContain('    after it: apiservers 1.37.2, kubelets 1.36.5; the roll-out reads both');
    expect(text).toMatch(/rollback: a minor cannot be rolled back by a roll-out: restore the snapshot/);
    expect(text).toMatch(/^ {2}(kube-apiserver|kubelet|kube-proxy|kube-scheduler|kube-controller-manager): \d+ changes?: |^ {2}flags and config fields: unchanged$/m);
    // A second synth with nothing changed keeps the waves in deploy.sh (a host skips what it recorded done).
    const lines2: string[] = [];
    const r2 = await synthesizeCluster(at('1.37.2'), { ...opts, log: (l) => lines2.push(l) });
    expect(r2.upgrade?.target).toBe('kubernetes=1.37.2 etcd=3.7.4');
    expect(fs.readFileSync(path.join(dir, 'dist/deploy.sh'), 'utf8')).toContain("'wave=node step=node host=k8s4 ip=192.168.100.40 drain=1 units=");
    // A patch rollback afterwards is planned from 1.37.2.
    const r3 = await synthesizeCluster(at('1.37.1'), { ...opts, log: () => undefined });
    expect([r3.upgrade?.kind, r3.upgrade?.from.kubernetes, r3.upgrade?.to.kubernetes]).toEqual(['patch', '1.37.2', '1.37.1']);
  });
});

describe('deploy.sh rolls the upgrade out in waves', () => {
  let s: SynthesizedBundles;
  beforeAll(async () => {
    const dir = tempDir();
    await synthBundles(at('1.36.5'), dir);
    s = await synthBundles(at('1.37.2'), dir);
    stage(s);
  });
  const dist = () => path.join(s.dir, 'dist');
  const NODES = 'k8s1 v1.36.5\nk8s2 v1.36.5\nk8s3 v1.36.5\nk8s4 v1.36.5\n';
  function cluster(o: { clientMinor?: number; pdbs?: string; drainFails?: boolean; nodes?: string } = {}) {
    const st = deployStubs();
    for (const m of s.result.model.masters) fs.writeFileSync(path.join(st.dir, `version-${m.ip}`), 'v1.36.5');
    const kubectl = kubectlStub(st, { clientMinor: o.clientMinor ?? 37, nodes: o.nodes ?? NODES, pdbs: o.pdbs, drainFails: o.drainFails });
    return { st, env: { KUBECTL: kubectl } };
  }
  const calls = (st: DeployStubs) => fs.readFileSync(st.log, 'utf8').trim().split('\n');

  test('the plan (no --yes) lists every step and changes nothing', () => {
    const { st, env } = cluster();
    const r = runDeploy(dist(), [], st, env);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('deploy.sh: upgrade: kubernetes 1.36.5 → 1.37.2, etcd 3.6.17 → 3.7.4, in waves');
    expect(r.stdout).toContain('deploy.sh:   node/node on k8s4: programs /opt/kubernetes/bin/kubelet /opt/kubernetes/bin/kube-proxy; restart containerd.service kube-proxy.service kubelet.service flanneld.service kubelet-bootstrap-cleanup.service, drained first (at most 300s)');
    expect(fs.existsSync(st.log)).toBe(false);
  });

  test('with --yes: preflight and snapshot, then each step in plan order (its programs, install.sh --units, a drain for a minor), each recorded; a re-run does nothing of it', () => {
    const { st, env } = cluster();
    const r = runDeploy(dist(), ['--yes'], st, env);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const log = calls(st);
    const units = log.filter((c) => c.includes('install.sh --units')).map((c) => `${c.split(' ')[1].replace('root@', '')} ${c.split('--units ')[1]}`);
    const ip = (n: string) => s.result.model.hosts.find((h) => h.name === n)!.ip;
    const steps = s.result.upgrade!.waves.flatMap((w) => w.steps);
    expect(units).toEqual(steps.map((st2) => `${ip(st2.host.name)} ${st2.units.join(',')}`));
    // The snapshot before the first step; each drain before its host's install, uncordon after.
    const first = log.findIndex((c) => c.includes('install.sh --units'));
    expect(log.findIndex((c) => c.includes('etcd-snapshot.sh'))).toBeLessThan(first);
    for (const n of ['k8s1', 'k8s2', 'k8s3', 'k8s4']) {
      const drain = log.indexOf(`kubectl drain ${n} --ignore-daemonsets --delete-emptydir-data --timeout=300s`);
      const install = log.findIndex((c, i) => i > drain && c.includes(`root@${ip(n)}`) && c.includes('install.sh --units containerd.service'));
      const uncordon = log.indexOf(`kubectl uncordon ${n}`);
      expect([n, drain >= 0, drain < install, install < uncordon]).toEqual([n, true, true, true]);
    }
    for (const st2 of steps) {
      expect(fs.readFileSync(path.join(st.dir, `reached-${ip(st2.host.name)}-${st2.step}`), 'utf8').trim()).toBe('kubernetes=1.37.2 etcd=3.7.4');
    }
    expect(r.stdout).toMatch(/deploy\.sh: {3}skew: apiservers k8s1 v1\.36\.5 k8s2 v1\.36\.5 \| kubelets k8s1 v1\.36\.5/);
    expect(log).toContain('kubectl apply -f addons');
    // The previous programs are kept, the new ones copied once; the second run copies nothing and skips every step.
    const tars = log.filter((c) => c.includes('tar -xzf - -C /')).length;
    expect(tars).toBeGreaterThan(0);
    const before = log.length;
    const again = runDeploy(dist(), ['--yes'], st, env);
    expect([again.status, again.stderr]).toEqual([0, '']);
    const later = calls(st).slice(before);
    expect(again.stdout).toContain('deploy.sh: upgrade to kubernetes=1.37.2 etcd=3.7.4: every step is recorded done on its host');
    expect(later.filter((c) => /install\.sh --units|kubectl (drain|cordon)|etcd-snapshot|tar -xzf - -C \//.test(c))).toEqual([]);
    expect(fs.existsSync(UPGRADE_PATHS.reached)).toBe(false); // the stubs, never this machine
  });

  test('a killed roll-out, run again, starts at the first step not recorded done', () => {
    const { st, env } = cluster();
    const steps = s.result.upgrade!.waves.flatMap((w) => w.steps);
    const ip = (n: string) => s.result.model.hosts.find((h) => h.name === n)!.ip;
    // As if the first run died after the etcd wave and k8s1's apiserver.
    const done = steps.slice(0, 4);
    for (const d of done) fs.writeFileSync(path.join(st.dir, `reached-${ip(d.host.name)}-${d.step}`), 'kubernetes=1.37.2 etcd=3.7.4\n');
    const r = runDeploy(dist(), ['--yes'], st, env);
    expect([r.status, r.stderr]).toEqual([0, '']);
    for (const d of done) expect(r.stdout).toContain(`deploy.sh:   ${d.host.name} ${d.step}: done before (kubernetes=1.37.2 etcd=3.7.4)`);
    const units = calls(st).filter((c) => c.includes('install.sh --units')).map((c) => c.split('--units ')[1]);
    expect(units).toEqual(steps.slice(4).map((x) => x.units.join(',')));
  });

  test('the preflight stops before any host: a kubectl outside the skew window, a PodDisruptionBudget that allows no disruption, a host at another release', () => {
    for (const [o, msg] of [
      [{ clientMinor: 35 }, 'preflight: kubectl is 1.35, outside the skew window of 1.37 (1.36 to 1.38)'],
      [{ pdbs: 'default/web 0 2\nkube-system/coredns 1 2\n' }, 'preflight: these PodDisruptionBudgets allow no disruption now, so a drain would wait on them until it times out: default/web'],
      [{ nodes: `${NODES}k8s9 v1.35.8\n` }, 'preflight: the kubelet of k8s9 is v1.35.8; this roll-out goes from 1.36.5 to 1.37.2'],
    ] as const) {
      const { st, env } = cluster(o);
      const r = runDeploy(dist(), ['--yes'], st, env);
      expect([r.status, r.stderr]).toEqual([1, expect.stringContaining(msg)]);
      expect(calls(st).filter((c) => c.includes('install.sh'))).toEqual([]);
    }
  });

  test('a drain that times out stops the roll-out, names the pods still on the node, and leaves later hosts alone', () => {
    const { st, env } = cluster({ drainFails: true });
    const r = runDeploy(dist(), ['--yes'], st, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('deploy.sh: error: k8s1: the drain did not finish within 300s; still on it: default/web-1 . A PodDisruptionBudget');
    expect(calls(st).filter((c) => c.includes('install.sh --units containerd.service'))).toEqual([]);
  });

  test('a kubelet newer than the oldest apiserver after a step stops the roll-out there', () => {
    // The first step's skew check reads a kubelet at 1.37 while the apiservers are 1.36.
    const { st, env } = cluster({ nodes: 'k8s1 v1.36.5\nk8s4 v1.37.2\n' });
    const r = runDeploy(dist(), ['--yes'], st, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('deploy.sh: error: the version-skew policy no longer holds: the kubelet of k8s4 (v1.37.2) is newer than the oldest apiserver (1.36)');
    expect(calls(st).filter((c) => c.includes('install.sh --units'))).toEqual([expect.stringContaining('install.sh --units etcd.service,etcd-snapshot.timer')]);
  });

  test('without binaries/ an upgrade is refused before any host', () => {
    const { st, env } = cluster();
    const staged = path.join(dist(), 'binaries');
    fs.renameSync(staged, `${staged}.aside`);
    try {
      const r = runDeploy(dist(), ['--yes'], st, env);
      expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('this synth upgrades (kubernetes 1.36.5 → 1.37.2, etcd 3.6.17 → 3.7.4): the new programs must come from binaries/')]);
      expect(fs.existsSync(st.log)).toBe(false);
    } finally {
      fs.renameSync(`${staged}.aside`, staged);
    }
  });
});
