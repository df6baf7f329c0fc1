import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { HostBundle, binarySource, fetchedBinariesOn } from '../../lib/components';
import { packBundle, sha256 } from '../../lib/output';
import { hostDirectories, INSTALL_SCRIPT } from '../../hosts';
import { PATHS } from '../../lib/model';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { fakeProgram } from '../support/release-archives';
import { synthBundles, SynthesizedBundles } from '../support/synth-bundles';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

describe.each([['seed', SEED], ['large', LARGE]] as const)('%s cluster', (_name, def) => {
  let s: SynthesizedBundles;
  beforeAll(async () => { s = await synthBundles(def); });

  test('install.sh of every host', () => {
    const scripts = Object.fromEntries(s.result.model.hosts.map((h) => [h.name, s.text(h.name, INSTALL_SCRIPT)]));
    expect(scripts).toMatchSnapshot();
  });

  test('install.sh sits at the archive root, executable, listed in MANIFEST, and is valid bash', () => {
    for (const h of s.result.model.hosts) {
      const entries = s.bundles.get(h.name)!;
      const script = entries.get(INSTALL_SCRIPT)!;
      expect([h.name, script.mode]).toEqual([h.name, 0o755]);
      expect(s.text(h.name, 'MANIFEST')).toContain(`0755 ${sha256(script.content)} ${INSTALL_SCRIPT}\n`);
      expect([...entries.keys()].filter((p) => !p.includes('/')).sort()).toEqual(['MANIFEST', INSTALL_SCRIPT]);
      const r = spawnSync('bash', ['-n'], { input: script.content, timeout: 10000 });
      expect([h.name, r.status, r.stderr.toString()]).toEqual([h.name, 0, '']);
    }
  });
});

/** Records every call of the commands that would touch the running system. */
function stubBin(): { dir: string; log: string } {
  const dir = tempDir();
  const log = path.join(dir, 'calls.log');
  for (const cmd of ['systemctl', 'sysctl', 'modprobe', 'swapoff']) {
    fs.writeFileSync(path.join(dir, cmd), `#!/bin/bash\necho "${cmd} $*" >> ${log}\n`, { mode: 0o755 });
  }
  return { dir, log };
}

function unpack(archive: string): string {
  const dir = tempDir();
  const r = spawnSync('tar', ['-xzf', archive, '-C', dir], { encoding: 'utf8', timeout: 30000 });
  expect([r.status, r.stderr]).toEqual([0, '']);
  return dir;
}

function install(bundleDir: string, args: string[], stubs: { dir: string }): SpawnSyncReturns<string> {
  const r = spawnSync('bash', [path.join(bundleDir, INSTALL_SCRIPT), ...args], {
    encoding: 'utf8', timeout: 60000, cwd: tempDir(), env: { ...process.env, PATH: `${stubs.dir}:${process.env.PATH}` },
  });
  if (r.error) throw r.error;
  return r;
}

