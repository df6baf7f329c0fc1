import { COMPONENT_LIST } from '../../lib/components';
import {
  ClusterDefinition, ClusterModel, DEFINED_RELEASES, KUBERNETES_SERVER_CHECKSUMS, RELEASES, acceptsVersion,
  release, releaseProviding, validateDefinition,
} from '../../lib/model';
import { KUBERNETES_MINORS, SUPPORTED_MINORS, minorOf, versionNotes } from '../../lib/versions/kubernetes';
import { SEED, withChanges } from '../support/clusters';

const issuesAt = (def: ClusterDefinition, path: string) => validateDefinition(def).filter((i) => i.path === path);

describe('the shipped checksum table', () => {
  test('every entry is a sha512 of the Kubernetes server archive, citing its section of its minor\'s CHANGELOG', () => {
    const entries = Object.entries(KUBERNETES_SERVER_CHECKSUMS);
    expect(entries.length).toBeGreaterThan(100);
    for (const [version, c] of entries) {
      const minor = minorOf(version);
      expect([version, SUPPORTED_MINORS.includes(minor)]).toEqual([version, true]);
      expect([version, c.algorithm, /^[0-9a-f]{128}$/.test(c.hex)]).toEqual([version, 'sha512', true]);
      expect(c.source).toBe(`https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.${minor}.md#downloads-for-v${version.replace(/\./g, '')}`);
    }
    // No two versions share a checksum (a copy-paste slip would).
    expect(new Set(entries.map(([, c]) => c.hex)).size).toBe(entries.length);
  });

  test('every minor 1.27 to 1.37 has shipped checksums, the newest of each row is accepted', () => {
    for (const m of KUBERNETES_MINORS) {
      expect([m.minor, Object.keys(KUBERNETES_SERVER_CHECKSUMS).some((v) => minorOf(v) === m.minor)]).toEqual([m.minor, true]);
      expect([m.newest, issuesAt(withChanges(SEED, { kubernetesVersion: m.newest }), 'kubernetesVersion')]).toEqual([m.newest, []]);
    }
    expect(SUPPORTED_MINORS).toEqual([27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37]);
  });

  test('a version outside the supported minors, or not written 1.MINOR.PATCH, is refused, saying what is valid', () => {
    const k8s = release('kubernetes');
    for (const v of ['1.38.0', '1.26.15', 'v1.27.16', '1.27', '1.27.016', '2.0.0', 37]) {
      expect([v, acceptsVersion(k8s, v)]).toEqual([v, false]);
      expect(issuesAt(withChanges(SEED, { kubernetesVersion: v as string }), 'kubernetesVersion')).toEqual([{
        path: 'kubernetesVersion', value: v,
        message: 'is not supported; use a release of Kubernetes 1.27 to 1.37, written 1.MINOR.PATCH, e.g. "1.37.2"',
      }]);
    }
  });

  test('a release without a shipped checksum takes binaries.kubernetes.checksum; synth says fetch-binaries.sh needs one', () => {
    const hex = 'c'.repeat(128);
    const without = ClusterModel.fromDefinition(withChanges(SEED, { kubernetesVersion: '1.37.2' }));
    expect(KUBERNETES_SERVER_CHECKSUMS['1.37.2']).toBeUndefined();
    expect(without.releaseOf('kubernetes').checksum).toBeUndefined();
    expect(versionNotes('1.37.2', false, '2026-12-06')).toEqual([
      'kubesmith ships no checksum of Kubernetes 1.37.2\'s server archive; dist/fetch-binaries.sh needs binaries.kubernetes.checksum (\'sha512:<hex>\' from CHANGELOG-1.37.md, "Downloads for v1.37.2")',
    ]);
    const given = ClusterModel.fromDefinition(withChanges(SEED, { kubernetesVersion: '1.37.2', binaries: { kubernetes: { checksum: `sha512:${hex}` } } }));
    expect(given.releaseOf('kubernetes').checksum).toEqual({ algorithm: 'sha512', hex, source: 'binaries.kubernetes.checksum in the cluster definition' });
    expect(issuesAt(withChanges(SEED, { binaries: { kubernetes: { checksum: `sha256:${'a'.repeat(64)}` } } }), 'binaries.kubernetes.checksum')).toEqual([{
      path: 'binaries.kubernetes.checksum', value: `sha256:${'a'.repeat(64)}`,
      message: 'is not a sha512 checksum; use "sha512:" and 128 lowercase hex digits, as CHANGELOG-1.NN.md lists it',
    }]);
  });

  test('an end-of-life minor is named with the plan, a supported one is not', () => {
    expect(versionNotes('1.27.16', true, '2026-12-06')).toEqual([
      'Kubernetes 1.27 reached its end of life on 2024-06-28 and gets no more fixes; upgrade one minor at a time towards 1.37.2',
    ]);
    expect(versionNotes('1.36.4', true, '2026-12-06')).toEqual([]);
  });

  test('a shipped checksum is used; a companion without one takes the definition\'s', () => {
    const m = ClusterModel.fromDefinition(withChanges(SEED, { kubernetesVersion: '1.36.4' }));
    expect(m.releaseOf('kubernetes').checksum).toEqual(KUBERNETES_SERVER_CHECKSUMS['1.36.4']);
    expect(m.releaseOf('etcd').checksum).toBeUndefined();
    const hex = 'ab'.repeat(32);
    const given = ClusterModel.fromDefinition(withChanges(SEED, { binaries: { etcd: { checksum: `sha256:${hex}` } } }));
    expect(given.releaseOf('etcd').checksum).toEqual({ algorithm: 'sha256', hex, source: 'binaries.etcd.checksum in the cluster definition' });
  });

  test('each minor\'s companions and each release\'s example are versions the definition accepts', () => {
    for (const m of KUBERNETES_MINORS) {
      for (const id of DEFINED_RELEASES) expect([m.minor, id, acceptsVersion(release(id), m.companions[id])]).toEqual([m.minor, id, true]);
      const model = ClusterModel.fromDefinition(withChanges(SEED, { kubernetesVersion: m.newest }));
      for (const id of DEFINED_RELEASES) expect([m.minor, id, model.releaseOf(id).version]).toEqual([m.minor, id, m.companions[id]]);
    }
    for (const r of RELEASES) expect([r.id, acceptsVersion(r, r.example)]).toEqual([r.id, true]);
  });
});

