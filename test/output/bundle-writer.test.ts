import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { ClusterDefinition, synthesizeCluster, SynthesisResult } from '../../lib';
import { MANIFEST_NAME, sha256 } from '../../lib/output';
import { summarize } from '../../lib/pki';
import { readBundle, TarEntry } from '../support/bundle-reader';
import { listing, pkiLabels, secretMasks } from '../support/bundle-listing';
import { LARGE, SEED, withChanges } from '../support/clusters';
import { cleanupTempDirs, tempDir } from '../support/tmp';

afterAll(cleanupTempDirs);

async function synth(def: ClusterDefinition, dir = tempDir()) {
  const logs: string[] = [];
  const result = await synthesizeCluster(def, {
    outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: (l) => logs.push(l),
  });
  const bundles = new Map<string, TarEntry[]>();
  for (const h of result.model.hosts) bundles.set(h.name, await readBundle(path.join(dir, 'dist/hosts', `${h.name}.tar.gz`)));
  return { dir, result, bundles, logs };
}

function certificateSummaries(result: SynthesisResult) {
  return result.pki.list().map(({ name, certificate }) => {
    const { notAfter, notBefore, ...stable } = summarize(certificate);
    return { name, ...stable };
  });
}

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Awaited<ReturnType<typeof synth>>;
  beforeAll(async () => { s = await synth(def); });

  test('bundle listings', () => {
    const labels = pkiLabels(s.result.model, s.result.pki);
    const masks = secretMasks(labels, s.result.cluster.secrets);
    const all = Object.fromEntries([...s.bundles].map(([host, entries]) => [host, listing(entries, labels, masks)]));
    expect(all).toMatchSnapshot();
  });

  test('certificate summaries', () => {
    expect(certificateSummaries(s.result)).toMatchSnapshot();
  });

  test('archives are sorted, owned by root, with a fixed mtime and key modes 0600', () => {
    for (const entries of s.bundles.values()) {
      const paths = entries.map((e) => e.path);
      expect(paths[0]).toBe(MANIFEST_NAME);
      expect(paths.slice(1)).toEqual([...paths.slice(1)].sort());
      for (const e of entries) {
        expect([e.path, e.uid, e.gid, e.mtime.toISOString()]).toEqual([e.path, 0, 0, '2000-01-01T00:00:00.000Z']);
        if (e.content.toString().includes('PRIVATE KEY')) expect([e.path, e.mode]).toEqual([e.path, 0o600]);
        else expect([e.path, e.mode & 0o077]).not.toEqual([e.path, 0o066]);
      }
    }
  });

  test('MANIFEST lists every file with its mode and sha256', () => {
    for (const entries of s.bundles.values()) {
      const manifest = entries[0].content.toString().trim().split('\n');
      const files = entries.slice(1);
      expect(manifest).toEqual(files.map((e) => `${e.mode.toString(8).padStart(4, '0')} ${sha256(e.content)} ${e.path}`));
    }
  });
});

describe('key placement', () => {
  let s: Awaited<ReturnType<typeof synth>>;
  beforeAll(async () => { s = await synth(SEED); });

  function keysOf(host: string): string[] {
    const labels = pkiLabels(s.result.model, s.result.pki);
    return s.bundles.get(host)!
      .filter((e) => e.content.toString().includes('PRIVATE KEY'))
      .map((e) => labels.get(e.content.toString()) ?? `UNKNOWN KEY at ${e.path}`)
      .sort();
  }

  // The apiserver's etcd, kubelet and front-proxy client certificates use its serving key (sharesKeyWith): 4 files, 1 key.
  // Masters run the node components too (kube-proxy, flanneld; the kubelet bootstraps its own key).
  const MASTER_KEYS = [
    'ca-key kubernetes-ca', 'key admin', 'key apiserver', 'key apiserver', 'key apiserver', 'key apiserver',
    'key flanneld', 'key kube-controller-manager', 'key kube-proxy', 'key kube-scheduler', 'key service-account',
  ];

  test('each host holds exactly the keys its roles need', () => {
    // The peer certificate uses the member's serving key (cert table: sharesKeyWith), so that key is there twice.
    expect(keysOf('k8s1')).toEqual([...MASTER_KEYS, 'key etcd-server@k8s1', 'key etcd-server@k8s1'].sort());
    expect(keysOf('k8s2')).toEqual([...MASTER_KEYS, 'key etcd-server@k8s2', 'key etcd-server@k8s2'].sort());
    expect(keysOf('k8s3')).toEqual(['key etcd-server@k8s3', 'key etcd-server@k8s3', 'key flanneld', 'key kube-proxy']);
    // A plain node holds no etcd credential at all.
    expect(keysOf('k8s4')).toEqual(['key flanneld', 'key kube-proxy']);
  });

  test('the etcd and front-proxy CA keys are on no host', () => {
    for (const host of s.bundles.keys()) {
      expect(keysOf(host)).not.toContain('ca-key etcd-ca');
      expect(keysOf(host)).not.toContain('ca-key front-proxy-ca');
    }
  });
});

