/**
 * Stand-in release archives for the fetch tests: laid out as upstream packs them (the members the release table
 * names), each program a shell script that prints its version the way the real one does, so install.sh's version
 * check reads them like the real programs.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ResolvedRelease } from '../../lib/model';
import { tempDir } from './tmp';

/** What each program prints for its version, as upstream's do (see lib/model/releases.ts). */
export function versionOutput(name: string, version: string): string {
  if (name.startsWith('kube')) return `Kubernetes v${version}`;
  switch (name) {
    case 'etcd': return `etcd Version: ${version}\nGit SHA: 0000000\nGo Version: go1.21.13`;
    case 'etcdctl': return `etcdctl version: ${version}\nAPI version: 3.5`;
    case 'etcdutl': return `etcdutl version: ${version}\nAPI version: 3.5`;
    case 'flanneld': return `v${version}`;
    case 'flannel': return `CNI Plugin flannel version v${version} (linux/amd64) commit 0000000 built on 2024-07-01`;
    case 'containerd': return `containerd github.com/containerd/containerd v${version} 0000000`;
    case 'containerd-shim-runc-v2': return `containerd-shim-runc-v2:\n  Version:  v${version}\n  Revision: 0000000`;
    case 'runc': return `runc version ${version}\ncommit: v${version}-0-g0000000`;
    default: return `CNI ${name} plugin v${version}\nCNI protocol versions supported: 0.1.0, 1.0.0`;
  }
}

export function fakeProgram(name: string, version: string): string {
  return `#!/bin/sh\n# stand-in for ${name} ${version}\ncat <<'EOF'\n${versionOutput(name, version)}\nEOF\n`;
}

export interface TestArchive {
  readonly release: ResolvedRelease;
  readonly bytes: Buffer;
  /** The path a server serves it under: its URL without the scheme and host. */
  readonly urlPath: string;
}

/** One archive per release, and the test checksum table: the releases with the sha256 of these archives pinned. */
export function buildArchives(releases: readonly ResolvedRelease[]): { archives: TestArchive[]; pinned: ResolvedRelease[] } {
  const archives = releases.map((r) => {
    const dir = tempDir('archive');
    const members = r.release.programs.map((p) => p.member(r.version));
    r.release.programs.forEach((p, i) => {
      fs.mkdirSync(path.dirname(path.join(dir, members[i])), { recursive: true });
      fs.writeFileSync(path.join(dir, members[i]), fakeProgram(p.name, r.version), { mode: 0o755 });
    });
    let bytes: Buffer;
    if (r.release.format === 'binary') {
      bytes = fs.readFileSync(path.join(dir, members[0]));
    } else {
      // With a README beside the programs, as upstream archives have.
      fs.writeFileSync(path.join(dir, 'README.md'), `${r.file}\n`);
      const out = path.join(tempDir('tgz'), r.file);
      const t = spawnSync('tar', ['-czf', out, '-C', dir, '--owner=0', '--group=0', ...members, 'README.md'], { encoding: 'utf8', timeout: 30000 });
      if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
      bytes = fs.readFileSync(out);
    }
    return { release: r, bytes, urlPath: new URL(r.url).pathname };
  });
  const pinned = archives.map((a) => ({
    ...a.release,
    checksum: { algorithm: 'sha256' as const, hex: crypto.createHash('sha256').update(a.bytes).digest('hex'), source: 'the test checksum table' },
  }));
  return { archives, pinned };
}
