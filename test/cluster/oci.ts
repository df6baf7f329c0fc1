/**
 * OCI image archives (image-layout tarballs) made from single static binaries, for `ctr images import`:
 * one uncompressed layer holding the binary, a config with its entrypoint, and index.json naming the
 * image (io.containerd.image.name, which ctr import uses as the image's name).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as tar from 'tar-stream';

interface Blob {
  readonly digest: string;
  readonly size: number;
  readonly data: Buffer;
}

function blob(data: Buffer): Blob {
  return { digest: `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`, size: data.length, data };
}

async function tarOf(entries: { name: string; mode: number; content?: Buffer; type?: 'directory' | 'file' }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  const mtime = new Date(0);
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: e.mode, mtime, uid: 0, gid: 0 });
    else pack.entry({ name: e.name, mode: e.mode, mtime, uid: 0, gid: 0 }, e.content ?? Buffer.alloc(0));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface ImageSpec {
  /** Full reference, e.g. registry.k8s.io/pause:3.9. */
  readonly name: string;
  /** Path inside the image → file on this machine (made executable). */
  readonly binaries: Readonly<Record<string, string>>;
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
}

/** Writes an OCI image-layout tarball for `spec` to `file`. Returns the manifest digest. */
export async function writeOciArchive(spec: ImageSpec, file: string): Promise<string> {
  const dirs = new Set<string>(['tmp/', 'etc/']);
  const files = Object.entries(spec.binaries).map(([at, from]) => {
    const rel = at.replace(/^\//, '');
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
    return { name: rel, mode: 0o755, content: fs.readFileSync(from) };
  });
  const layer = blob(await tarOf([
    ...[...dirs].sort().map((d) => ({ name: d, mode: d === 'tmp/' ? 0o1777 : 0o755, type: 'directory' as const })),
    // Empty files the runtime bind-mounts over (as in distroless images).
    { name: 'etc/resolv.conf', mode: 0o644 }, { name: 'etc/hosts', mode: 0o644 }, { name: 'etc/hostname', mode: 0o644 },
    ...files,
  ]));
  const config = blob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Entrypoint: spec.entrypoint, ...(spec.cmd ? { Cmd: spec.cmd } : {}), Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  })));
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
  })));
  const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.size,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  const archive = await tarOf([
    { name: 'oci-layout', mode: 0o644, content: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'index.json', mode: 0o644, content: index },
    { name: 'blobs/', mode: 0o755, type: 'directory' },
    { name: 'blobs/sha256/', mode: 0o755, type: 'directory' },
    ...[layer, config, manifest].map((b) => ({ name: `blobs/sha256/${b.digest.slice(7)}`, mode: 0o644, content: b.data })),
  ]);
  fs.writeFileSync(file, archive);
  return manifest.digest;
}
