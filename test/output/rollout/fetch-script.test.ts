import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { fetchedBinariesByRole } from '../../../lib/components';
import { ClusterDefinition, ClusterModel, ResolvedRelease } from '../../../lib/model';
import { renderFetchScript, stagedVersions } from '../../../lib/output';
import { SEED, withChanges } from '../../support/clusters';
import { requirePrograms } from '../../support/programs';
import { TestArchive, buildArchives, fakeProgram } from '../../support/release-archives';
import { cleanupTempDirs, tempDir } from '../../support/tmp';

afterAll(cleanupTempDirs);

const tools = requirePrograms(['curl', 'tar', 'sha256sum', 'sha512sum']);

/** A loopback HTTP server: serves bytes by path, logs every request, answers 404 to anything else. */
class ArchiveServer {
  readonly requests: string[] = [];
  private readonly files = new Map<string, Buffer>();
  private server?: http.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.requests.push(req.url ?? '');
      const body = this.files.get(req.url ?? '');
      if (!body) { res.writeHead(404); res.end('not found'); return; }
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  serve(urlPath: string, body: Buffer): void { this.files.set(urlPath, body); }

  taken(): string[] { return this.requests.splice(0); }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** Runs a generated fetch-binaries.sh with bash, the real curl, tar and sha*sum; at most 60 s. The server answers meanwhile. */
function runScript(script: string, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/** The generated script in a directory of its own, as in dist/. */
function writeScript(model: ClusterModel, releases?: readonly ResolvedRelease[]): { dir: string; script: string } {
  const dir = tempDir('dist');
  const script = path.join(dir, 'fetch-binaries.sh');
  fs.writeFileSync(script, renderFetchScript(model, releases), { mode: 0o755 });
  return { dir, script };
}

/** Every file under dir, relative, sorted. */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/**
 * The seed on 1.27.16 (whose server checksum kubesmith ships) with the companions pinned, so the file names below
 * stay put when the seed's versions move.
 */
const PINNED = {
  etcd: { version: '3.5.15' }, flannel: { version: '0.22.2' }, flannelCni: { version: '1.2.0' },
  cniPlugins: { version: '1.3.0' }, containerd: { version: '1.7.20' }, runc: { version: '1.1.13' },
};
const withMirror = (mirror?: string): ClusterDefinition => withChanges(SEED, {
  kubernetesVersion: '1.27.16', binaries: { ...PINNED, ...(mirror ? { mirror } : {}) },
});

(tools.ok ? describe : describe.skip)('dist/fetch-binaries.sh against a loopback server (real curl, tar, sha256sum)', () => {
  const server = new ArchiveServer();
  let model: ClusterModel;
  let archives: TestArchive[];
  let pinned: ResolvedRelease[];
  const mirrorPath = '/mirror/k8s';

  beforeAll(async () => {
    await server.start();
    model = ClusterModel.fromDefinition(withMirror(`http://127.0.0.1:${server.port}${mirrorPath}`));
    ({ archives, pinned } = buildArchives(model.releases));
    for (const a of archives) server.serve(new URL(a.release.url).pathname, a.bytes);
  });
  afterAll(() => server.stop());

  test('downloads each archive once through the mirror, checks it, and stages per role what the component table runs there', async () => {
    const { dir, script } = writeScript(model, pinned);
    const r = await runScript(script);
    expect([r.status, r.stderr]).toEqual([0, '']);

    // Each archive once, at the mirror: the upstream URL without https:// below the mirror's path.
    expect(server.taken().sort()).toEqual(model.releases.map((x) => `${mirrorPath}/${x.upstreamUrl.replace('https://', '')}`).sort());
    expect(r.stdout.match(/verified /g)).toHaveLength(model.releases.length);

    // binaries/<role>/<install path>: exactly what the component table gives each role, executable, the archive's bytes.
    const staged = path.join(dir, 'binaries');
    for (const [role, binaries] of fetchedBinariesByRole(model)) {
      if (binaries.length === 0) { expect(fs.existsSync(path.join(staged, role))).toBe(false); continue; }
      expect([role, files(path.join(staged, role))]).toEqual([role, binaries.map((b) => b.path.slice(1)).sort()]);
      for (const b of binaries) {
        const file = path.join(staged, role, b.path);
        expect([b.path, fs.readFileSync(file, 'utf8'), fs.statSync(file).mode & 0o777]).toEqual([b.path, fakeProgram(b.program.name, b.release.version), 0o755]);
      }
    }
    expect(files(path.join(staged, 'master'))).toContain('opt/kubernetes/bin/kube-apiserver');
    expect(files(path.join(staged, 'node'))).not.toContain('opt/kubernetes/bin/kube-apiserver');
    expect(files(path.join(staged, 'etcd'))).toEqual(['opt/etcd/bin/etcd', 'opt/etcd/bin/etcdctl', 'opt/etcd/bin/etcdutl']);
    expect(fs.readFileSync(path.join(staged, 'VERSIONS'), 'utf8')).toBe(stagedVersions(model));
    expect(fs.readFileSync(path.join(staged, 'VERSIONS'), 'utf8')).toContain('kubernetes 1.27.16\netcd 3.5.15\n');

    // A second run downloads nothing: the kept archives still match their checksums.
    const again = await runScript(script);
    expect([again.status, again.stderr, server.taken()]).toEqual([0, '', []]);
    expect(again.stdout.match(/have /g)).toHaveLength(model.releases.length);
  });

  test('a tampered archive is refused and deleted, and nothing is staged; an earlier staging stays as it was', async () => {
    const { dir, script } = writeScript(model, pinned);
    const etcd = archives.find((a) => a.release.release.id === 'etcd')!;
    const etcdPath = new URL(etcd.release.url).pathname;
    const tampered = Buffer.from(etcd.bytes);
    tampered[tampered.length - 10] ^= 0xff;
    server.serve(etcdPath, tampered);
    try {
      const r = await runScript(script);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/REFUSED {2}etcd-v3\.5\.15-linux-amd64\.tar\.gz from http:\/\/127\.0\.0\.1:\d+\/mirror\/k8s\/github\.com\/etcd-io\/etcd\/releases\/download\/v3\.5\.15\/etcd-v3\.5\.15-linux-amd64\.tar\.gz: its sha256 is [0-9a-f]{64}, but [0-9a-f]{64} is pinned \(the test checksum table\); deleted/);
      expect(r.stderr).toContain('1 archive(s) refused or missing; nothing was staged');
      const staged = path.join(dir, 'binaries');
      // Only the good archives are kept; no role directory, no VERSIONS, no part file.
      expect(files(staged).filter((f) => !f.startsWith('archives/'))).toEqual([]);
      expect(files(staged).filter((f) => f.includes('etcd'))).toEqual([]);
      server.taken();

      // With the good archive once, then a tampered one: the staging of the good run is untouched.
      server.serve(etcdPath, etcd.bytes);
      expect((await runScript(script)).status).toBe(0);
      const before = files(staged).map((f) => `${f} ${fs.statSync(path.join(staged, f)).mtimeMs}`);
      fs.rmSync(path.join(staged, 'archives', 'etcd-3.5.15'), { recursive: true });
      server.serve(etcdPath, tampered);
      const r2 = await runScript(script);
      expect(r2.status).toBe(1);
      expect(files(staged).map((f) => `${f} ${fs.statSync(path.join(staged, f)).mtimeMs}`)).toEqual(before.filter((l) => !l.startsWith('archives/etcd-3.5.15/')));
    } finally {
      server.serve(etcdPath, etcd.bytes);
      server.taken();
    }
  });

  test('an archive the mirror does not have fails the run, and nothing is staged', async () => {
    const moved = pinned.map((r) => (r.release.id === 'runc' ? { ...r, url: r.url.replace('v1.1.13', 'v9.9.9') } : r));
    const { dir, script } = writeScript(model, moved);
    const r = await runScript(script);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAILED {3}http:\/\/127\.0\.0\.1:\d+\/mirror\/k8s\/github\.com\/opencontainers\/runc\/releases\/download\/v9\.9\.9\/runc\.amd64 could not be downloaded/);
    expect(files(path.join(dir, 'binaries')).filter((f) => !f.startsWith('archives/'))).toEqual([]);
    server.taken();
  });

  test('without a checksum for an archive it refuses to run, says where to find one, and downloads nothing', async () => {
    // The model's own releases: Kubernetes' checksum is shipped, the others come from the definition, which has none.
    const { dir, script } = writeScript(model);
    const r = await runScript(script);
    expect(r.status).toBe(1);
    expect(server.taken()).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'binaries'))).toBe(false);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('no checksum for')).map((l) => l.replace(/^fetch-binaries\.sh: no checksum for (\S+) .*/, '$1'))).toEqual([
      'etcd-v3.5.15-linux-amd64.tar.gz', 'flannel-v0.22.2-linux-amd64.tar.gz', 'cni-plugin-flannel-linux-amd64-v1.2.0.tgz',
      'cni-plugins-linux-amd64-v1.3.0.tgz', 'containerd-1.7.20-linux-amd64.tar.gz', 'runc.amd64',
    ]);
    expect(lines[0]).toBe("fetch-binaries.sh: no checksum for etcd-v3.5.15-linux-amd64.tar.gz (etcd 3.5.15): no upstream file kubesmith can read states it. "
      + 'Copy its checksum from the release page https://github.com/etcd-io/etcd/releases/tag/v3.5.15 (the sha256 shown beside the asset, or its line in the SHA256SUMS asset) '
      + "into the cluster definition as binaries.etcd.checksum ('sha256:<hex>' or 'sha512:<hex>'), synth again, and run the new dist/fetch-binaries.sh.");
    expect(lines.slice(-1)[0]).toBe('fetch-binaries.sh: error: 6 archive(s) have no checksum; nothing was downloaded');
  });

  test('checksums given in the definition are the ones the fetch checks', async () => {
    const etcd = pinned.find((x) => x.release.id === 'etcd')!;
    const def = withChanges(withMirror(`http://127.0.0.1:${server.port}${mirrorPath}`), {});
    const binaries = Object.fromEntries(pinned.filter((x) => x.release.id !== 'kubernetes')
      .map((x) => [x.release.id, { ...PINNED[x.release.id as keyof typeof PINNED], checksum: `sha256:${x.checksum!.hex}` }]));
    const m = ClusterModel.fromDefinition({ ...def, binaries: { ...def.binaries, ...binaries } });
    // Kubernetes' shipped checksum cannot match a test archive: pin only that one from the test table.
    const releases = m.releases.map((x) => (x.release.id === 'kubernetes' ? pinned.find((p) => p.release.id === 'kubernetes')! : x));
    expect(releases.find((x) => x.release.id === 'etcd')!.checksum).toEqual({ algorithm: 'sha256', hex: etcd.checksum!.hex, source: 'binaries.etcd.checksum in the cluster definition' });
    const { script } = writeScript(m, releases);
    const r = await runScript(script);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('verified etcd-v3.5.15-linux-amd64.tar.gz (sha256 as pinned: binaries.etcd.checksum in the cluster definition)');
    server.taken();
  });
});