/** Every file and directory under root: type, mode, mtime, and the sha256 of files. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(root, p);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isDirectory()) {
        out.push(`d ${mode} ${st.mtimeMs} ${rel}/`);
        walk(p);
      } else {
        out.push(`${st.isFile() ? 'f' : 'other'} ${mode} ${st.mtimeMs} ${rel} ${st.isFile() ? sha256(fs.readFileSync(p)) : ''}`);
      }
    }
  };
  walk(root);
  return out;
}

interface ManifestEntry { mode: string; sum: string; path: string }
function manifest(bundleDir: string): ManifestEntry[] {
  return fs.readFileSync(path.join(bundleDir, 'MANIFEST'), 'utf8').trim().split('\n').map((l) => {
    const [mode, sum, p] = l.split(' ');
    return { mode, sum, path: p };
  });
}

function filesUnder(root: string): string[] {
  return tree(root).filter((l) => l.startsWith('f ')).map((l) => l.split(' ')[3]);
}

describe('install.sh --root, run for real on every SEED host', () => {
  let s: SynthesizedBundles;
  beforeAll(async () => { s = await synthBundles(SEED); });

  test.each(SEED.hosts.map((h) => h.name))('%s: lays out the MANIFEST, makes the directories, reports missing binaries; a second run changes nothing', (host) => {
    const bundleDir = unpack(s.archive(host));
    const root = path.join(tempDir(), 'root');
    const stubs = stubBin();
    const first = install(bundleDir, ['--root', root], stubs);
    expect([first.status, first.stderr.split('\n').filter((l) => l.includes('error'))]).toEqual([0, []]);

    // Exactly the MANIFEST's installable files, with its modes and content; not install.sh nor MANIFEST. Beside them
    // the record of what was installed: the host's units, then its files.
    const wanted = manifest(bundleDir).filter((e) => e.path.includes('/'));
    const record = PATHS.installedRecord.slice(1);
    expect(filesUnder(root)).toEqual([...wanted.map((e) => e.path), record].sort());
    expect(fs.readFileSync(path.join(root, record), 'utf8')).toBe([
      ...s.result.cluster.bundle(host).services.map((sv) => `unit ${sv.unit}`), ...wanted.map((e) => `file ${e.path}`)].map((l) => `${l}\n`).join(''));
    for (const e of wanted) {
      const p = path.join(root, e.path);
      expect([e.path, (fs.statSync(p).mode & 0o7777).toString(8).padStart(4, '0'), sha256(fs.readFileSync(p))]).toEqual([e.path, e.mode, e.sum]);
    }
    expect(first.stdout).toContain(`${host}: ${wanted.length} files added, 0 updated, 0 unchanged`);

    // The role directories, with their modes.
    const bundle = s.result.cluster.bundle(host);
    for (const d of hostDirectories(bundle.host, s.result.model)) {
      const st = fs.statSync(path.join(root, d.path));
      expect([d.path, st.isDirectory(), st.mode & 0o7777]).toEqual([d.path, true, d.mode]);
    }

    // Every binary of every registered service is missing under the fresh root, with where to get it.
    const missing = bundle.services.flatMap((svc) => svc.binaries.map((b) => `warning: missing ${b} (for ${svc.unit}): get it from ${binarySource(b, svc, s.result.model)}`));
    expect(first.stderr.split('\n').filter((l) => l.includes('warning: missing')).map((l) => l.replace(/^install\.sh: /, ''))).toEqual(missing);
    if (missing.length > 0) expect(first.stdout).toContain(`${missing.length} binaries missing`);

    // Idempotent: same tree, mtimes included, and it says so.
    const before = tree(root);
    const second = install(bundleDir, ['--root', root], stubs);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`${host}: nothing changed (${wanted.length} files up to date)`);
    expect(second.stdout).not.toMatch(/added|updated|created|chmod/);
    expect(tree(root)).toEqual(before);

    // --root never touches the running system.
    expect(fs.existsSync(stubs.log)).toBe(false);
  });

  test('a tampered or missing file fails the run before anything is installed', () => {
    const stubs = stubBin();
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['tampered config', (d) => fs.appendFileSync(path.join(d, 'etc/nginx/nginx.conf'), '# edited\n'), /MISMATCH etc\/nginx\/nginx\.conf: sha256 [0-9a-f]{64}, MANIFEST says [0-9a-f]{64}/],
      ['tampered install.sh', (d) => fs.appendFileSync(path.join(d, INSTALL_SCRIPT), '# edited\n'), /MISMATCH install\.sh/],
      ['missing key', (d) => fs.rmSync(path.join(d, 'opt/kubernetes/ssl/apiserver-key.pem')), /MISSING  opt\/kubernetes\/ssl\/apiserver-key\.pem/],
      ['malformed MANIFEST', (d) => fs.appendFileSync(path.join(d, 'MANIFEST'), 'junk\n'), /MANIFEST: malformed line: junk/],
      ['unsafe MANIFEST path', (d) => fs.appendFileSync(path.join(d, 'MANIFEST'), `0644 ${'0'.repeat(64)} opt/../../etc/passwd\n`), /unsafe path/],
    ];
    for (const [what, tamper, message] of cases) {
      const bundleDir = unpack(s.archive('k8s1'));
      tamper(bundleDir);
      const root = path.join(tempDir(), 'root');
      const r = install(bundleDir, ['--root', root], stubs);
      expect([what, r.status]).toEqual([what, 1]);
      expect(r.stderr).toMatch(message);
      expect([what, tree(root)]).toEqual([what, []]);
    }
  });

  test('drift on the host is repaired: changed content is replaced, a changed mode is reset', () => {
    const stubs = stubBin();
    const bundleDir = unpack(s.archive('k8s1'));
    const root = path.join(tempDir(), 'root');
    expect(install(bundleDir, ['--root', root], stubs).status).toBe(0);
    const installed = tree(root);
    fs.writeFileSync(path.join(root, 'etc/nginx/nginx.conf'), 'drifted\n');
    fs.chmodSync(path.join(root, 'opt/kubernetes/ssl/ca-key.pem'), 0o644);
    const r = install(bundleDir, ['--root', root], stubs);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/updated +\/etc\/nginx\/nginx\.conf \(0644\)/);
    expect(r.stdout).toMatch(/chmod +\/opt\/kubernetes\/ssl\/ca-key\.pem \(0600\)/);
    expect(r.stdout).toContain('k8s1: 0 files added, 2 updated');
    const strip = (lines: string[]) => lines.map((l) => l.replace(/^(\S+ \S+) \S+/, '$1'));
    expect(strip(tree(root))).toEqual(strip(installed));
  });

  test('--root never follows a symbolic link out of the root, for files or directories', () => {
    const stubs = stubBin();
    const bundleDir = unpack(s.archive('k8s1'));
    for (const link of ['etc', 'opt/kubernetes/cfg', 'opt/etcd']) {
      const root = path.join(tempDir(), 'root');
      const outside = tempDir('outside');
      fs.mkdirSync(path.join(root, path.dirname(link)), { recursive: true });
      fs.symlinkSync(outside, path.join(root, link));
      const r = install(bundleDir, ['--root', root], stubs);
      expect([link, r.status]).toEqual([link, 1]);
      expect(r.stderr).toMatch(/refusing to write .*: a symbolic link leads it outside --root/);
      expect([link, fs.readdirSync(outside)]).toEqual([link, []]);
    }
    // A link that stays inside the root is followed as usual.
    const root = path.join(tempDir(), 'root');
    fs.mkdirSync(path.join(root, 'real-etc'), { recursive: true });
    fs.symlinkSync('real-etc', path.join(root, 'etc'));
    expect(install(bundleDir, ['--root', root], stubs).status).toBe(0);
    expect(fs.existsSync(path.join(root, 'real-etc/nginx/nginx.conf'))).toBe(true);
  });

  test("a bundle of another cluster is refused over this host's CAs, unless --replace-cluster says so", async () => {
    const stubs = stubBin();
    const root = path.join(tempDir(), 'root');
    expect(install(unpack(s.archive('k8s1')), ['--root', root], stubs).status).toBe(0);
    const other = await synthBundles(withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } }));
    const otherDir = unpack(other.archive('k8s1'));
    const before = tree(root);
    const r = install(otherDir, ['--root', root], stubs);
    expect(r.status).toBe(1);
    const cas = r.stderr.split('\n').filter((l) => l.startsWith('install.sh: CA ')).map((l) => l.split(':')[1].replace(/^ CA +/, ''));
    expect(cas).toEqual(['/opt/etcd/ssl/ca.pem', '/opt/kubernetes/ssl/ca.pem', '/opt/kubernetes/ssl/front-proxy-ca.pem']);
    // The fingerprints are the certificates' (openssl x509 -fingerprint -sha256), not the files'.
    const fingerprint = (file: string) => new crypto.X509Certificate(fs.readFileSync(file)).fingerprint256.replace(/:/g, '').toLowerCase();
    expect(r.stderr).toContain(`install.sh: CA       /opt/kubernetes/ssl/ca.pem: installed CA's SHA-256 fingerprint ${fingerprint(path.join(root, 'opt/kubernetes/ssl/ca.pem'))}, `
      + `this bundle's ${fingerprint(path.join(otherDir, 'opt/kubernetes/ssl/ca.pem'))}\n`);
    expect(r.stderr).toContain('install.sh: error: this host holds the CAs of another cluster, not those of cluster kubesmith in this bundle; nothing was changed. '
      + "Install the bundle of this host's own cluster, or, to move k8s1 into cluster kubesmith on purpose (what it holds of its old cluster stops working), run install.sh --replace-cluster\n");
    expect(tree(root)).toEqual(before);
    // The same cluster's bundle goes on as usual; --replace-cluster installs the other one, and says so.
    expect(install(unpack(s.archive('k8s1')), ['--root', root], stubs).status).toBe(0);
    const replaced = install(otherDir, ['--root', root, '--replace-cluster'], stubs);
    expect([replaced.status, replaced.stderr]).toEqual([0, expect.stringContaining('warning: replacing the CAs of another cluster with those of cluster kubesmith (--replace-cluster)')]);
    expect(fs.readFileSync(path.join(root, 'opt/kubernetes/ssl/ca.pem'))).toEqual(fs.readFileSync(path.join(otherDir, 'opt/kubernetes/ssl/ca.pem')));
    // A host without CAs yet (a new one) takes any bundle; a damaged CA file is drift, put back.
    expect(install(otherDir, ['--root', path.join(tempDir(), 'new')], stubs).status).toBe(0);
    fs.writeFileSync(path.join(root, 'opt/kubernetes/ssl/ca.pem'), 'damaged\n');
    expect(install(otherDir, ['--root', root], stubs).stdout).toMatch(/updated +\/opt\/kubernetes\/ssl\/ca\.pem/);
  });

  test('MANIFEST may only give the modes kubesmith emits: setuid, setgid, sticky and world-writable are refused before anything changes', () => {
    const stubs = stubBin();
    for (const mode of ['4755', '2755', '1755', '0666', '0777', '0602']) {
      const bundleDir = unpack(s.archive('k8s1'));
      const text = fs.readFileSync(path.join(bundleDir, 'MANIFEST'), 'utf8');
      const edited = text.replace(/^0755 (\S+ etc\/keepalived\/check_nginx\.sh)$/m, `${mode} $1`);
      expect(edited).not.toBe(text);
      fs.writeFileSync(path.join(bundleDir, 'MANIFEST'), edited);
      const root = path.join(tempDir(), 'root');
      const r = install(bundleDir, ['--root', root], stubs);
      expect([mode, r.status]).toEqual([mode, 1]);
      expect(r.stderr).toContain(`MANIFEST: etc/keepalived/check_nginx.sh has mode ${mode}; only 0600 0640 0644 0700 0750 0755 are allowed`);
      expect(tree(root)).toEqual([]);
    }
  });

  test('the bootstrap kubeconfig is installed until the kubelet has its own kubeconfig, then removed and left out', () => {
    const stubs = stubBin();
    const bundleDir = unpack(s.archive('k8s4'));
    const root = path.join(tempDir(), 'root');
    expect(install(bundleDir, ['--root', root], stubs).status).toBe(0);
    expect(fs.existsSync(path.join(root, 'opt/kubernetes/cfg/bootstrap.kubeconfig'))).toBe(true);
    fs.writeFileSync(path.join(root, 'opt/kubernetes/cfg/kubelet.kubeconfig'), 'joined\n');
    const r = install(bundleDir, ['--root', root], stubs);
    expect(r.stdout).toContain('removed  /opt/kubernetes/cfg/bootstrap.kubeconfig (/opt/kubernetes/cfg/kubelet.kubeconfig exists)');
    expect(r.stdout).toContain('1 removed');
    expect(fs.existsSync(path.join(root, 'opt/kubernetes/cfg/bootstrap.kubeconfig'))).toBe(false);
    expect(install(bundleDir, ['--root', root], stubs).stdout).toContain('k8s4: nothing changed');
    // It is no file the kubelet restarts for.
    expect(fs.readFileSync(path.join(bundleDir, INSTALL_SCRIPT), 'utf8')).toMatch(/^  \['kubelet\.service'\]='(?!.*bootstrap\.kubeconfig)[^']*'$/m);
  });

  test('what the OS must provide is reported with the package for Debian/Ubuntu and RHEL/CentOS', () => {
    const stubs = stubBin();
    const needs = (host: string) => install(unpack(s.archive(host)), ['--root', path.join(tempDir(), 'root')], stubs)
      .stderr.split('\n').filter((l) => l.includes('warning: needs')).map((l) => l.replace(/^install\.sh: warning: /, ''));
    // SEED: kube-proxy in ipvs mode, an app with NFS volumes, Debian's stream module.
    expect(needs('k8s4')).toEqual([
      'needs conntrack for kube-proxy: apt-get install conntrack (Debian, Ubuntu) or dnf install conntrack-tools (RHEL, CentOS)',
      'needs iptables for kube-proxy and flanneld: apt-get install iptables (Debian, Ubuntu) or dnf install iptables-nft (RHEL, CentOS)',
      'needs ipset for kube-proxy in ipvs mode, which exits without it (no fallback to iptables since 1.26): apt-get install ipset (Debian, Ubuntu) or dnf install ipset (RHEL, CentOS)',
      'needs mount.nfs for the kubelet, to mount the apps\' NFS volumes: apt-get install nfs-common (Debian, Ubuntu) or dnf install nfs-utils (RHEL, CentOS)',
      'needs openssl for the certificate expiry check (kubesmith-cert-check): apt-get install openssl (Debian, Ubuntu) or dnf install openssl (RHEL, CentOS)',
    ]);
    expect(needs('k8s1')).toContain('needs the nginx stream module for nginx\'s load_module (loadBalancer.streamModulePath /usr/lib/nginx/modules/ngx_stream_module.so): '
      + 'apt-get install libnginx-mod-stream (Debian, Ubuntu) or dnf install nginx-mod-stream (RHEL, CentOS)');
    // RHEL's nginx-mod-stream puts it under /usr/lib64: found there, the message names the setting to change.
    const rhel = path.join(tempDir(), 'root');
    fs.mkdirSync(path.join(rhel, 'usr/lib64/nginx/modules'), { recursive: true });
    fs.writeFileSync(path.join(rhel, 'usr/lib64/nginx/modules/ngx_stream_module.so'), '');
    expect(install(unpack(s.archive('k8s1')), ['--root', rhel], stubs).stderr).toContain('needs the nginx stream module for nginx\'s load_module '
      + '(loadBalancer.streamModulePath /usr/lib/nginx/modules/ngx_stream_module.so): this host has it at /usr/lib64/nginx/modules/ngx_stream_module.so; '
      + 'set loadBalancer.streamModulePath: \'/usr/lib64/nginx/modules/ngx_stream_module.so\' in the definition, synth and roll out again');
    // Present in the root: not reported.
    const root = path.join(tempDir(), 'root');
    fs.mkdirSync(path.join(root, 'usr/sbin'), { recursive: true });
    for (const p of ['conntrack', 'iptables', 'ipset', 'mount.nfs']) fs.writeFileSync(path.join(root, 'usr/sbin', p), '');
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/bin/openssl'), '');
    expect(install(unpack(s.archive('k8s4')), ['--root', root], stubs).stderr).not.toContain('warning: needs');
  });

  test('--check reports every drift of a --root install (content, mode, missing), exits 3, and changes nothing', () => {
    const stubs = stubBin();
    const bundleDir = unpack(s.archive('k8s1'));
    const root = path.join(tempDir(), 'root');
    expect(install(bundleDir, ['--root', root], stubs).status).toBe(0);
    const clean = install(bundleDir, ['--root', root, '--check'], stubs);
    expect([clean.status, clean.stdout]).toEqual([0, expect.stringMatching(/k8s1: no drift \(\d+ files, 0 units checked\)/)]);
    fs.appendFileSync(path.join(root, 'etc/nginx/nginx.conf'), '# edited by hand\n');
    fs.chmodSync(path.join(root, 'opt/kubernetes/ssl/apiserver-key.pem'), 0o644);
    fs.rmSync(path.join(root, 'opt/etcd/cfg/etcd'));
    fs.chmodSync(path.join(root, 'var/lib/etcd'), 0o755);
    const before = tree(root);
    const r = install(bundleDir, ['--root', root, '--check'], stubs);
    expect(r.status).toBe(3);
    expect(r.stdout.split('\n').filter((l) => l.includes('DRIFT')).map((l) => l.replace(/\(sha256 [0-9a-f]+, MANIFEST says [0-9a-f]+\)/, '(sha256 ...)'))).toEqual([
      'install.sh: DRIFT content  /etc/nginx/nginx.conf (sha256 ...)',
      'install.sh: DRIFT missing  /opt/etcd/cfg/etcd',
      'install.sh: DRIFT mode     /opt/kubernetes/ssl/apiserver-key.pem (644, MANIFEST says 0600)',
      'install.sh: DRIFT mode     /var/lib/etcd/ (755, should be 0700)',
    ]);
    expect(r.stdout).toContain('k8s1: 4 difference(s) from the bundle');
    expect(tree(root)).toEqual(before);
    expect(fs.existsSync(stubs.log)).toBe(false);
  });

  test('a relative --root works, and bad arguments exit 2 with the usage', () => {
    const stubs = stubBin();
    const bundleDir = unpack(s.archive('k8s4'));
    const cwd = tempDir();
    const r = spawnSync('bash', [path.join(bundleDir, INSTALL_SCRIPT), '--root', 'rel/root'], {
      encoding: 'utf8', timeout: 60000, cwd, env: { ...process.env, PATH: `${stubs.dir}:${process.env.PATH}` },
    });
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'rel/root/opt/kubernetes/ssl/kube-proxy.pem'))).toBe(true);
    const usage = 'usage: install.sh [--root DIR] [--no-start | --check] [--units UNIT,...] [--replace-cluster] [--ignore-address]\n';
    for (const [args, prefix] of [[['--bogus'], 'install.sh: error: unknown argument --bogus\n'], [['--root'], ''], [['--root', ''], '']] as const) {
      const bad = install(bundleDir, [...args], stubs);
      expect([args, bad.status, bad.stderr]).toEqual([args, 2, prefix + usage]);
    }
    expect(fs.existsSync(stubs.log)).toBe(false);
  });
});

describe('root files of a bundle', () => {
  let s: SynthesizedBundles;
  beforeAll(async () => { s = await synthBundles(SEED); });

  test('install.sh is made when the archive is written, so services added after InstallScript are in it', () => {
    const bundle: HostBundle = s.result.cluster.bundle('k8s4');
    const script = () => bundle.rootFiles.find((f) => f.path === INSTALL_SCRIPT)!.content.toString();
    expect(script()).not.toContain('late.service');
    bundle.addService({ unit: 'late.service', order: 1, binaries: ['/opt/late/bin/late'], source: 'a late component' });
    expect(script()).toContain("'late.service' '/opt/late/bin/late' 'a late component'");
    expect(script()).toMatch(/^UNITS=\('late\.service'/m);
  });

  test('files directly under / and root files named MANIFEST or with a path are refused', () => {
    const bundle = s.result.cluster.bundle('k8s4');
    expect(() => bundle.addFile('/install.sh', 'x')).toThrow(/directly under \//);
    expect(() => bundle.addRootFile('MANIFEST', 'x')).toThrow(/plain file name other than MANIFEST/);
    expect(() => bundle.addRootFile('a/b', 'x')).toThrow(/plain file name/);
    expect(() => bundle.addRootFile(INSTALL_SCRIPT, 'x')).toThrow(/added twice/);
  });

  test('the directories follow the roles', () => {
    const dirs = (host: string) => hostDirectories(s.result.model.host(host), s.result.model).map((d) => `${d.mode.toString(8)} ${d.path}`);
    expect(dirs('k8s1')).toEqual([
      '755 /opt/etcd/bin', '755 /opt/etcd/cfg', '755 /opt/etcd/ssl', '700 /var/lib/etcd', '700 /var/lib/etcd/snapshots',
      '755 /opt/kubernetes/bin', '755 /opt/kubernetes/cfg', '755 /opt/kubernetes/ssl', '755 /opt/kubernetes/logs',
      '755 /opt/cni/bin', '755 /etc/cni/net.d', '755 /var/log/nginx', '755 /opt/kubesmith/bin', '755 /opt/kubesmith/cfg',
    ]);
    expect(dirs('k8s4')).toEqual([
      '755 /opt/kubernetes/bin', '755 /opt/kubernetes/cfg', '755 /opt/kubernetes/ssl', '755 /opt/kubernetes/logs', '755 /opt/cni/bin', '755 /etc/cni/net.d',
      '755 /opt/kubesmith/bin', '755 /opt/kubesmith/cfg',
    ]);
  });
});

/**
 * The live path (no --root) in a throwaway root: a mount namespace with /usr as an overlay of the
 * machine's (so bash and coreutils work and nothing reaches the real /usr), chrooted, with stubs
 * for systemctl, sysctl and modprobe that log their calls. Needs root, unshare and overlayfs.
 */
