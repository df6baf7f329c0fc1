/**
 * From a systemd unit to a command line, the way systemd would run it, and a
 * view of an unpacked bundle root at the install paths — so the real-component
 * tests start programs "with the command line and environment the unit
 * declares", reading the emitted files at the paths they name.
 *
 *   const cmd = unitCommand(root, '/usr/lib/systemd/system/etcd.service');
 *   // cmd.argv = ['/opt/etcd/bin/etcd'], cmd.env = PATH + the ETCD_* of /opt/etcd/cfg/etcd
 *   start(inRootView(root, ['/opt', '/var/lib/etcd'], cmd.argv), { env: cmd.env, netns });
 *
 * inRootView runs the command in a private mount namespace (unshare) where
 * ROOT/opt is bind-mounted on /opt and so on: the program reads
 * /opt/etcd/ssl/server.pem literally, byte for byte what the bundle installed.
 * The mounts are invisible outside that one process tree.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseEnvironmentFile, SYSTEMD_DEFAULT_PATH } from './processes';

/** Entries of a unit file: section → [key, value] in order (continuation lines joined, comments dropped). */
export function parseUnit(text: string): Map<string, Array<[string, string]>> {
  const sections = new Map<string, Array<[string, string]>>();
  let current: Array<[string, string]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = sections.get(section[1]) ?? [];
      sections.set(section[1], current);
      return;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1) throw new Error(`unit line ${i + 1} is neither [Section] nor Key=Value: ${JSON.stringify(raw)}`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  });
  return sections;
}

/** Values of one key in one section. */
export function unitValues(unit: Map<string, Array<[string, string]>>, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** Splits a command line into words like systemd: whitespace-separated, '...' and "..." quoting, backslash escapes. */
export function splitWords(line: string): Array<{ word: string; quoted: boolean }> {
  const words: Array<{ word: string; quoted: boolean }> = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let word = '';
    let quoted = false;
    while (i < line.length && !/\s/.test(line[i])) {
      const c = line[i];
      if (c === '"' || c === "'") {
        quoted = true;
        i++;
        while (i < line.length && line[i] !== c) {
          // Inside double quotes a backslash escapes the next character; single quotes take everything literally.
          if (c === '"' && line[i] === '\\' && i + 1 < line.length) i++;
          word += line[i++];
        }
        if (i >= line.length) throw new Error(`unterminated ${c} in ${JSON.stringify(line)}`);
        i++;
      } else if (c === '\\' && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    words.push({ word, quoted });
  }
  return words;
}

/**
 * Expands environment variables in an Exec line's words as systemd does: a
 * word that is exactly `$VAR` becomes the value split at whitespace (zero or
 * more words); `${VAR}` inside a word is replaced by the value as it is; `$$` is `$`.
 */
export function expandWords(words: Array<{ word: string; quoted: boolean }>, env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const { word, quoted } of words) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole && !quoted) {
      out.push(...(env[whole[1]] ?? '').split(/\s+/).filter(Boolean));
      continue;
    }
    out.push(word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name?: string) => (name ? env[name] ?? '' : '$')));
  }
  return out;
}

export interface ExecCommand {
  readonly argv: string[];
  /** The line had a '-' prefix: systemd ignores its failure. */
  readonly ignoreFailure: boolean;
}

export interface UnitCommand {
  /** Install path of the unit file. */
  readonly unitPath: string;
  readonly unit: Map<string, Array<[string, string]>>;
  /** ExecStart, with the unit's environment expanded. */
  readonly argv: string[];
  /** ExecStartPre lines, in order. */
  readonly pre: ExecCommand[];
  /** systemd's PATH, then every EnvironmentFile in order, then Environment=. */
  readonly env: Record<string, string>;
  /** The EnvironmentFile paths (install paths) the unit reads. */
  readonly environmentFiles: string[];
}

function execLine(value: string, env: Record<string, string>): ExecCommand {
  const words = splitWords(value);
  if (words.length === 0) throw new Error(`empty Exec line: ${JSON.stringify(value)}`);
  const prefix = /^[-@:+!]*/.exec(words[0].word)![0];
  words[0] = { ...words[0], word: words[0].word.slice(prefix.length) };
  if (prefix.includes('@')) throw new Error(`Exec line with '@' (argv[0] override) is not supported here: ${value}`);
  return { argv: expandWords(words, env), ignoreFailure: prefix.includes('-') };
}

/**
 * The command line and environment of a unit that lives under `root` (a
 * bundle unpacked with install.sh --root, or '/' for a unit from an OS
 * package). EnvironmentFile paths are read under the same root; a missing one
 * is an error unless it has systemd's '-' prefix.
 */
