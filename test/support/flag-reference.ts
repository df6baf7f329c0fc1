// Reference lists of valid flags / config fields (test/fixtures) and pure helpers
// that extract flags, env vars and field paths from emitted files and check them.
import * as fs from 'fs';
import * as path from 'path';

export const FIXTURES_DIR = path.join(__dirname, '..', 'fixtures');

export const COMPONENTS = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
  'etcd',
  'flanneld',
] as const;
export type Component = (typeof COMPONENTS)[number];

export const FIELD_REFERENCES = ['kubelet-config.v1beta1', 'kube-proxy-config.v1alpha1', 'kube-scheduler-config.v1'] as const;
export type FieldReferenceName = (typeof FIELD_REFERENCES)[number];

export interface FlagReference {
  /** Every accepted name, as written in the file (flags without dashes, env vars as ETCD_X / FLANNELD_X). */
  valid: Set<string>;
  /** Subset of `valid` marked "deprecated". */
  deprecated: Set<string>;
}

export interface FieldReference {
  /** Dotted leaf paths ("a.b", "list[].c"); map-valued fields are included as their own path. */
  paths: Set<string>;
  /** Fields marked "map": their keys are user data. */
  maps: Set<string>;
}

export interface ExtractedFlag {
  name: string;
  value?: string;
}

export interface Problem {
  kind: 'unknown' | 'deprecated';
  name: string;
  message: string;
}

export interface RemovedFlag {
  component: string;
  name: string;
  note: string;
}

interface RefLine {
  name: string;
  marks: string[];
}

function readRefLines(file: string): RefLine[] {
  const out: RefLine[] = [];
  const seen = new Set<string>();
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name, ...marks] = line.split(/\s+/);
    if (seen.has(name)) throw new Error(`${file}: duplicate entry ${name}`);
    for (const m of marks) {
      if (m !== 'deprecated' && m !== 'map') throw new Error(`${file}: unknown mark "${m}" on ${name}`);
    }
    seen.add(name);
    out.push({ name, marks });
  }
  if (out.length === 0) throw new Error(`${file}: no entries`);
  return out;
}

/** Header comment lines (without "# "), for provenance checks. */
export function readHeader(relPath: string): string[] {
  const lines = fs.readFileSync(path.join(FIXTURES_DIR, relPath), 'utf8').split(/\r?\n/);
  const header: string[] = [];
  for (const l of lines) {
    if (!l.startsWith('#')) break;
    header.push(l.replace(/^#\s?/, ''));
  }
  return header;
}

const flagCache = new Map<Component, FlagReference>();

export function loadFlagReference(component: Component): FlagReference {
  if (!(COMPONENTS as readonly string[]).includes(component)) throw new Error(`unknown component ${component}`);
  const cached = flagCache.get(component);
  if (cached) return cached;
  const ref: FlagReference = { valid: new Set(), deprecated: new Set() };
  for (const { name, marks } of readRefLines(path.join(FIXTURES_DIR, 'flags', `${component}.txt`))) {
    ref.valid.add(name);
    if (marks.includes('deprecated')) ref.deprecated.add(name);
  }
  flagCache.set(component, ref);
  return ref;
}

const fieldCache = new Map<FieldReferenceName, FieldReference>();

export function loadFieldReferenceDetailed(name: FieldReferenceName): FieldReference {
  if (!(FIELD_REFERENCES as readonly string[]).includes(name)) throw new Error(`unknown field reference ${name}`);
  const cached = fieldCache.get(name);
  if (cached) return cached;
  const ref: FieldReference = { paths: new Set(), maps: new Set() };
  for (const { name: p, marks } of readRefLines(path.join(FIXTURES_DIR, 'fields', `${name}.txt`))) {
    ref.paths.add(p);
    if (marks.includes('map')) ref.maps.add(p);
  }
  fieldCache.set(name, ref);
  return ref;
}

export function loadFieldReference(name: FieldReferenceName): Set<string> {
  return loadFieldReferenceDetailed(name).paths;
}

/** Entries of flags/removed.txt: "<component> <flag>  # note". */
export function loadRemovedFlags(): RemovedFlag[] {
  const out: RemovedFlag[] = [];
  const text = fs.readFileSync(path.join(FIXTURES_DIR, 'flags', 'removed.txt'), 'utf8');
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const hash = raw.indexOf('#');
    const [component, name] = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/);
    out.push({ component, name, note: hash >= 0 ? raw.slice(hash + 1).trim() : '' });
  }
  return out;
}

// Kubernetes components parse flags with pflag + WordSepNormalizeFunc ("_" == "-");
// etcd and flanneld use Go's flag package, which matches names exactly.
function normalizer(component: Component): (n: string) => string {
  return component === 'etcd' || component === 'flanneld' ? (n) => n : (n) => n.replace(/_/g, '-');
}

// ---------------------------------------------------------------------------
// Extraction

/** Join backslash-newline continuations (shell and systemd both do this). */
function joinContinuations(text: string): string {
  return text.replace(/\\\r?\n/g, ' ');
}

