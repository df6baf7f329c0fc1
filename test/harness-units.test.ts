/**
 * test/support/units.ts: a unit file to argv + env the way systemd reads it,
 * and the mount-namespace view of a bundle root that test/real starts programs in.
 */
import * as fs from 'fs';
import * as path from 'path';
import { run, SYSTEMD_DEFAULT_PATH } from './support/processes';
import { describeIf, requirePrograms, requireRoot } from './support/programs';
import { makeTempDir, removeTempDirs } from './support/temp-dir';
import { expandWords, flagsOf, inRootView, mountPointFor, parseUnit, splitWords, stopTimeoutMs, unitCommand, unitPaths } from './support/units';

afterAll(removeTempDirs);

function rootWith(files: Record<string, string>): string {
  const root = makeTempDir('units');
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  return root;
}

describe('unitCommand', () => {
  test('EnvironmentFile option variables split into flags; Environment= after it; ${VAR} stays one word; quotes group', () => {
    const root = rootWith({
      '/usr/lib/systemd/system/x.service': [
        '[Unit]', 'Description=x', '', '[Service]',
        'EnvironmentFile=/opt/x/cfg/x', 'EnvironmentFile=-/etc/default/missing',
        'Environment="GREETING=hello world" MODE=fast',
        "ExecStartPre=-/sbin/modprobe overlay", "ExecStartPre=/bin/true 'a b'",
        'ExecStart=/opt/x/bin/x $X_OPTS --greeting=${GREETING} $MODE $$HOME',
        '', '[Install]', 'WantedBy=multi-user.target', '',
      ].join('\n'),
      '/opt/x/cfg/x': 'X_OPTS="--a=/opt/x/ssl/a.pem \\\n--b=https://10.0.0.1:2379,https://10.0.0.2:2379 \\\n--c=/var/lib/x,/etc/x/y"\nMODE=slow\n',
    });
    const cmd = unitCommand(root, '/usr/lib/systemd/system/x.service');
    expect(cmd.argv).toEqual([
      '/opt/x/bin/x', '--a=/opt/x/ssl/a.pem', '--b=https://10.0.0.1:2379,https://10.0.0.2:2379', '--c=/var/lib/x,/etc/x/y',
      '--greeting=hello world', 'fast', '$HOME',
    ]);
    expect(cmd.env).toEqual({
      PATH: SYSTEMD_DEFAULT_PATH, X_OPTS: '--a=/opt/x/ssl/a.pem --b=https://10.0.0.1:2379,https://10.0.0.2:2379 --c=/var/lib/x,/etc/x/y',
      MODE: 'fast', GREETING: 'hello world',
    });
    expect(cmd.environmentFiles).toEqual(['/opt/x/cfg/x']);
    expect(cmd.pre).toEqual([{ argv: ['/sbin/modprobe', 'overlay'], ignoreFailure: true }, { argv: ['/bin/true', 'a b'], ignoreFailure: false }]);
    expect(unitPaths(cmd)).toEqual(['/opt/x/bin/x', '/opt/x/cfg/x', '/opt/x/ssl/a.pem', '/var/lib/x', '/etc/x/y']);
  });

  test('a missing EnvironmentFile without "-", two ExecStart lines and a relative binary are errors', () => {
    const unit = (service: string) => rootWith({ '/u.service': `[Service]\n${service}\n` });
    expect(() => unitCommand(unit('EnvironmentFile=/nope\nExecStart=/bin/true'), '/u.service')).toThrow(/EnvironmentFile \/nope does not exist/);
    expect(() => unitCommand(unit('ExecStart=/bin/true\nExecStart=/bin/false'), '/u.service')).toThrow(/one ExecStart, found 2/);
    expect(() => unitCommand(unit('ExecStart=true'), '/u.service')).toThrow(/not an absolute path/);
  });

  test('word splitting and expansion follow systemd', () => {
    expect(splitWords(`a "b c" 'd "e"' f\\ g "h\\"i"`).map((w) => w.word)).toEqual(['a', 'b c', 'd "e"', 'f g', 'h"i']);
    expect(expandWords(splitWords('$A "$A" ${A}x $MISSING'), { A: 'one two' })).toEqual(['one', 'two', '$A', 'one twox']);
    expect(() => parseUnit('Key=value\n')).toThrow(/neither \[Section\] nor Key=Value/);
    expect(flagsOf(['/bin/x', '--a=1', '--b'])).toEqual(new Map([['a', '1'], ['b', 'true']]));
    expect(() => flagsOf(['/bin/x', 'positional'])).toThrow(/not a --flag/);
    expect(() => flagsOf(['/bin/x', '--a=1', '--a=2'])).toThrow(/given twice/);
  });
});

