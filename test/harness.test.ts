/**
 * Proves the test harness in test/support/ on real programs: processes are
 * tracked and killed by PID, waits are bounded and say what they waited for,
 * network namespaces talk over a bridge and vanish on cleanup, and TLS
 * servers on loopback are reachable. Needs root and Debian's iproute2,
 * iputils-ping and openssl (scripts/install-test-deps.sh).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  attachToBridge,
  cleanupAll,
  createBridge,
  createNamespace,
  exec,
  execOk,
  linksOf,
  listNamespaces,
  ownNamespaces,
} from './support/netns';
import { freePort, loopbackBlock } from './support/ports';
import {
  buildEnv,
  groupMembers,
  parseEnvironmentFile,
  pidComm,
  pidExists,
  run,
  running,
  start,
  stop,
  stopAll,
} from './support/processes';
import { describeIf, requireFile, requireProgram, requirePrograms, requireRoot, which } from './support/programs';
import { makeTempDir, removeTempDirs } from './support/temp-dir';
import { selfSigned } from './support/throwaway-pki';
import { waitFor, WaitTimeoutError, waitForPort, waitForPortInNetns } from './support/wait';

afterAll(async () => {
  await stopAll();
  cleanupAll();
  removeTempDirs();
});

describe('programs', () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it('finds an installed program by absolute path', () => {
    const sh = requireProgram('sh');
    expect(sh.found).toBe(true);
    expect(sh.found && path.isAbsolute(sh.path)).toBe(true);
    expect(which('ip')).toMatch(/\/ip$/); // found even when PATH lacks /usr/sbin
  });

  it('skips locally with the apt package named, but fails in CI', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      delete process.env.CI;
      const r = requireProgram('ks-no-such-program');
      expect(r.found).toBe(false);
      expect(warn.mock.calls[0][0]).toContain("install Debian package 'ks-no-such-program'");
      const tools = requirePrograms(['sh', 'ks-no-such-program']);
      expect(tools.ok).toBe(false);
      expect(tools.missing).toEqual(['ks-no-such-program']);
      expect(describeIf(tools.ok)).toBe(describe.skip);
      expect(requireFile('/nonexistent/ngx_stream_module.so', 'libnginx-mod-stream').found).toBe(false);

      process.env.CI = 'true';
      expect(() => requireProgram('etcdctl-missing-xyz')).toThrow(/CI=true and program 'etcdctl-missing-xyz' is missing/);
      expect(() => requireFile('/nonexistent/x.so', 'libnginx-mod-stream')).toThrow(/libnginx-mod-stream/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('EnvironmentFile handling', () => {
  it('parses systemd EnvironmentFile syntax', () => {
    const env = parseEnvironmentFile(
      [
        '# comment',
        '; also a comment',
        '',
        'ETCD_NAME=etcd1',
        '  ETCD_INITIAL_CLUSTER="a=https://127.0.0.1:2380,b=https://127.0.0.2:2380"',
        "ETCD_LOG_LEVEL='info'",
        'export ETCD_LOGGER=zap',
        'ETCD_EMPTY=',
        'LONG=a\\',
        'b',
      ].join('\n'),
    );
    expect(env).toEqual({
      ETCD_NAME: 'etcd1',
      ETCD_INITIAL_CLUSTER: 'a=https://127.0.0.1:2380,b=https://127.0.0.2:2380',
      ETCD_LOG_LEVEL: 'info',
      ETCD_LOGGER: 'zap',
      ETCD_EMPTY: '',
      LONG: 'ab',
    });
    expect(() => parseEnvironmentFile('ETCD_NAME etcd1')).toThrow(/line 1 is not KEY=VALUE/);
  });

  it('gives children a clean environment like systemd (PATH only), then file, then env', () => {
    const dir = makeTempDir('envfile');
    const file = path.join(dir, 'env');
    fs.writeFileSync(file, 'A=from-file\nB=from-file\n');
    const env = buildEnv({ environmentFile: file, env: { B: 'explicit' } });
    expect(env).toEqual({ PATH: expect.stringContaining('/usr/sbin'), A: 'from-file', B: 'explicit' });
    expect(env.HOME).toBeUndefined();
  });
});

describe('processes', () => {
  it('starts a program, tracks its PID, and stopAll kills it', async () => {
    const p = start(['sleep', '300'], { name: 'sleeper' });
    expect(pidExists(p.pid)).toBe(true);
    await waitFor(() => pidComm(p.pid) === 'sleep', { what: 'sleep to be running', timeoutMs: 5000 });
    expect(running()).toContain(p);
    await stopAll();
    expect(p.isRunning()).toBe(false);
    expect(p.exitInfo()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(pidExists(p.pid)).toBe(false);
    expect(fs.existsSync(`/proc/${p.pid}`)).toBe(false);
  });

  it('SIGKILLs a program that ignores SIGTERM after the grace period, with its children', async () => {
    // bash ignores TERM and has a child `sleep` in the same process group.
    const p = start(['bash', '-c', 'trap "" TERM; sleep 300 & wait'], { name: 'stubborn' });
    await waitFor(() => groupMembers(p.pid).length === 2, { what: 'bash and its sleep child', timeoutMs: 5000 });
    const [child] = groupMembers(p.pid).filter((x) => x !== p.pid);
    const t0 = Date.now();
    const info = await stop(p, { graceMs: 300 });
    expect(info.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeLessThan(5000);
    await waitFor(() => !pidExists(child), { what: 'the forked child to be gone', timeoutMs: 2000 });
    expect(groupMembers(p.pid)).toEqual([]);
  });

  it('passes the EnvironmentFile and captures output to buffers or files', async () => {
    const dir = makeTempDir('capture');
    const envFile = path.join(dir, 'svc.env');
    fs.writeFileSync(envFile, 'GREETING="hello from env file"\n');
    const script = 'echo "$GREETING"; echo "home=${HOME:-unset}"; echo oops >&2';
    const buffered = start(['sh', '-c', script], { environmentFile: envFile });
    await buffered.exited;
    expect(buffered.stdout()).toBe('hello from env file\nhome=unset\n');
    expect(buffered.stderr()).toBe('oops\n');

    const filed = start(['sh', '-c', script], { environmentFile: envFile, logDir: dir, name: 'svc' });
    expect(await filed.exited).toEqual({ code: 0, signal: null });
    expect(fs.readFileSync(path.join(dir, 'svc.stdout.log'), 'utf8')).toContain('hello from env file');
    expect(filed.stderr()).toBe('oops\n');
  });

  it('throws at once for a program that does not exist', () => {
    expect(() => start(['/nonexistent/ks-daemon'])).toThrow(/could not spawn/);
  });

  it('run() bounds a short command and kills it at the timeout', async () => {
    const ok = await run(['sh', '-c', 'cat; echo done'], { input: 'in\n' });
    expect(ok).toMatchObject({ code: 0, stdout: 'in\ndone\n', timedOut: false });
    const t0 = Date.now();
    const slow = await run(['sleep', '30'], { timeoutMs: 300 });
    expect(slow.timedOut).toBe(true);
    expect(slow.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? `ready after ${n}` : false), { what: 'counter', intervalMs: 10 })).resolves.toBe(
      'ready after 3',
    );
  });

  it('times out with a clear message naming what was awaited', async () => {
    const t0 = Date.now();
    const err = await waitFor(() => false, { what: 'the impossible thing', timeoutMs: 300, intervalMs: 50 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toMatch(/^Timed out after \d+ ms \(limit 300 ms\) waiting for the impossible thing; check returned false/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('is bounded even when a check never settles, and reports the last error', async () => {
    const t0 = Date.now();
    await expect(waitFor(() => new Promise<boolean>(() => undefined), { what: 'a hung check', timeoutMs: 300 })).rejects.toThrow(
      /waiting for a hung check; last check still running at the deadline/,
    );
    expect(Date.now() - t0).toBeLessThan(1500);
    await expect(
      waitFor(
        () => {
          throw new Error('connection refused');
        },
        { what: 'a failing check', timeoutMs: 200 },
      ),
    ).rejects.toThrow(/check threw: connection refused/);
  });

  it('fails fast with the output when the awaited process exits', async () => {
    const p = start(['sh', '-c', 'echo "config error: bad key" >&2; exit 3'], { name: 'crasher' });
    const t0 = Date.now();
    await expect(waitFor(() => false, { what: 'crasher to listen', timeoutMs: 10000, proc: p })).rejects.toThrow(
      /crasher \(pid \d+\) exited \(code 3, signal null\) while waiting for crasher to listen[\s\S]*config error: bad key/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('refuses to connect anywhere but loopback', async () => {
    await expect(waitForPort('10.1.2.3', 443, { timeoutMs: 200 })).rejects.toThrow(/not loopback/);
    await expect(waitForPort('192.168.1.1', 443, { timeoutMs: 200 })).rejects.toThrow(/not loopback/);
  });
});

const ssl = requirePrograms(['openssl']);

describeIf(ssl.ok)('openssl s_server on a 127.x address', () => {
  it('is reached by s_client with a verified certificate', async () => {
    const dir = makeTempDir('tls');
    const ip = loopbackBlock()(7);
    const port = await freePort(ip);
    const { cert, key } = await selfSigned(dir, ip);
    const server = start([ssl.path('openssl'), 's_server', '-accept', `${ip}:${port}`, '-cert', cert, '-key', key, '-www'], {
      name: 's_server',
    });
    await waitForPort(ip, port, { proc: server, timeoutMs: 10000 });

    const client = (verifyIp: string): Promise<Awaited<ReturnType<typeof run>>> =>
      run(
        [ssl.path('openssl'), 's_client', '-connect', `${ip}:${port}`, '-CAfile', cert, '-verify_return_error', '-verify_ip', verifyIp, '-quiet'],
        { input: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 10000 },
      );
    const good = await client(ip);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^HTTP\/1\.0 200 ok/);
    const bad = await client('127.0.0.254');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('IP address mismatch');
    await stop(server);
    expect(pidExists(server.pid)).toBe(false);
  });
});

const nsTools = requirePrograms(['ip', 'ping', 'openssl', 'bash', 'timeout', 'sleep'], [requireRoot()]);

describeIf(nsTools.ok)('network namespaces', () => {
  it('joins two namespaces over a bridge, with caller-named interfaces, isolated from the host', async () => {
    const hostBefore = execHostLinks();
    const hostAddrsBefore = hostAddrs();
    const br = createBridge('lan');
    const a = createNamespace('cp1');
    const b = createNamespace('cp2');
    expect(a).toMatch(new RegExp(`^ks-${process.pid}-[0-9a-f]{6}-cp1$`));
    expect(a).not.toBe(b);
    attachToBridge(br, a, 'ens33', '10.99.0.1/24');
    attachToBridge(br, b, 'ens33', ['10.99.0.2/24']);
    expect(linksOf(a)).toEqual(['lo', 'ens33']);
    expect(linksOf(b)).toEqual(['lo', 'ens33']);
    expect(linksOf(br.ns).sort()).toEqual(['br0', 'lo', 'p1', 'p2']);

    const ping = exec(a, ['ping', '-c', '1', '-W', '2', '10.99.0.2']);
    expect(ping.stdout).toContain('1 received');
    expect(execOk(b, ['ping', '-c', '1', '-W', '2', '10.99.0.1'])).toContain('1 received');
    // lo is up inside each namespace
    expect(execOk(a, ['ping', '-c', '1', '-W', '2', '127.0.0.1'])).toContain('1 received');

    // Nothing was added to the host namespace: no veth end, no address.
    expect(execHostLinks()).toEqual(hostBefore);
    expect(hostAddrs()).toEqual(hostAddrsBefore);
    expect(hostAddrs().some((x) => x.startsWith('10.99.'))).toBe(false);
  });

  it('tracks the real PID of a program started with ip netns exec, and kills it', async () => {
    const ns = createNamespace('pid');
    const p = start(['sleep', '300'], { netns: ns, name: 'ns-sleeper' });
    // ip netns exec execs the program: the PID we hold becomes `sleep` itself.
    await waitFor(() => pidComm(p.pid) === 'sleep', { what: 'ip netns exec to exec sleep', timeoutMs: 5000 });
    expect(fs.readlinkSync(`/proc/${p.pid}/ns/net`)).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
    expect(fs.statSync(`/run/netns/${ns}`).ino).toBe(Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${p.pid}/ns/net`))![1]));
    expect(execOk(ns, ['true']) === '').toBe(true);
    const identify = await run(['ip', 'netns', 'identify', String(p.pid)]);
    expect(identify.stdout.trim()).toBe(ns);
    await stopAll();
    expect(pidExists(p.pid)).toBe(false);
  });

  it('reaches a TLS server inside one namespace from another, via ip netns exec only', async () => {
    const dir = makeTempDir('nstls');
    const br = createBridge('tls');
    const srv = createNamespace('srv');
    const cli = createNamespace('cli');
    attachToBridge(br, srv, 'eth0', '10.99.1.1/24');
    attachToBridge(br, cli, 'eth0', '10.99.1.2/24');
    const { cert, key } = await selfSigned(dir, '10.99.1.1');
    const server = start(['openssl', 's_server', '-accept', '10.99.1.1:6443', '-cert', cert, '-key', key, '-www'], {
      netns: srv,
      name: 'ns-s_server',
    });
    await waitForPortInNetns(cli, '10.99.1.1', 6443, { proc: server, timeoutMs: 10000 });
    const r = await run(
      ['openssl', 's_client', '-connect', '10.99.1.1:6443', '-CAfile', cert, '-verify_return_error', '-verify_ip', '10.99.1.1', '-quiet'],
      { netns: cli, input: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 10000 },
    );
    expect(r.stdout).toMatch(/^HTTP\/1\.0 200 ok/);
    await stop(server);
  });

  it('cleanupAll deletes every namespace it made, kills what ran inside, and is safe twice', async () => {
    const ns = createNamespace('doomed');
    // A process left running inside (not stopped by the test) must not keep the namespace alive.
    const p = start(['sleep', '300'], { netns: ns, name: 'left-behind' });
    await waitFor(() => pidComm(p.pid) === 'sleep', { what: 'sleep in doomed ns', timeoutMs: 5000 });
    const mine = ownNamespaces();
    expect(mine.length).toBeGreaterThanOrEqual(7);
    const deleted = cleanupAll();
    expect(deleted.sort()).toEqual(mine.sort());
    const left = listNamespaces();
    for (const n of mine) expect(left).not.toContain(n);
    expect(left.filter((n) => n.startsWith(`ks-${process.pid}-`))).toEqual([]);
    await waitFor(() => !p.isRunning(), { what: 'the process inside to be killed', timeoutMs: 5000 });
    expect(cleanupAll()).toEqual([]);
  });
});

function execHostLinks(): string[] {
  const r = spawnSync(which('ip') ?? 'ip', ['-o', 'link', 'show'], { encoding: 'utf8', timeout: 5000 });
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(': ')[1]);
}
function hostAddrs(): string[] {
  const r = spawnSync(which('ip') ?? 'ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8', timeout: 5000 });
  return [...String(r.stdout).matchAll(/inet (\S+)/g)].map((m) => m[1]);
}