/** Shell-like word split: whitespace separates, '...' and "..." group and are removed. */
export function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in: ${s}`);
  if (inWord) words.push(cur);
  return words;
}

const ASSIGN = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/**
 * Flags from a systemd unit (ExecStart= lines only), an EnvironmentFile with
 * VAR="--a=b --c" assignments, or a bare command line; "\" continuations allowed.
 * Only "--name=value" (value may be quoted) and bare "--name" are recognised:
 * a following non-flag token is NOT taken as the value ("--name value" is not
 * a form we emit), and non-flag tokens (binary path, $VAR) are ignored.
 * A single-dash "-name[=value]" is accepted the same way.
 */
export function extractFlags(text: string): ExtractedFlag[] {
  const lines = joinContinuations(text)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'));
  const exec = lines.filter((l) => /^ExecStart=/.test(l));
  let commandParts: string[];
  if (exec.length > 0) {
    // systemd prefixes like "-" or "@" before the binary do not matter here.
    commandParts = exec.map((l) => l.replace(/^ExecStart=/, ''));
  } else {
    commandParts = lines
      .filter((l) => !/^\[.*\]$/.test(l))
      .map((l) => {
        const m = ASSIGN.exec(l);
        return m ? shellWords(m[2]).join(' ') : l;
      });
  }
  const flags: ExtractedFlag[] = [];
  for (const part of commandParts) {
    for (const tok of shellWords(part)) {
      const m = /^--?([A-Za-z0-9][A-Za-z0-9_.-]*)(?:=([\s\S]*))?$/.exec(tok);
      if (!m) continue;
      flags.push(m[2] === undefined ? { name: m[1] } : { name: m[1], value: m[2] });
    }
  }
  return flags;
}

/** KEY=VALUE lines of an EnvironmentFile (etcd style); quotes removed, comments/blank lines skipped, last wins. */
export function extractEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const raw of joinContinuations(text).split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = ASSIGN.exec(line);
    if (!m) throw new Error(`not a KEY=VALUE line: ${line}`);
    env.set(m[1], shellWords(m[2]).join(' '));
  }
  return env;
}

/**
 * Dotted paths to the leaves of a parsed YAML/JSON document. Arrays of objects
 * give "list[].field", other arrays and empty objects are leaves. Paths in
 * `stopAt` (map-valued fields, see FieldReference.maps) are not descended into.
 */
export function extractFieldPaths(obj: unknown, stopAt: Iterable<string> = []): string[] {
  const stop = new Set(stopAt);
  const out = new Set<string>();
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const walk = (v: unknown, p: string): void => {
    if (p !== '' && stop.has(p)) {
      out.add(p);
    } else if (Array.isArray(v)) {
      const objs = v.filter(isObj);
      if (objs.length === 0) out.add(p);
      for (const o of objs) walk(o, `${p}[]`);
    } else if (isObj(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 && p !== '') out.add(p);
      for (const k of keys) walk(v[k], p === '' ? k : `${p}.${k}`);
    } else if (p !== '') {
      out.add(p);
    }
  };
  if (!isObj(obj)) throw new Error('extractFieldPaths expects an object at the top level');
  walk(obj, '');
  return [...out];
}

// ---------------------------------------------------------------------------
// Checks

/** Problems for unknown and deprecated flag (or env var) names. Accepts names with or without dashes. */
export function checkFlags(component: Component, flags: Iterable<ExtractedFlag | string>): Problem[] {
  const ref = loadFlagReference(component);
  const norm = normalizer(component);
  const byNorm = new Map<string, string>();
  for (const v of ref.valid) byNorm.set(norm(v), v);
  const removed = new Map(
    loadRemovedFlags()
      .filter((r) => r.component === component)
      .map((r) => [norm(r.name), r.note] as const),
  );
  const problems: Problem[] = [];
  for (const f of flags) {
    const raw = typeof f === 'string' ? f : f.name;
    const name = raw.replace(/^--?/, '');
    const shown = /^[A-Z][A-Z0-9_]*$/.test(name) ? name : `--${name}`;
    const canonical = byNorm.get(norm(name));
    if (canonical === undefined) {
      const note = removed.get(norm(name));
      problems.push({
        kind: 'unknown',
        name,
        message:
          `${component}: unknown ${shown} (not in test/fixtures/flags/${component}.txt, Kubernetes 1.27 reference)` +
          (note !== undefined ? `; removed: ${note}` : ''),
      });
    } else if (ref.deprecated.has(canonical)) {
      problems.push({ kind: 'deprecated', name, message: `${component}: ${shown} is deprecated in the reference version` });
    }
  }
  return problems;
}

/** Problems for field paths that are not in the reference (map-valued fields accept any key below them). */
export function checkFields(name: FieldReferenceName, paths: Iterable<string>): Problem[] {
  const ref = loadFieldReferenceDetailed(name);
  const problems: Problem[] = [];
  for (const p of paths) {
    if (ref.paths.has(p)) continue;
    if ([...ref.maps].some((m) => p.startsWith(`${m}.`) || p.startsWith(`${m}[]`))) continue;
    // A non-leaf path (e.g. an empty list or object) is fine if a reference path lies below it.
    if ([...ref.paths].some((r) => r.startsWith(`${p}.`) || r.startsWith(`${p}[]`))) continue;
    problems.push({ kind: 'unknown', name: p, message: `${name}: unknown field ${p} (not in test/fixtures/fields/${name}.txt)` });
  }
  return problems;
}
