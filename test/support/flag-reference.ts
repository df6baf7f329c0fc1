// Reference lists of valid flags / config fields and pure helpers that extract flags, env vars and field paths
// from emitted files and check them. The Kubernetes components' references are per minor, in
// lib/versions/references/1.NN (what synth checks against); etcd's and flanneld's are test/fixtures/flags.
import * as fs from 'fs';
import * as path from 'path';
import { cluster as SEED_DEFINITION } from '../../main';
import { kubernetesMinor, minorOf } from '../../lib/versions/kubernetes';
import {
  ConfigTypeName, KUBERNETES_COMPONENTS, KubernetesComponent, fieldPaths, fieldReference, flagReference, knownField, readReferenceLines,
} from '../../lib/versions/references';

export const FIXTURES_DIR = path.join(__dirname, '..', 'fixtures');

/** The seed's Kubernetes minor: the default of every check below. */
export const SEED_MINOR = minorOf(SEED_DEFINITION.kubernetesVersion);

export const COMPONENTS = [...KUBERNETES_COMPONENTS, 'etcd', 'flanneld'] as const;
export type Component = (typeof COMPONENTS)[number];

export const FIELD_REFERENCES = ['kubelet-config.v1beta1', 'kube-proxy-config.v1alpha1', 'kube-scheduler-config.v1'] as const;
export type FieldReferenceName = ConfigTypeName;

export interface FlagReference {
  /** Every accepted name, as written in the file (flags without dashes, env vars as ETCD_X / FLANNELD_X). */
  valid: ReadonlySet<string>;
  /** Subset of `valid` marked "deprecated". */
  deprecated: ReadonlySet<string>;
}

export interface FieldReference {
  /** Dotted leaf paths ("a.b", "list[].c"); map-valued fields are included as their own path. */
  paths: ReadonlySet<string>;
  /** Fields marked "map": their keys are user data. */
  maps: ReadonlySet<string>;
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

/** Header comment lines (without "# "), for provenance checks; `file` is absolute or relative to test/fixtures. */
export function readHeader(file: string): string[] {
  const lines = fs.readFileSync(path.isAbsolute(file) ? file : path.join(FIXTURES_DIR, file), 'utf8').split(/\r?\n/);
  const header: string[] = [];
  for (const l of lines) {
    if (!l.startsWith('#')) break;
    header.push(l.replace(/^#\s?/, ''));
  }
  return header;
}

const isKubernetes = (c: Component): c is KubernetesComponent => (KUBERNETES_COMPONENTS as readonly string[]).includes(c);
const companionCache = new Map<string, FlagReference>();

/** The companion reference file of a Kubernetes minor: etcd's by the etcd minor it pairs (etcd-3.N.txt), flanneld's. */
export function companionReferenceFile(component: 'etcd' | 'flanneld', minor: number = SEED_MINOR): string {
  const name = component === 'etcd' ? `etcd-${kubernetesMinor(minor).companions.etcd.split('.').slice(0, 2).join('.')}` : component;
  return path.join(FIXTURES_DIR, 'flags', `${name}.txt`);
}

/** A component's flags at a Kubernetes minor (default: the seed's): its own reference, or its companion's. */
export function loadFlagReference(component: Component, minor: number = SEED_MINOR): FlagReference {
  if (!(COMPONENTS as readonly string[]).includes(component)) throw new Error(`unknown component ${component}`);
  if (isKubernetes(component)) return flagReference(minor, component);
  const file = companionReferenceFile(component, minor);
  let ref = companionCache.get(file);
  if (!ref) {
    const lines = readReferenceLines(file, (m) => m === 'deprecated');
    ref = { valid: new Set(lines.map((l) => l.name)), deprecated: new Set(lines.filter((l) => l.marks.includes('deprecated')).map((l) => l.name)) };
    companionCache.set(file, ref);
  }
  return ref;
}

export function loadFieldReferenceDetailed(name: FieldReferenceName, minor: number = SEED_MINOR): FieldReference {
  return fieldReference(minor, name);
}

export function loadFieldReference(name: FieldReferenceName, minor: number = SEED_MINOR): ReadonlySet<string> {
  return loadFieldReferenceDetailed(name, minor).paths;
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

/** Dotted paths to the leaves of a parsed document (lib/versions/references.ts fieldPaths). */
export const extractFieldPaths = fieldPaths;

// ---------------------------------------------------------------------------
// Checks

/** Problems for unknown and deprecated flag (or env var) names. Accepts names with or without dashes. */
export function checkFlags(component: Component, flags: Iterable<ExtractedFlag | string>, minor: number = SEED_MINOR): Problem[] {
  const ref = loadFlagReference(component, minor);
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
          `${component}: unknown ${shown} (not in the ${isKubernetes(component) ? `Kubernetes 1.${minor}` : component} reference)` +
          (note !== undefined ? `; removed: ${note}` : ''),
      });
    } else if (ref.deprecated.has(canonical)) {
      problems.push({ kind: 'deprecated', name, message: `${component}: ${shown} is deprecated in the ${isKubernetes(component) ? `Kubernetes 1.${minor}` : component} reference` });
    }
  }
  return problems;
}

/** Problems for field paths that are not in the reference (map-valued fields accept any key below them). */
export function checkFields(name: FieldReferenceName, paths: Iterable<string>, minor: number = SEED_MINOR): Problem[] {
  const ref = loadFieldReferenceDetailed(name, minor);
  const problems: Problem[] = [];
  for (const p of paths) {
    if (knownField(ref, p)) continue;
    problems.push({ kind: 'unknown', name: p, message: `${name}: unknown field ${p} (not in the Kubernetes 1.${minor} reference)` });
  }
  return problems;
}
