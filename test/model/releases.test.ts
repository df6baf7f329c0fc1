import { COMPONENT_LIST } from '../../lib/components';
import {
  ClusterDefinition, ClusterModel, DEFAULTS, DEFINED_RELEASES, KUBERNETES_SERVER_CHECKSUMS, RELEASES, acceptsVersion,
  release, releaseProviding, validateDefinition,
} from '../../lib/model';
import { SEED, withChanges } from '../support/clusters';

const issuesAt = (def: ClusterDefinition, path: string) => validateDefinition(def).filter((i) => i.path === path);

describe('the shipped checksum table', () => {
  test('every entry is a sha512 of the Kubernetes server archive, citing its section of CHANGELOG-1.27.md', () => {
    const entries = Object.entries(KUBERNETES_SERVER_CHECKSUMS);
    expect(entries.length).toBeGreaterThan(0);
    for (const [version, c] of entries) {
      expect([version, /^1\.27\.(0|[1-9]\d?)$/.test(version)]).toEqual([version, true]);
      expect([version, c.algorithm, /^[0-9a-f]{128}$/.test(c.hex)]).toEqual([version, 'sha512', true]);
      expect(c.source).toBe(`https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.27.md#downloads-for-v${version.replace(/\./g, '')}`);
    }
    // No two versions share a checksum (a copy-paste slip would).
    expect(new Set(entries.map(([, c]) => c.hex)).size).toBe(entries.length);
  });

  test('every Kubernetes version the definition accepts has an entry, and no other is accepted', () => {
    const k8s = release('kubernetes');
    // Every patch release of 1.27 up to the last, v1.27.16.
    const all = Array.from({ length: 17 }, (_, i) => `1.27.${i}`);
    expect(Object.keys(KUBERNETES_SERVER_CHECKSUMS).sort()).toEqual([...all].sort());
    for (const v of all) {
      expect([v, issuesAt(withChanges(SEED, { kubernetesVersion: v }), 'kubernetesVersion')]).toEqual([v, []]);
      expect(k8s.checksums![v]).toBeDefined();
    }
    for (const v of ['1.27.17', '1.28.0', '1.26.15', 'v1.27.16', '1.27', '1.27.016']) {
      expect([v, acceptsVersion(k8s, v)]).toEqual([v, false]);
      expect(issuesAt(withChanges(SEED, { kubernetesVersion: v }), 'kubernetesVersion')).toEqual([{
        path: 'kubernetesVersion', value: v,
        message: 'is not supported; use a Kubernetes 1.27 release kubesmith has the upstream checksum of (1.27.0 to 1.27.16), e.g. "1.27.16"',
      }]);
    }
  });

  test('a release without shipped checksums takes one from the definition; with one, the shipped one is used', () => {
    for (const r of RELEASES) {
      if (r.checksums) expect([r.id, Array.isArray(r.accepts) && r.accepts.every((v) => r.checksums![v] !== undefined)]).toEqual([r.id, true]);
      else expect([r.id, (DEFINED_RELEASES as readonly string[]).includes(r.id)]).toEqual([r.id, true]);
    }
    const m = ClusterModel.fromDefinition(SEED);
    expect(m.releaseOf('kubernetes').checksum).toEqual(KUBERNETES_SERVER_CHECKSUMS['1.27.16']);
    expect(m.releaseOf('etcd').checksum).toBeUndefined();
    const hex = 'ab'.repeat(32);
    const given = ClusterModel.fromDefinition(withChanges(SEED, { binaries: { etcd: { checksum: `sha256:${hex}` } } }));
    expect(given.releaseOf('etcd').checksum).toEqual({ algorithm: 'sha256', hex, source: 'binaries.etcd.checksum in the cluster definition' });
  });

  test('each default version is one the definition accepts', () => {
    for (const id of DEFINED_RELEASES) expect([id, acceptsVersion(release(id), DEFAULTS.binaries[id].version)]).toEqual([id, true]);
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
    ['binaries.etcd.version', { etcd: { version: '3.4.30' } }, '3.4.30', 'is not supported; use an etcd 3.5.x version without the leading v, e.g. "3.5.15"'],
    ['binaries.etcd.version', { etcd: { version: 'v3.5.15' } }, 'v3.5.15', 'is not supported; use an etcd 3.5.x version without the leading v, e.g. "3.5.15"'],
    ['binaries.containerd.version', { containerd: { version: '2.0.0' } }, '2.0.0', 'is not supported; use a containerd 1.7.x (or 1.6.x) version without the leading v, e.g. "1.7.20"'],
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
