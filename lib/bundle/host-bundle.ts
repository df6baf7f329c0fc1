import * as path from 'path';
import { Construct } from 'constructs';
import { Host } from '../cluster-model';

export interface BundleFile {
  /** Install path relative to /, e.g. 'opt/etcd/ssl/ca.pem'. */
  readonly path: string;
  readonly content: Buffer;
  /** File mode, e.g. 0o644; owner is always root. */
  readonly mode: number;
}

export interface AddFileOptions {
  /**
   * File mode.
   * @default 0o600 for private keys (*-key.pem, *.key), 0o644 otherwise
   */
  readonly mode?: number;
}

export interface HostBundleProps {
  readonly host: Host;
}

/** Everything one host receives: files at their install paths. Written as dist/hosts/<host>.tar.gz. */
export class HostBundle extends Construct {
  static isHostBundle(x: unknown): x is HostBundle {
    return x instanceof HostBundle;
  }

  readonly host: Host;
  private readonly entries = new Map<string, BundleFile>();

  constructor(scope: Construct, id: string, props: HostBundleProps) {
    super(scope, id);
    this.host = props.host;
  }

  /** Adds a file at an absolute install path. Two constructs may add the same path only with the same content and mode. */
  addFile(installPath: string, content: string | Buffer, options: AddFileOptions = {}): void {
    if (!installPath.startsWith('/') || path.posix.normalize(installPath) !== installPath || installPath.endsWith('/')) {
      throw new Error(`bundle ${this.host.name}: "${installPath}" is not a normalized absolute file path, e.g. /opt/etcd/cfg/etcd`);
    }
    const rel = installPath.slice(1);
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const mode = options.mode ?? (/(-key\.pem|\.key)$/.test(rel) ? 0o600 : 0o644);
    const existing = this.entries.get(rel);
    if (existing && (!existing.content.equals(data) || existing.mode !== mode)) {
      throw new Error(`bundle ${this.host.name}: ${installPath} is added twice with different content or mode`);
    }
    this.entries.set(rel, { path: rel, content: data, mode });
  }

  hasFile(installPath: string): boolean {
    return this.entries.has(installPath.replace(/^\//, ''));
  }

  /** Files sorted by path, so archives are reproducible. */
  get files(): BundleFile[] {
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