describe('reproducibility', () => {
  test('re-synthesizing with the same state changes no byte and rewrites no file', async () => {
    const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
    const first = await synth(ecdsa);
    const hostsDir = path.join(first.dir, 'dist/hosts');
    const stat = () => fs.readdirSync(hostsDir).sort().map((f) => {
      const p = path.join(hostsDir, f);
      return `${f} ${fs.statSync(p).mtimeMs} ${sha256(fs.readFileSync(p))}`;
    });
    const before = stat();
    const second = await synth(ecdsa, first.dir);
    expect(stat()).toEqual(before);
    expect(second.result.bundles.written).toEqual([]);
    expect(second.result.pki.events).toEqual([]);
    expect(second.logs.filter((l) => !l.includes('warning:'))).toEqual(['kubesmith: cluster kubesmith: nothing changed']);
  });

  test('a damaged or foreign archive is rewritten, the others are left alone', async () => {
    const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
    const first = await synth(ecdsa);
    const file = (host: string) => path.join(first.dir, 'dist/hosts', `${host}.tar.gz`);
    const good = fs.readFileSync(file('k8s1'));
    // Cut off after MANIFEST: the manifest still matches, but gzip's length and CRC check fails.
    fs.writeFileSync(file('k8s1'), good.subarray(0, good.length - 100));
    // A valid gzip whose tar does not start with MANIFEST.
    fs.writeFileSync(file('k8s2'), zlib.gzipSync(Buffer.alloc(1024)));
    const untouched = fs.statSync(file('k8s3')).mtimeMs;
    const second = await synth(ecdsa, first.dir);
    expect(second.result.bundles.written.sort()).toEqual(['k8s1', 'k8s2']);
    expect(fs.readFileSync(file('k8s1')).equals(good)).toBe(true);
    expect(fs.statSync(file('k8s3')).mtimeMs).toBe(untouched);
  });

  test('an archive that cannot be written fails the synth with the reason, leaving no temporary file', async () => {
    const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
    const dir = tempDir();
    // The first host's archive fails while the others are queued: the writer thread finishes them and exits
    // (terminating it inside gzipSync would abort the whole process on Node 20).
    fs.mkdirSync(path.join(dir, 'dist/hosts/k8s1.tar.gz'), { recursive: true }); // a directory in the archive's place
    await expect(synthesizeCluster(ecdsa, { outdir: path.join(dir, 'dist'), stateDir: path.join(dir, 'state'), log: () => undefined }))
      .rejects.toThrow(/writing a bundle archive: .*k8s1\.tar\.gz/);
    expect(fs.readdirSync(path.join(dir, 'dist/hosts')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('a host removed from the definition loses its bundle; the change is reported', async () => {
    const ecdsa = withChanges(SEED, { certificates: { ...SEED.certificates, keyAlgorithm: 'ecdsa' } });
    const first = await synth(ecdsa);
    const smaller = withChanges(ecdsa, { hosts: ecdsa.hosts.slice(0, 3) });
    const second = await synthesizeCluster(smaller, {
      outdir: path.join(first.dir, 'dist'), stateDir: path.join(first.dir, 'state'), log: () => undefined,
    });
    expect(second.bundles.removed).toEqual(['k8s4']);
    expect(fs.readdirSync(path.join(first.dir, 'dist/hosts')).sort()).toEqual(['k8s1.tar.gz', 'k8s2.tar.gz', 'k8s3.tar.gz']);
  });
});