class ChrootHost {
  readonly dir = tempDir();
  readonly root = path.join(this.dir, 'root');

  constructor(bundleDir: string, swaps = '') {
    for (const d of ['root/usr', 'up', 'work', 'root/proc', 'root/dev', 'root/stubs/active', 'root/stubs/enabled']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    fs.writeFileSync(path.join(this.root, 'dev/null'), '');
    for (const l of ['bin', 'lib', 'lib64', 'sbin']) fs.symlinkSync(`usr/${l}`, path.join(this.root, l));
    fs.writeFileSync(path.join(this.root, 'proc/swaps'), `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n${swaps}`);
    fs.cpSync(bundleDir, path.join(this.root, 'bundle'), { recursive: true });
    fs.writeFileSync(path.join(this.root, 'stubs/systemctl'), [
      '#!/bin/bash',
      'echo "systemctl $*" >> /stubs/calls.log',
      'case "$1" in',
      '  is-active) [ -e "/stubs/active/$3" ] ;;',
      '  is-enabled) [ -e "/stubs/enabled/$3" ] ;;',
      '  enable) for u in "$@"; do case "$u" in *.service|*.timer) touch "/stubs/enabled/$u" ;; esac; done ;;',
      '  disable) for u in "$@"; do rm -f "/stubs/enabled/$u" "/stubs/active/$u"; done ;;',
      '  show) cat "/stubs/pid/${@: -1}" 2> /dev/null || echo 0 ;;',
      '  start|restart) [ ! -e "/stubs/fail/$3" ] || exit 1; touch "/stubs/active/$3" ;;',
      '  reload) [ ! -e "/stubs/fail/$3" ] ;;',
      'esac',
      '',
    ].join('\n'), { mode: 0o755 });
    for (const cmd of ['sysctl', 'modprobe']) {
      fs.writeFileSync(path.join(this.root, 'stubs', cmd), `#!/bin/bash\necho "${cmd} $*" >> /stubs/calls.log\n`, { mode: 0o755 });
    }
    // `ip -o addr show` as iproute2 prints it, for the addresses in /stubs/addresses (the bundle's host's unless a test says).
    const script = path.join(bundleDir, INSTALL_SCRIPT);
    this.holdAddresses('127.0.0.1', ...(fs.existsSync(script) ? [/^ADDRESS='(.*)'$/m.exec(fs.readFileSync(script, 'utf8'))![1]] : []));
    fs.writeFileSync(path.join(this.root, 'stubs/ip'), [
      '#!/bin/bash',
      'i=1; while read -r a; do echo "$i: eth0    inet $a/24 brd 255.255.255.255 scope global eth0\\       valid_lft forever preferred_lft forever"; i=$((i + 1)); done < /stubs/addresses',
      'echo "9: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever"',
      '',
    ].join('\n'), { mode: 0o755 });
  }

  /** The IPv4 addresses the stub `ip` says this machine holds. */
  holdAddresses(...addresses: string[]): void {
    fs.writeFileSync(path.join(this.root, 'stubs/addresses'), addresses.map((a) => `${a}\n`).join(''));
  }

  /** Runs a shell command inside the chroot, with /usr mounted. */
  run(command: string): SpawnSyncReturns<string> {
    const script = [
      'set -e',
      `mount -t overlay overlay -o lowerdir=/usr,upperdir=${this.dir}/up,workdir=${this.dir}/work ${this.root}/usr`,
      `mount --bind /dev/null ${this.root}/dev/null`,
      `exec chroot ${this.root} /usr/bin/env -i PATH=/stubs:/usr/sbin:/usr/bin /bin/bash -c "$0"`,
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', script, command], { encoding: 'utf8', timeout: 60000 });
    if (r.error) throw r.error;
    return r;
  }

  install(...args: string[]): SpawnSyncReturns<string> {
    return this.run(['bash', '/bundle/install.sh', ...args].join(' '));
  }

  /** The stub calls since the last time. */
  calls(): string[] {
    const log = path.join(this.root, 'stubs/calls.log');
    if (!fs.existsSync(log)) return [];
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    fs.rmSync(log);
    return lines;
  }
}

const canChroot = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    const probe = new ChrootHost(tempDir());
    return probe.run('test -x /usr/bin/cmp && echo ok').stdout.trim() === 'ok';
  } catch {
    return false;
  }
})();

