/**
 * Finding the real programs a test needs, and skipping (locally) or failing
 * (in CI) when one is missing.
 *
 * In CI (process.env.CI === 'true') a missing program is an error: the run
 * must fail rather than quietly skip the tests that prove generated files on
 * real programs. Locally the tests are skipped, with a loud message naming
 * the Debian package to install (or: sudo bash scripts/install-test-deps.sh).
 *
 * Jest pattern:
 *
 *   const tools = requirePrograms(['etcd', 'etcdctl']);
 *   describeIf(tools.ok)('etcd cluster', () => {
 *     it('starts', async () => { start([tools.path('etcd')], ...); });
 *   });
 *
 * or in one line: describeWithPrograms(['nginx'], 'nginx stream', (tools) => { ... });
 * `describe.skip` makes jest report the tests as skipped, so they stay visible.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Debian package that provides each program the tests use. */
export const DEBIAN_PACKAGE: Readonly<Record<string, string>> = {
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  nginx: 'nginx',
  keepalived: 'keepalived',
  containerd: 'containerd',
  'containerd-shim-runc-v2': 'containerd',
  ctr: 'containerd',
  runc: 'runc',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  conntrack: 'conntrack',
  ipset: 'ipset',
  nsenter: 'util-linux',
  sysctl: 'procps',
  openssl: 'openssl',
  ip: 'iproute2',
  ss: 'iproute2',
  ping: 'iputils-ping',
  'systemd-analyze': 'systemd',
  'ansible-playbook': 'ansible-core',
  bash: 'bash',
  timeout: 'coreutils',
  tar: 'tar',
  curl: 'curl',
  sha256sum: 'coreutils',
  sha512sum: 'coreutils',
  unshare: 'util-linux',
  mount: 'mount',
  shellcheck: 'shellcheck',
};

/** Debian's nginx stream module (package libnginx-mod-stream). */
export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** Directories searched besides $PATH (root's PATH may lack the sbin ones). */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** CI=true: missing programs fail the run instead of skipping. Read at call time. */
export function inCi(): boolean {
  return process.env.CI === 'true';
}

export type ProgramCheck =
  | { readonly found: true; readonly name: string; readonly path: string }
  | { readonly found: false; readonly name: string; readonly package: string; readonly message: string };

/** Absolute path of an executable `name`, or undefined. */
export function which(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_DIRS];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function missing(name: string, what: string, pkg: string): ProgramCheck {
  const message =
    `${what} is missing: install Debian package '${pkg}' ` +
    `(apt-get install -y --no-install-recommends ${pkg}, or run: sudo bash scripts/install-test-deps.sh)`;
  if (inCi()) throw new Error(`CI=true and ${message}`);
  console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING tests: ${message}\n${'!'.repeat(78)}\n`);
  return { found: false, name, package: pkg, message };
}

/**
 * Locates program `name`. Found: `{ found: true, path }`. Missing: throws when
 * CI=true, else warns loudly and returns `{ found: false, package, message }`.
 */
export function requireProgram(name: string): ProgramCheck {
  const p = which(name);
  if (p) return { found: true, name, path: p };
  return missing(name, `program '${name}'`, DEBIAN_PACKAGE[name] ?? name);
}

/** Like requireProgram for a file that must exist (e.g. NGINX_STREAM_MODULE). */
export function requireFile(file: string, pkg: string): ProgramCheck {
  if (fs.existsSync(file)) return { found: true, name: file, path: file };
  return missing(file, `file '${file}'`, pkg);
}

/** Root is needed for network namespaces; same CI/local rule as a missing program. */
export function requireRoot(): ProgramCheck {
  if (process.getuid?.() === 0) return { found: true, name: 'root', path: '' };
  const message = 'these tests need root (network namespaces)';
  if (inCi()) throw new Error(`CI=true and ${message}`);
  console.warn(`\n!! SKIPPING tests: ${message}\n`);
  return { found: false, name: 'root', package: '', message };
}

export interface Tools {
  /** True when every requirement was met. */
  readonly ok: boolean;
  readonly missing: readonly string[];
  /** Absolute path of a found program; throws for one that was not found. */
  path(name: string): string;
}

/**
 * Checks several programs at once (plus extra checks such as requireRoot()
 * or requireFile(...)); see the file comment for the jest pattern.
 */
export function requirePrograms(names: readonly string[], extra: readonly ProgramCheck[] = []): Tools {
  const checks = [...names.map(requireProgram), ...extra];
  const paths = new Map<string, string>();
  for (const c of checks) if (c.found) paths.set(c.name, c.path);
  const missingNames = checks.filter((c) => !c.found).map((c) => c.name);
  return {
    ok: missingNames.length === 0,
    missing: missingNames,
    path(name: string): string {
      const p = paths.get(name);
      if (p === undefined) throw new Error(`program ${name} was not checked or not found`);
      return p;
    },
  };
}

/** `describe` when ok, else `describe.skip`. */
export function describeIf(ok: boolean): jest.Describe {
  return ok ? describe : describe.skip;
}

/** describe(title, fn) if all programs (and extra checks) are present, else describe.skip. */
export function describeWithPrograms(
  names: readonly string[],
  title: string,
  fn: (tools: Tools) => void,
  extra: readonly ProgramCheck[] = [],
): void {
  const tools = requirePrograms(names, extra);
  describeIf(tools.ok)(title, () => fn(tools));
}

/**
 * Puts `program` at `at` inside a host's root as a file of that root: a hard link (the component cache and the test
 * roots share a filesystem), a copy across filesystems. Never a symbolic link: install.sh --root runs no program that
 * resolves outside its root.
 */
export function placeProgram(program: string, at: string): void {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  const real = fs.realpathSync(program);
  try {
    fs.linkSync(real, at);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    fs.copyFileSync(real, at);
    fs.chmodSync(at, fs.statSync(real).mode & 0o7777);
  }
}