describe('the release table and the component table', () => {
  test('every binary a component runs comes from exactly one release archive, except the OS packages', () => {
    for (const c of COMPONENT_LIST) {
      for (const b of c.binaries) {
        const name = b.split('/').pop()!;
        const holders = RELEASES.filter((r) => r.programs.some((p) => p.name === name)).map((r) => r.id);
        expect([b, holders.length]).toEqual([b, c.packaged ? 0 : 1]);
        expect([b, releaseProviding(name)?.release.id]).toEqual([b, holders[0]]);
      }
    }
  });

  test('every program of the release table is run by some component', () => {
    const run = new Set(COMPONENT_LIST.flatMap((c) => c.binaries.map((b) => b.split('/').pop()!)));
    for (const r of RELEASES) for (const p of r.programs) expect([r.id, p.name, run.has(p.name)]).toEqual([r.id, p.name, true]);
  });
});

describe('binaries in the definition', () => {
  test.each([
    ['binaries.etcd.version', { etcd: { version: '3.4.30' } }, '3.4.30', 'is not supported; use an etcd 3.5.x, 3.6.x or 3.7.x version without the leading v, e.g. "3.7.4"'],
    ['binaries.etcd.version', { etcd: { version: 'v3.5.15' } }, 'v3.5.15', 'is not supported; use an etcd 3.5.x, 3.6.x or 3.7.x version without the leading v, e.g. "3.7.4"'],
    ['binaries.containerd.version', { containerd: { version: '3.0.0' } }, '3.0.0', 'is not supported; use a containerd 2.x, 1.7.x or 1.6.x version without the leading v, e.g. "2.3.7"'],
    ['binaries.flannel.version', { flannel: { version: 22 } }, 22, 'is not supported; use a flannel 0.22.x version without the leading v, e.g. "0.22.2"'],
    ['binaries.runc.checksum', { runc: { checksum: 'abc' } }, 'abc', 'is not a checksum; use "sha256:" and 64 hex digits or "sha512:" and 128, lowercase, as the release page shows it'],
    ['binaries.cniPlugins.checksum', { cniPlugins: { checksum: `sha256:${'A'.repeat(64)}` } }, `sha256:${'A'.repeat(64)}`, 'is not a checksum; use "sha256:" and 64 hex digits or "sha512:" and 128, lowercase, as the release page shows it'],
    ['binaries.mirror', { mirror: 'ftp://mirror.example.cn' }, 'ftp://mirror.example.cn', 'is not a mirror base URL; use http(s)://host[:port][/path] without spaces, quotes or a query, e.g. "https://mirror.example.cn/k8s"'],
    ['binaries.mirror', { mirror: "https://m.example.cn/a'b" }, "https://m.example.cn/a'b", 'is not a mirror base URL; use http(s)://host[:port][/path] without spaces, quotes or a query, e.g. "https://mirror.example.cn/k8s"'],
  ])('%s: %j is reported with the field, the value and what is valid', (path, binaries, value, message) => {
    expect(issuesAt(withChanges(SEED, { binaries }), path)).toEqual([{ path, value, message }]);
  });

  test('a misspelled field is caught, not ignored', () => {
    const issues = validateDefinition(withChanges(SEED, { binaries: { etcd: { versoin: '3.5.15' }, containerD: {} } }));
    expect(issues.map((i) => i.path)).toEqual(['binaries.etcd.versoin', 'binaries.containerD']);
    expect(issues[0].message).toContain('did you mean "version"?');
  });

  test('good values pass', () => {
    const binaries = {
      mirror: 'http://10.0.0.5:8080/k8s/',
      etcd: { version: '3.5.9', checksum: `sha256:${'0'.repeat(64)}` },
      containerd: { version: '1.6.33', checksum: `sha512:${'f'.repeat(128)}` },
      runc: { version: '1.1.12' }, flannel: { version: '0.22.0' }, flannelCni: { version: '1.1.2' }, cniPlugins: { version: '1.3.0' },
    };
    expect(validateDefinition(withChanges(SEED, { binaries }))).toEqual([]);
  });
});