(canChroot ? describe : describe.skip)('install.sh on the live system, in a chroot (skipped without root, unshare and overlayfs)', () => {
  let s: SynthesizedBundles;
  beforeAll(async () => { s = await synthBundles(SEED); });

  /** k8s1's bundle plus the module and sysctl files other components add. */
  async function lbBundle(): Promise<string> {
    const bundle = s.result.cluster.bundle('k8s1');
    if (!bundle.hasFile('/etc/modules-load.d/k8s.conf')) {
      bundle.addFile('/etc/modules-load.d/k8s.conf', '# for kube-proxy\nbr_netfilter\nip_vs ; rr\n\n');
      bundle.addFile('/etc/sysctl.d/k8s.conf', 'net.ipv4.ip_forward = 1\n');
    }
    const archive = path.join(tempDir(), 'k8s1.tar.gz');
    fs.writeFileSync(archive, await packBundle(bundle.archiveFiles));
    return unpack(archive);
  }

  test('installs, loads modules and sysctls, enables the units in start order and starts those whose binary is there', async () => {
    const host = new ChrootHost(await lbBundle());
    // nginx is installed, keepalived is not (whatever this machine has).
    expect(host.run('mkdir -p /usr/sbin && printf "#!/bin/sh\\n" > /usr/sbin/nginx && chmod 755 /usr/sbin/nginx && rm -f /usr/sbin/keepalived').status).toBe(0);

    // What every live run does first, changed or not.
    const everyRun = [
      'systemctl daemon-reload',
      'modprobe -- br_netfilter',
      'modprobe -- ip_vs',
      // The bundle's own prerequisites (a master runs the kubelet and kube-proxy).
      ...['overlay', 'br_netfilter', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'].map((m) => `modprobe -- ${m}`),
      'sysctl --system',
      'systemctl enable --quiet -- nginx.service kubelet-bootstrap-cleanup.service kubesmith-cert-check.timer',
    ];
    const first = host.install();
    expect([first.status, first.stderr]).toEqual([0, expect.stringContaining('not enabling keepalived.service: its binary is missing')]);
    // kubelet-bootstrap-cleanup runs a script of the bundle: it has no binary to wait for.
    expect(host.calls()).toEqual([
      ...everyRun,
      'systemctl is-active --quiet nginx.service',
      'systemctl start --no-block nginx.service',
      'systemctl is-active --quiet kubelet-bootstrap-cleanup.service',
      'systemctl start --no-block kubelet-bootstrap-cleanup.service',
      'systemctl is-active --quiet kubesmith-cert-check.timer',
      'systemctl start --no-block kubesmith-cert-check.timer',
    ]);
    expect(first.stdout).toContain('starting nginx.service');
    expect(fs.readFileSync(path.join(host.root, 'etc/nginx/nginx.conf'), 'utf8')).toContain('upstream k8s-apiserver');
    expect(fs.existsSync(path.join(host.root, 'install.sh')) || fs.existsSync(path.join(host.root, 'MANIFEST'))).toBe(false);
    expect((fs.statSync(path.join(host.root, 'var/lib/etcd')).mode & 0o777).toString(8)).toBe('700');

    // Nothing changed: the running nginx is left alone.
    const second = host.install();
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('k8s1: nothing changed');
    expect(host.calls()).toEqual([
      ...everyRun,
      'systemctl is-active --quiet nginx.service',
      'systemctl show --property MainPID --value -- nginx.service',
      'systemctl is-active --quiet kubelet-bootstrap-cleanup.service',
      'systemctl show --property MainPID --value -- kubelet-bootstrap-cleanup.service',
      'systemctl is-active --quiet kubesmith-cert-check.timer',
      'systemctl show --property MainPID --value -- kubesmith-cert-check.timer',
    ]);

    // A changed config reaches the running nginx by its unit's ExecReload, which keeps its connections.
    fs.writeFileSync(path.join(host.root, 'etc/nginx/nginx.conf'), 'drifted\n');
    const third = host.install();
    expect(third.status).toBe(0);
    expect(host.calls().filter((c) => c.includes('nginx'))).toEqual([
      'systemctl enable --quiet -- nginx.service kubelet-bootstrap-cleanup.service kubesmith-cert-check.timer',
      'systemctl is-active --quiet nginx.service', 'systemctl show --property MainPID --value -- nginx.service',
      'systemctl reload -- nginx.service',
    ]);
    expect(third.stdout).toContain('reloading nginx.service (/etc/nginx/nginx.conf changed)');
    // A reload that fails stops install.sh there, as a failed restart does.
    fs.mkdirSync(path.join(host.root, 'stubs/fail'));
    fs.writeFileSync(path.join(host.root, 'stubs/fail/nginx.service'), '');
    fs.writeFileSync(path.join(host.root, 'etc/nginx/nginx.conf'), 'drifted twice\n');
    const failed = host.install();
    expect([failed.status, failed.stderr]).toEqual([1, expect.stringContaining('reloading nginx.service failed; see: journalctl -u nginx.service')]);
    host.calls();
    fs.rmSync(path.join(host.root, 'stubs/fail'), { recursive: true });

    // --no-start enables but starts nothing.
    fs.writeFileSync(path.join(host.root, 'etc/nginx/nginx.conf'), 'drifted again\n');
    expect(host.install('--no-start').stdout).toContain('not started (--no-start)');
    expect(host.calls().filter((c) => /start|is-active/.test(c))).toEqual([]);
  });

  test('with firewalld running and SELinux enforcing, it prints the commands this host needs', () => {
    const host = new ChrootHost(unpack(s.archive('k8s1')));
    fs.writeFileSync(path.join(host.root, 'stubs/firewall-cmd'), '#!/bin/bash\n[ "$1" = --state ] && echo running\n', { mode: 0o755 });
    fs.writeFileSync(path.join(host.root, 'stubs/getenforce'), '#!/bin/bash\necho Enforcing\n', { mode: 0o755 });
    const r = host.install('--no-start');
    expect(r.status).toBe(0);
    const firewall = r.stdout.split('\n').filter((l) => l.startsWith('  firewall-cmd'));
    expect(firewall).toEqual([
      '  firewall-cmd --permanent --add-port=2379-2380/tcp',
      '  firewall-cmd --permanent --add-port=6443/tcp',
      '  firewall-cmd --permanent --add-port=6444/tcp',
      '  firewall-cmd --permanent --add-rich-rule=\'rule protocol value="vrrp" accept\'',
      // A master runs the kubelet, flannel and kube-proxy (NodePorts answer on every kube-proxy host).
      '  firewall-cmd --permanent --add-port=10250/tcp',
      '  firewall-cmd --permanent --add-port=8472/udp',
      '  firewall-cmd --permanent --add-port=30000-50000/tcp',
      '  firewall-cmd --permanent --add-port=30000-50000/udp',
      '  firewall-cmd --reload',
    ]);
    expect(r.stdout).toContain('SELinux enforces; this host needs:\n  setsebool -P httpd_can_network_connect 1\n'
      + '  semanage port -a -t http_port_t -p tcp 6444 || semanage port -m -t http_port_t -p tcp 6444\n  setsebool -P keepalived_connect_any 1\n');
    // A node: the kubelet, vxlan, NodePorts and the ingress controller's ports.
    const node = new ChrootHost(unpack(s.archive('k8s4')));
    fs.writeFileSync(path.join(node.root, 'stubs/firewall-cmd'), '#!/bin/bash\n[ "$1" = --state ] && echo running\n', { mode: 0o755 });
    expect(node.install('--no-start').stdout.split('\n').filter((l) => l.includes('--add-port=')).map((l) => l.replace(/.*--add-port=/, ''))).toEqual([
      '10250/tcp', '8472/udp', '30000-50000/tcp', '30000-50000/udp', '80/tcp', '443/tcp',
    ]);
  });

  test("a bundle whose host address this machine does not hold is refused, unless --ignore-address; a missing ip command too", () => {
    const host = new ChrootHost(unpack(s.archive('k8s2')));
    host.holdAddresses('127.0.0.1', '192.168.100.10', '10.1.2.3');
    const r = host.install();
    expect([r.status, r.stderr]).toEqual([1, 'install.sh: error: this machine does not hold 192.168.100.20, the address of k8s2 (it holds: 127.0.0.1 192.168.100.10 10.1.2.3); '
      + 'nothing was changed. Install this bundle on k8s2, or run install.sh --ignore-address if 192.168.100.20 comes to this machine later\n']);
    expect([host.calls(), fs.existsSync(path.join(host.root, 'etc/nginx/nginx.conf'))]).toEqual([[], false]);
    // --check changes nothing, so it runs anywhere.
    expect(host.install('--check').status).toBe(3);
    host.calls();
    expect(host.install('--ignore-address', '--no-start').status).toBe(0);
    expect(fs.existsSync(path.join(host.root, 'etc/nginx/nginx.conf'))).toBe(true);
    host.holdAddresses('192.168.100.20');
    fs.rmSync(path.join(host.root, 'stubs/ip'));
    // Without the stub the chroot's own ip may be there: hide it as well.
    host.run('rm -f /usr/sbin/ip /usr/bin/ip /sbin/ip /bin/ip');
    expect(host.install('--no-start').stderr).toContain('install.sh: error: cannot tell whether this machine is k8s2: no ip command (iproute2) lists its addresses');
  });

  test('--check on the live system also reports the units that are not active', () => {
    const host = new ChrootHost(unpack(s.archive('k8s1')));
    expect(host.run('mkdir -p /usr/sbin && printf "#!/bin/sh\\n" > /usr/sbin/nginx && chmod 755 /usr/sbin/nginx').status).toBe(0);
    expect(host.install().status).toBe(0);
    host.calls();
    const r = host.install('--check');
    expect(r.status).toBe(3);
    // Only nginx was started (the other binaries are missing here): every other unit is reported.
    const units = r.stdout.split('\n').filter((l) => l.includes('DRIFT unit')).map((l) => l.replace(/^install\.sh: DRIFT unit +/, '').split(' ')[0]);
    expect(units).toEqual(expect.arrayContaining(['etcd.service', 'kube-apiserver.service', 'kube-scheduler.service']));
    expect(units).not.toContain('nginx.service');
    expect(host.calls().filter((c) => !c.startsWith('systemctl is-active'))).toEqual([]);
  });

  test('a demoted master: its control-plane units are stopped and disabled (newest first) before their files go, the CA key with them', async () => {
    const dir = tempDir();
    const s1 = await synthBundles(SEED, dir);
    const host = new ChrootHost(unpack(s1.archive('k8s2')));
    expect(host.run('mkdir -p /usr/sbin && printf "#!/bin/sh\\n" > /usr/sbin/nginx && chmod 755 /usr/sbin/nginx').status).toBe(0);
    expect(host.install().status).toBe(0);
    for (const u of ['kube-apiserver.service', 'kube-controller-manager.service', 'kube-scheduler.service']) {
      fs.writeFileSync(path.join(host.root, 'stubs/active', u), ''); // running, as on a real master
    }
    host.calls();
    const demoted = withChanges(SEED, { hosts: SEED.hosts.map((h) => (h.name === 'k8s2' ? { ...h, roles: ['etcd' as const, 'lb' as const, 'node' as const] } : h)) });
    const s2 = await synthBundles(demoted, dir);
    fs.rmSync(path.join(host.root, 'bundle'), { recursive: true });
    fs.cpSync(unpack(s2.archive('k8s2')), path.join(host.root, 'bundle'), { recursive: true });

    const check = host.install('--check');
    expect(check.status).toBe(3);
    expect(check.stdout).toContain('DRIFT leftover kube-apiserver.service is');
    expect(check.stdout).toContain("DRIFT leftover /opt/kubernetes/ssl/ca-key.pem (no longer in this host's bundle)");
    host.calls();

    const r = host.install();
    expect([r.status, r.stderr.split('\n').filter((l) => l.includes('error'))]).toEqual([0, []]);
    expect(host.calls().filter((c) => c.startsWith('systemctl disable'))).toEqual([
      'systemctl disable --now --quiet -- kube-scheduler.service',
      'systemctl disable --now --quiet -- kube-controller-manager.service',
      'systemctl disable --now --quiet -- kube-apiserver.service',
    ]);
    expect(r.stdout.indexOf('stopped and disabled kube-apiserver.service')).toBeLessThan(r.stdout.indexOf('removed  /usr/lib/systemd/system/kube-apiserver.service'));
    for (const f of ['opt/kubernetes/ssl/ca-key.pem', 'opt/kubernetes/cfg/encryption-config.yaml', 'usr/lib/systemd/system/kube-apiserver.service']) {
      expect([f, fs.existsSync(path.join(host.root, f))]).toEqual([f, false]);
    }
    const after = host.install('--check');
    expect(after.stdout).not.toContain('leftover');
  });

  test('a changed file restarts only the running units that read it', () => {
    const host = new ChrootHost(unpack(s.archive('k8s1')));
    const bins = ['/opt/kubernetes/bin/kube-apiserver', '/opt/kubernetes/bin/kube-scheduler', '/opt/etcd/bin/etcd', '/opt/etcd/bin/etcdctl'];
    // Stand-ins that state the definition's versions, as install.sh checks them before it changes anything.
    for (const b of fetchedBinariesOn(s.result.model.host('k8s1'), s.result.model).filter((x) => bins.includes(x.path))) {
      fs.mkdirSync(path.join(host.root, path.dirname(b.path)), { recursive: true });
      fs.writeFileSync(path.join(host.root, b.path), fakeProgram(b.program.name, b.release.version), { mode: 0o755 });
    }
    expect(host.install().status).toBe(0);
    host.calls();
    fs.writeFileSync(path.join(host.root, 'opt/kubernetes/cfg/kube-scheduler-config.yaml'), 'drifted\n');
    const r = host.install();
    expect(r.status).toBe(0);
    expect(host.calls().filter((c) => c.startsWith('systemctl restart'))).toEqual(['systemctl restart -- kube-scheduler.service']);
    expect(r.stdout).toContain('restarting kube-scheduler.service (/opt/kubernetes/cfg/kube-scheduler-config.yaml changed)');
    // A program replaced under its running unit (the kernel shows the old file deleted) restarts that unit alone;
    // one still running its own file does not restart.
    fs.mkdirSync(path.join(host.root, 'stubs/pid'), { recursive: true });
    fs.mkdirSync(path.join(host.root, 'proc/4242'), { recursive: true });
    fs.mkdirSync(path.join(host.root, 'proc/4343'), { recursive: true });
    fs.symlinkSync('/opt/kubernetes/bin/kube-apiserver (deleted)', path.join(host.root, 'proc/4242/exe'));
    fs.symlinkSync('/opt/kubernetes/bin/kube-scheduler', path.join(host.root, 'proc/4343/exe'));
    fs.writeFileSync(path.join(host.root, 'stubs/pid/kube-apiserver.service'), '4242\n');
    fs.writeFileSync(path.join(host.root, 'stubs/pid/kube-scheduler.service'), '4343\n');
    const replaced = host.install();
    expect(replaced.status).toBe(0);
    expect(host.calls().filter((c) => c.startsWith('systemctl restart'))).toEqual(['systemctl restart -- kube-apiserver.service']);
    expect(replaced.stdout).toContain('restarting kube-apiserver.service (its program /opt/kubernetes/bin/kube-apiserver was replaced)');
    fs.rmSync(path.join(host.root, 'stubs/pid'), { recursive: true });
    // A certificate both etcd and the apiserver read restarts both, in start order.
    fs.writeFileSync(path.join(host.root, 'opt/etcd/ssl/ca.pem'), 'drifted\n');
    host.install();
    expect(host.calls().filter((c) => c.startsWith('systemctl restart'))).toEqual([
      'systemctl restart -- etcd.service',
      'systemctl restart -- kube-apiserver.service',
    ]);
    // A restart that fails (systemctl waits for it) stops install.sh there: the roll-out goes no further.
    fs.mkdirSync(path.join(host.root, 'stubs/fail'));
    fs.writeFileSync(path.join(host.root, 'stubs/fail/etcd.service'), '');
    fs.writeFileSync(path.join(host.root, 'opt/etcd/ssl/ca.pem'), 'drifted again\n');
    const failed = host.install();
    expect([failed.status, failed.stderr]).toEqual([1, expect.stringContaining('restarting etcd.service failed; see: journalctl -u etcd.service')]);
    expect(host.calls().filter((c) => c.startsWith('systemctl restart'))).toEqual(['systemctl restart -- etcd.service']);
  });

  test('swap on a kubelet host stops the run before anything is installed; with --no-start it is a warning', async () => {
    const swaps = '/swapfile                               file\t\t1048572\t\t0\t\t-2\n';
    const host = new ChrootHost(unpack(s.archive('k8s4')), swaps);
    const r = host.install();
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("swap is on (/proc/swaps); kubelet will not start: run 'swapoff -a'")]);
    expect(fs.existsSync(path.join(host.root, 'opt'))).toBe(false);
    expect(host.calls()).toEqual([]);
    const noStart = host.install('--no-start');
    expect([noStart.status, noStart.stderr]).toEqual([0, expect.stringContaining('warning: swap is on')]);
    expect(fs.existsSync(path.join(host.root, 'opt/kubernetes/ssl/kube-proxy.pem'))).toBe(true);

    // Masters run the kubelet too; a host without it (an etcd- or lb-only host) does not care about swap.
    const master = new ChrootHost(unpack(s.archive('k8s2')), swaps);
    expect(master.install().status).toBe(1);
    const withLbOnly = withChanges(SEED, { hosts: [...SEED.hosts, { name: 'lb3', ip: '192.168.100.60', interface: 'ens33', roles: ['lb'] }] });
    const other = await synthBundles(withLbOnly);
    const lbOnly = new ChrootHost(unpack(other.archive('lb3')), swaps);
    expect(lbOnly.install().status).toBe(0);
  });
});