export function unitCommand(root: string, unitPath: string): UnitCommand {
  const unit = parseUnit(fs.readFileSync(path.join(root, unitPath), 'utf8'));
  const env: Record<string, string> = { PATH: SYSTEMD_DEFAULT_PATH };
  const environmentFiles: string[] = [];
  for (const value of unitValues(unit, 'Service', 'EnvironmentFile')) {
    const optional = value.startsWith('-');
    const file = optional ? value.slice(1) : value;
    const onDisk = path.join(root, file);
    if (!fs.existsSync(onDisk)) {
      if (optional) continue;
      throw new Error(`${unitPath}: EnvironmentFile ${file} does not exist under ${root}`);
    }
    environmentFiles.push(file);
    Object.assign(env, parseEnvironmentFile(fs.readFileSync(onDisk, 'utf8')));
  }
  for (const value of unitValues(unit, 'Service', 'Environment')) {
    for (const { word } of splitWords(value)) {
      const eq = word.indexOf('=');
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  const starts = unitValues(unit, 'Service', 'ExecStart');
  if (starts.length !== 1) throw new Error(`${unitPath}: expected one ExecStart, found ${starts.length}`);
  const main = execLine(starts[0], env);
  if (!path.isAbsolute(main.argv[0])) throw new Error(`${unitPath}: ExecStart binary ${main.argv[0]} is not an absolute path`);
  return {
    unitPath, unit, argv: main.argv, env, environmentFiles,
    pre: unitValues(unit, 'Service', 'ExecStartPre').map((v) => execLine(v, env)),
  };
}

/** The unit's ExecReload lines, as systemd runs them for `systemctl reload` of a service whose main process is `mainPid`. */
export function reloadCommands(cmd: UnitCommand, mainPid: number): ExecCommand[] {
  return unitValues(cmd.unit, 'Service', 'ExecReload').map((v) => execLine(v, { ...cmd.env, MAINPID: String(mainPid) }));
}

/** Directories too wide to hide behind a bind mount: the program would lose its libraries or /etc/passwd. */
const TOO_WIDE = new Set(['/', '/etc', '/usr', '/usr/lib', '/usr/share', '/usr/local', '/var', '/var/lib', '/var/log', '/home', '/root', '/tmp', '/dev', '/proc', '/sys', '/boot']);

/**
 * Where ROOT's copy of `installPath` must be bind-mounted so the path shows
 * ROOT's content: the deepest directory (or the file) of the path that exists
 * on this machine. /opt/etcd (absent here) → /opt; /etc/nginx (from the
 * package) → /etc/nginx. Throws when that would hide a whole system directory
 * such as /etc, or when the path crosses a symlink on this machine.
 */
export function mountPointFor(installPath: string): string {
  if (!path.isAbsolute(installPath) || path.normalize(installPath) !== installPath) throw new Error(`${installPath} is not a normalized absolute path`);
  let p = installPath;
  while (p !== '/' && !fs.existsSync(p)) p = path.dirname(p);
  for (let q = p; q !== '/'; q = path.dirname(q)) {
    if (fs.lstatSync(q).isSymbolicLink()) throw new Error(`${installPath}: ${q} is a symlink on this machine; cannot mount over it`);
  }
  if (TOO_WIDE.has(p)) throw new Error(`${installPath}: only ${p} exists on this machine, too wide to mount over; name a deeper path`);
  return p;
}

/**
 * argv that runs `argv` in a private mount namespace in which each of
 * `installPaths` shows ROOT's content (see mountPointFor). A mount point
 * missing under ROOT is made there as an empty directory (e.g. a private /run).
 * `unshare` and `sh` exec, so the PID started is the program's.
 */
export function inRootView(root: string, installPaths: readonly string[], argv: readonly string[]): string[] {
  const points = [...new Set(installPaths.map(mountPointFor))].sort();
  const outer = points.filter((p) => !points.some((q) => q !== p && p.startsWith(`${q}/`)));
  for (const p of outer) {
    const src = path.join(root, p);
    if (!fs.existsSync(src)) fs.mkdirSync(src, { recursive: true });
    if (fs.statSync(src).isDirectory() !== fs.statSync(p).isDirectory()) throw new Error(`${src} and ${p} are not both directories or both files`);
  }
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = ['set -e', ...outer.map((p) => `mount --bind ${q(path.join(root, p))} ${q(p)}`), 'exec "$@"'].join('\n');
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', ...argv];
}

/**
 * Install paths a unit's command reads: the binary, its EnvironmentFiles, and
 * every absolute path among the environment's values and the arguments
 * (`--flag=/path`, comma lists). What inRootView must show for the program to run.
 */
export function unitPaths(cmd: UnitCommand): string[] {
  const values = [...cmd.argv.slice(1), ...Object.entries(cmd.env).filter(([k]) => k !== 'PATH').flatMap(([, v]) => v.split(/\s+/))];
  const found = values
    .flatMap((v) => v.replace(/^--?[A-Za-z0-9-]+=/, '').split(','))
    .filter((v) => /^\/[^\s]*$/.test(v) && path.normalize(v) === v);
  return [...new Set([cmd.argv[0], ...cmd.environmentFiles, ...found])];
}

/** The `--name=value` arguments of a command line (argv[0] skipped; a bare `--name` is 'true'). Throws on anything else. */
export function flagsOf(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of argv.slice(1)) {
    const m = /^--([A-Za-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`not a --flag: ${a}`);
    if (out.has(m[1])) throw new Error(`--${m[1]} given twice`);
    out.set(m[1], m[2] ?? 'true');
  }
  return out;
}

/**
 * How long systemd waits after SIGTERM before SIGKILL when the unit stops: its TimeoutStopSec= (seconds, or
 * systemd.time(7) spans of s, min, ms), else DefaultTimeoutStopSec's 90 s.
 */
export function stopTimeoutMs(unit: Map<string, Array<[string, string]>>): number {
  const value = unitValues(unit, 'Service', 'TimeoutStopSec').pop();
  if (value === undefined) return 90000;
  const MS: Record<string, number> = { '': 1000, s: 1000, sec: 1000, ms: 1, min: 60000, m: 60000 };
  let total = 0;
  for (const part of value.split(/\s+/)) {
    const m = /^(\d+)(ms|s|sec|min|m|)$/.exec(part);
    if (!m) throw new Error(`TimeoutStopSec=${value}: not a time span this harness reads`);
    total += Number(m[1]) * MS[m[2]];
  }
  return total;
}
