/**
 * The references (lib/versions/references/1.NN, test/fixtures/flags) computed from real programs: each program's
 * `--help`, hidden (deprecated) flags confirmed by the program's own flag parser, the feature gates and the fields
 * of the component config types listed by the config-fields program (scripts/config-fields/main.go) built against
 * the minor's Go types.
 *
 * scripts/regenerate-references.ts writes the files; test/cluster/references.test.ts checks that the
 * committed files still say what the binaries say.
 */
import { spawnSync } from 'child_process';
import { Component, FieldReferenceName } from './flag-reference';

export interface FlagEntry {
  readonly name: string;
  readonly deprecated: boolean;
}

function runHelp(binary: string, args: string[]): string {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 30000, env: { PATH: '/usr/bin:/bin' } });
  if (r.error) throw r.error;
  return `${r.stdout}\n${r.stderr}`;
}

/**
 * Flags listed by a pflag `--help` (Kubernetes components): lines "      --name type   usage" or
 * "  -x, --name ...", with usage continuing on deeper-indented lines. Deprecated when the usage says
 * DEPRECATED (the kubelet's config-file flags, for example).
 */
export function parsePflagHelp(text: string): FlagEntry[] {
  const out = new Map<string, boolean>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^ {2,6}(?:-[A-Za-z0-9], )?--([A-Za-z0-9][A-Za-z0-9_.-]*)(.*)$/.exec(line);
    if (m) {
      current = m[1];
      out.set(current, (out.get(current) ?? false) || /DEPRECATED/.test(m[2]));
    } else if (current && /^ {8,}\S/.test(line)) {
      if (/DEPRECATED/.test(line)) out.set(current, true);
    } else {
      current = undefined;
    }
  }
  return [...out].map(([name, deprecated]) => ({ name, deprecated }));
}

/**
 * etcd's --help (its own text, server/etcdmain/help.go): "  --name 'default'" then indented usage lines,
 * in sections ("v2 Proxy (to be deprecated in v3.6):" makes its flags deprecated); the usage lines at the
 * top name --version, --help and --config-file as "  etcd --name".
 */
export function parseEtcdHelp(text: string): FlagEntry[] {
  const out = new Map<string, boolean>();
  let current: string | undefined;
  let sectionDeprecated = false;
  for (const line of text.split('\n')) {
    const section = /^(\S.*):\s*$/.exec(line);
    if (section) sectionDeprecated = /deprecated/i.test(section[1]);
    const m = /^ {2}(?:etcd )?--([a-z0-9][a-z0-9.-]*)\b/.exec(line);
    if (m) {
      current = m[1];
      out.set(current, (out.get(current) ?? false) || sectionDeprecated);
    } else if (current && /^ {4,}\S/.test(line)) {
      if (/deprecated|decommissioned/i.test(line)) out.set(current, true);
    } else {
      current = undefined;
    }
  }
  return [...out].map(([name, deprecated]) => ({ name, deprecated }));
}

/** Go `flag` PrintDefaults (flanneld): "  -name type" then a tab-indented usage line. */
export function parseGoFlagHelp(text: string): FlagEntry[] {
  const out = new Map<string, boolean>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^ {2}-{1,2}([A-Za-z0-9][A-Za-z0-9_.-]*)\b/.exec(line);
    if (m) {
      current = m[1];
      out.set(current, out.get(current) ?? false);
    } else if (current && /^\s+\S/.test(line)) {
      if (/deprecated/i.test(line)) out.set(current, true);
    } else {
      current = undefined;
    }
  }
  return [...out].map(([name, deprecated]) => ({ name, deprecated }));
}

/**
 * Whether the program's flag parser accepts `--name` (for flags --help does not show: pflag hides
 * MarkDeprecated flags). Parses `--name=true --version`: an unknown flag fails parsing with
 * "unknown flag"/"not defined"; a known one either parses (then --version prints and exits) or fails
 * on the value ("invalid argument"), which still shows the flag exists.
 */