describe('the mirror setting', () => {
  test('changes every URL the fetch downloads, and nothing else', () => {
    const upstream = ClusterModel.fromDefinition(withMirror());
    const mirrored = ClusterModel.fromDefinition(withMirror('https://mirror.example.cn/k8s/'));
    expect(upstream.releases.map((r) => r.url)).toEqual([
      'https://dl.k8s.io/v1.27.16/kubernetes-server-linux-amd64.tar.gz',
      'https://github.com/etcd-io/etcd/releases/download/v3.5.15/etcd-v3.5.15-linux-amd64.tar.gz',
      'https://github.com/flannel-io/flannel/releases/download/v0.22.2/flannel-v0.22.2-linux-amd64.tar.gz',
      'https://github.com/flannel-io/cni-plugin/releases/download/v1.2.0/cni-plugin-flannel-linux-amd64-v1.2.0.tgz',
      'https://github.com/containernetworking/plugins/releases/download/v1.3.0/cni-plugins-linux-amd64-v1.3.0.tgz',
      'https://github.com/containerd/containerd/releases/download/v1.7.20/containerd-1.7.20-linux-amd64.tar.gz',
      'https://github.com/opencontainers/runc/releases/download/v1.1.13/runc.amd64',
    ]);
    expect(mirrored.releases.map((r) => r.url)).toEqual(upstream.releases.map((r) => r.url.replace('https://', 'https://mirror.example.cn/k8s/')));
    const a = renderFetchScript(upstream);
    const b = renderFetchScript(mirrored);
    const diff = a.split('\n').filter((l, i) => l !== b.split('\n')[i]);
    expect(diff).toHaveLength(upstream.releases.length);
    for (const r of upstream.releases) expect(b).toContain(`'${r.url.replace('https://', 'https://mirror.example.cn/k8s/')}'`);
    // The checksums and their sources are the same either way.
    expect(b).toContain("'sha512' 'cbcb0591a3a84f98cf2c7abe11c5531e7f79850714abdd957be52049afed14031d0ab9c584c2e54775bceedf8833a500148d5d01335474b33cbb8b30b7ce51b3'");
  });
});