describe('a role the host no longer has: install.sh converges to the new bundle', () => {
  const leftovers = (out: string) => out.split('\n').filter((l) => l.includes('DRIFT leftover')).map((l) => l.replace(/^install\.sh: DRIFT leftover +/, ''));

  test('--root: the files of a removed etcd role go, its data is moved aside; --check names them first, and nothing after', async () => {
    // k8s3 (etcd, node) hands its etcd role to k8s4: one member out, one in, as etcd allows.
    const s1 = await synthBundles(SEED);
    const handOver = withChanges(SEED, { hosts: SEED.hosts.map((h) => (h.name === 'k8s3' ? { ...h, roles: ['node' as const] }
      : h.name === 'k8s4' ? { ...h, roles: ['node' as const, 'etcd' as const] } : h)) });
    const root = path.join(tempDir(), 'root');
    const stubs = stubBin();
    const first = unpack(s1.archive('k8s3'));
    expect(install(first, ['--root', root], stubs).status).toBe(0);
    fs.mkdirSync(path.join(root, PATHS.etcdData, 'member'), { recursive: true });
    fs.writeFileSync(path.join(root, PATHS.etcdData, 'member/db'), 'data');
    const s2 = await synthBundles(handOver, s1.dir);
    const next = unpack(s2.archive('k8s3'));
    const gone = manifest(first).map((e) => e.path).filter((p) => p.includes('/'))
      .filter((p) => !manifest(next).some((e) => e.path === p));
    expect(gone).toEqual(expect.arrayContaining(['usr/lib/systemd/system/etcd.service', 'opt/etcd/ssl/server-key.pem', 'opt/etcd/cfg/etcd']));

    const check = install(next, ['--root', root, '--check'], stubs);
    expect(check.status).toBe(3);
    expect(leftovers(check.stdout)).toEqual(gone.map((p) => `/${p} (no longer in this host's bundle)`));

    const r = install(next, ['--root', root], stubs);
    expect([r.status, r.stderr.split('\n').filter((l) => l.includes('error'))]).toEqual([0, []]);
    for (const p of gone) expect([p, fs.existsSync(path.join(root, p))]).toEqual([p, false]);
    expect(r.stdout).toContain("removed  /usr/lib/systemd/system/etcd.service (no longer in this host's bundle)");
    // The member's data, aside: a later etcd role on this host starts empty, as a new member must.
    const aside = fs.readdirSync(path.dirname(path.join(root, PATHS.etcdData))).filter((f) => f.startsWith('default.etcd.removed-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(root, path.dirname(PATHS.etcdData), aside[0], 'member/db'), 'utf8')).toBe('data');
    expect(fs.existsSync(path.join(root, PATHS.etcdData))).toBe(false);
    expect(r.stdout).toMatch(/moved \/var\/lib\/etcd\/default\.etcd aside to \/var\/lib\/etcd\/default\.etcd\.removed-\d{8}T\d{6}Z \(etcd\.service no longer runs here/);

    const after = install(next, ['--root', root, '--check'], stubs);
    expect([after.status, leftovers(after.stdout)]).toEqual([0, []]);
    expect(fs.readFileSync(path.join(root, PATHS.installedRecord), 'utf8')).not.toContain('etcd');
  });

  test('a record that names an unsafe path or a malformed line stops the run before anything changes', async () => {
    const s1 = await synthBundles(SEED);
    const root = path.join(tempDir(), 'root');
    const stubs = stubBin();
    const bundle = unpack(s1.archive('k8s4'));
    expect(install(bundle, ['--root', root], stubs).status).toBe(0);
    const rec = path.join(root, PATHS.installedRecord);
    for (const [line, err] of [['file ../../etc/passwd', 'unsafe path ../../etc/passwd'], ['unit a b', 'malformed unit a b'], ['other x', 'malformed line: other x']]) {
      fs.writeFileSync(rec, `${line}\n`);
      const r = install(bundle, ['--root', root], stubs);
      expect([r.status, r.stderr.trim()]).toEqual([1, `install.sh: error: ${PATHS.installedRecord}: ${err}`]);
    }
  });
});