export function acceptsFlag(binary: string, name: string, style: 'pflag' | 'etcd' | 'goflag'): boolean {
  const args = style === 'pflag' ? [`--${name}=true`, '--version'] : [`--${name}=true`, '--version'];
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 30000, env: { PATH: '/usr/bin:/bin' } });
  const text = `${r.stdout}\n${r.stderr}`;
  if (/unknown flag|flag provided but not defined|unknown shorthand/.test(text)) return false;
  return true;
}

export interface ComponentFlags {
  readonly component: Component;
  readonly version: string;
  readonly flags: FlagEntry[];
  /** Names from `candidates` that --help hides but the parser accepts (listed as deprecated). */
  readonly hidden: string[];
  /** Names from `candidates` that the parser rejects. */
  readonly rejected: string[];
}

const STYLE: Record<Component, 'pflag' | 'etcd' | 'goflag'> = {
  'kube-apiserver': 'pflag', 'kube-controller-manager': 'pflag', 'kube-scheduler': 'pflag', kubelet: 'pflag', 'kube-proxy': 'pflag',
  etcd: 'etcd', flanneld: 'goflag',
};

/**
 * The flags of a component's binary: its --help, plus those of `candidates` (e.g. the names of the
 * previous reference) that --help hides and the parser accepts.
 */
export function flagsOfBinary(component: Component, binary: string, candidates: Iterable<string> = []): ComponentFlags {
  const style = STYLE[component];
  const help = runHelp(binary, ['--help']);
  const flags = style === 'pflag' ? parsePflagHelp(help) : style === 'etcd' ? parseEtcdHelp(help) : parseGoFlagHelp(help);
  if (flags.length < 10) throw new Error(`${binary} --help listed only ${flags.length} flags:\n${help.slice(0, 2000)}`);
  const listed = new Set(flags.map((f) => f.name));
  const norm = (n: string) => (style === 'pflag' ? n.replace(/_/g, '-') : n);
  const listedNorm = new Set([...listed].map(norm));
  const hidden: string[] = [];
  const rejected: string[] = [];
  for (const c of new Set(candidates)) {
    if (listedNorm.has(norm(c)) || /^[A-Z]/.test(c)) continue;
    if (acceptsFlag(binary, c, style)) hidden.push(c);
    else rejected.push(c);
  }
  const version = runHelp(binary, ['--version']).split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? '';
  return {
    component, version, hidden: hidden.sort(), rejected: rejected.sort(),
    flags: [...flags, ...hidden.map((name) => ({ name, deprecated: true }))].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** etcd and flanneld also read every flag from an environment variable: ETCD_X / FLANNELD_X. */
export function envNames(component: Component, flags: readonly FlagEntry[]): FlagEntry[] {
  const prefix = component === 'etcd' ? 'ETCD_' : component === 'flanneld' ? 'FLANNELD_' : undefined;
  if (!prefix) return [];
  return flags.filter((f) => !['help', 'h'].includes(f.name))
    .map((f) => ({ name: prefix + f.name.toUpperCase().replace(/-/g, '_'), deprecated: f.deprecated }));
}

/** The body of a flag fixture: one name per line, " deprecated" where so. */
export function flagLines(component: Component, flags: readonly FlagEntry[]): string[] {
  const all = [...envNames(component, flags), ...flags];
  return all.map((f) => (f.deprecated ? `${f.name} deprecated` : f.name)).sort();
}

/** The body of a field fixture, from config-fields. */
export function fieldLines(configFields: string, name: FieldReferenceName): string[] {
  const r = spawnSync(configFields, [name], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`config-fields ${name} failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** The body of feature-gates.txt, from config-fields. */
export function gateLines(configFields: string): string[] {
  const r = spawnSync(configFields, ['feature-gates'], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`config-fields feature-gates failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  if (lines.length < 50) throw new Error(`config-fields feature-gates listed only ${lines.length} gates`);
  return lines;
}

/** Non-comment, non-blank lines of a fixture file's text. */
export function bodyLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}
