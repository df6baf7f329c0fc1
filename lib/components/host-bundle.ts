import * as path from 'path';
import { Construct } from 'constructs';
import { Host } from '../model';
import { ServiceSpec } from './component-list';

export interface BundleFile {
  /** Install path relative to /, e.g. 'opt/etcd/ssl/ca.pem'; a bundle's own files (install.sh) have no '/'. */
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
  /**
   * Needed only until this path exists on the host: install.sh then leaves the file out and removes it, and a
   * change to it restarts nothing (the bootstrap kubeconfig, once the kubelet has its own).
   * @default needed for good
   */
  readonly obsoleteWhen?: string;
}

/** Only modes install.sh accepts: no setuid, setgid, sticky or world-writable file. */
export const ALLOWED_MODES: readonly number[] = [0o600, 0o640, 0o644, 0o700, 0o750, 0o755];

export interface HostBundleProps {
  readonly host: Host;
  /**
   * Contents already added to other bundles, by text: bundles that share it hold one Buffer per distinct text, so a
   * file that 1000 nodes receive is stored, hashed and scanned once.
   * @default a store of this bundle's own
   */
  readonly contents?: Map<string, Buffer>;
}

/** Everything one host receives: files at their install paths. Written as dist/hosts/<host>.tar.gz. */
export class HostBundle extends Construct {
  readonly host: Host;
  private readonly entries = new Map<string, BundleFile>();
  private readonly serviceSpecs = new Map<string, ServiceSpec>();
  private readonly rootEntries = new Map<string, { content: () => string | Buffer; mode: number }>();
  private readonly contents: Map<string, Buffer>;
  private readonly obsolete = new Map<string, string>();

  constructor(scope: Construct, id: string, props: HostBundleProps) {
    super(scope, id);
    this.host = props.host;
    this.contents = props.contents ?? new Map();
  }

  /** Adds a file at an absolute install path. Two constructs may add the same path only with the same content and mode. */
  addFile(installPath: string, content: string | Buffer, options: AddFileOptions = {}): void {
    if (!installPath.startsWith('/') || path.posix.normalize(installPath) !== installPath || installPath.endsWith('/')) {
      throw new Error(`bundle ${this.host.name}: "${installPath}" is not a normalized absolute file path, e.g. /opt/etcd/cfg/etcd`);
    }
    if (installPath.lastIndexOf('/') === 0) {
      // The archive's top level holds the bundle's own files (MANIFEST, install.sh).
      throw new Error(`bundle ${this.host.name}: "${installPath}" is directly under /; install files into a directory`);
    }
    const rel = installPath.slice(1);
    const data = Buffer.isBuffer(content) ? content : this.intern(content);
    const mode = options.mode ?? (/(-key\.pem|\.key)$/.test(rel) ? 0o600 : 0o644);
    if (!ALLOWED_MODES.includes(mode)) {
      throw new Error(`bundle ${this.host.name}: ${installPath} mode ${mode.toString(8)} is not one install.sh accepts (${ALLOWED_MODES.map((m) => m.toString(8)).join(', ')})`);
    }
    if (options.obsoleteWhen !== undefined) this.obsolete.set(rel, options.obsoleteWhen);
    const existing = this.entries.get(rel);
    if (existing && ((existing.content !== data && !existing.content.equals(data)) || existing.mode !== mode)) {
      throw new Error(`bundle ${this.host.name}: ${installPath} is added twice with different content or mode`);
    }
    this.entries.set(rel, { path: rel, content: data, mode });
  }

  private intern(text: string): Buffer {
    let data = this.contents.get(text);
    if (!data) {
      data = Buffer.from(text, 'utf8');
      this.contents.set(text, data);
    }
    return data;
  }

  /** Registers a service for install.sh to enable, in start order (the component table's row, see serviceOf). */
  addService(service: ServiceSpec): void {
    if (this.serviceSpecs.has(service.unit)) throw new Error(`bundle ${this.host.name}: service ${service.unit} is added twice`);
    this.serviceSpecs.set(service.unit, service);
  }

  /** Services by start order, then name. */
  get services(): ServiceSpec[] {
    return [...this.serviceSpecs.values()].sort((a, b) => a.order - b.order || (a.unit < b.unit ? -1 : 1));
  }

  /**
   * Adds a file at the top of the archive that is not installed on the host, e.g. install.sh.
   * A function is called when the archive is written, after every component has added its files and services.
   */
  addRootFile(name: string, content: string | Buffer | (() => string | Buffer), options: { readonly mode?: number } = {}): void {
    if (!/^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(name) || name === 'MANIFEST') {
      throw new Error(`bundle ${this.host.name}: root file name "${name}" must be a plain file name other than MANIFEST`);
    }
    if (this.rootEntries.has(name)) throw new Error(`bundle ${this.host.name}: root file ${name} is added twice`);
    this.rootEntries.set(name, { content: typeof content === 'function' ? content : () => content, mode: options.mode ?? 0o644 });
  }

  /** The bundle's own files (not installed), by name. */
  get rootFiles(): BundleFile[] {
    return [...this.rootEntries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, e]) => {
      const c = e.content();
      return { path: name, content: Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8'), mode: e.mode };
    });
  }

  /** Every archive entry but MANIFEST: root files and installed files, sorted by path. */
  get archiveFiles(): BundleFile[] {
    return [...this.rootFiles, ...this.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Files needed only until another path exists on the host: install path (relative) → that path (absolute). */
  get obsoleteFiles(): ReadonlyMap<string, string> {
    return this.obsolete;
  }

  hasFile(installPath: string): boolean {
    return this.entries.has(installPath.replace(/^\//, ''));
  }

  /** Files sorted by path, so archives are reproducible. */
  get files(): BundleFile[] {
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