describe('mountPointFor', () => {
  test('the deepest existing directory of the path; never a system directory or across a symlink', () => {
    const d = makeTempDir('mp');
    fs.mkdirSync(path.join(d, 'have'));
    expect(mountPointFor(`${d}/have/not/file`)).toBe(`${d}/have`);
    expect(mountPointFor(`${d}/have`)).toBe(`${d}/have`);
    expect(() => mountPointFor('/etc/ks-surely-absent/x.conf')).toThrow(/only \/etc exists on this machine, too wide/);
    fs.symlinkSync(path.join(d, 'have'), path.join(d, 'link'));
    expect(() => mountPointFor(`${d}/link/x`)).toThrow(/is a symlink/);
    expect(() => mountPointFor('relative/x')).toThrow(/not a normalized absolute path/);
  });
});

const tools = requirePrograms(['unshare', 'mount'], [requireRoot()]);

describeIf(tools.ok)('inRootView', () => {
  test('the program sees the root\'s files at their install paths; the machine does not', async () => {
    const host = makeTempDir('host-dir'); // stands in for a directory such as /opt
    fs.writeFileSync(path.join(host, 'own'), 'machine\n');
    const root = makeTempDir('view-root');
    fs.mkdirSync(path.join(root, host, 'etcd/ssl'), { recursive: true });
    fs.writeFileSync(path.join(root, host, 'etcd/ssl/ca.pem'), 'from the bundle\n');
    const r = await run(inRootView(root, [`${host}/etcd/ssl/ca.pem`], ['sh', '-c', `cat ${host}/etcd/ssl/ca.pem; ls ${host}`]), { timeoutMs: 10000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['from the bundle', 'etcd']);
    // Outside the view nothing changed.
    expect(fs.readdirSync(host)).toEqual(['own']);
  });

  test('a path whose directory is missing under the root gets an empty one (a private /run)', async () => {
    const host = makeTempDir('host-run');
    fs.writeFileSync(path.join(host, 'machine.pid'), '1\n');
    const root = makeTempDir('view-run');
    const r = await run(inRootView(root, [host], ['sh', '-c', `echo 42 > ${host}/x.pid; ls ${host}`]), { timeoutMs: 10000 });
    expect([r.code, r.stdout]).toEqual([0, 'x.pid\n']);
    expect(fs.readFileSync(path.join(root, host, 'x.pid'), 'utf8')).toBe('42\n');
    expect(fs.readdirSync(host)).toEqual(['machine.pid']);
  });
});

describe('stopTimeoutMs', () => {
  test('reads TimeoutStopSec as systemd does, and falls back to its 90 s default', () => {
    const unit = (line: string) => parseUnit(`[Service]\nExecStart=/bin/true\n${line}\n`);
    expect(stopTimeoutMs(unit(''))).toBe(90000);
    expect(stopTimeoutMs(unit('TimeoutStopSec=15s'))).toBe(15000);
    expect(stopTimeoutMs(unit('TimeoutStopSec=20'))).toBe(20000);
    expect(stopTimeoutMs(unit('TimeoutStopSec=1min 30s'))).toBe(90000);
    expect(() => stopTimeoutMs(unit('TimeoutStopSec=infinity'))).toThrow(/not a time span/);
  });
});
