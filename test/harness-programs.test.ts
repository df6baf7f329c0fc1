/**
 * The findings in test/support/FINDINGS.md, as executable checks: how etcd,
 * nginx, keepalived, systemd-analyze and containerd must be invoked on this
 * machine (Debian 12 packages) and how they react to mistakes. They also show
 * how to use the harness for each program. Everything listens on loopback
 * 127.x addresses or inside namespaces made by netns.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { addressesOf, attachToBridge, cleanupAll, createBridge, createNamespace, exec } from './support/netns';
import { freePort, loopbackBlock } from './support/ports';
import { groupMembers, pidExists, Proc, run, start, stop, stopAll, SYSTEMD_DEFAULT_PATH } from './support/processes';
import { describeIf, NGINX_STREAM_MODULE, requireFile, requirePrograms, requireRoot } from './support/programs';
import { makeTempDir, removeTempDirs } from './support/temp-dir';
import { CertFiles, issueCert, makeCa, selfSigned } from './support/throwaway-pki';
import { waitFor, waitForPort } from './support/wait';

afterAll(async () => {
  await stopAll({ graceMs: 10000 });
  cleanupAll();
  removeTempDirs();
});

const etcdTools = requirePrograms(['etcd', 'etcdctl', 'openssl', 'ip'], [requireRoot()]);

/** EnvironmentFile lines (ETCD_* only, no flags) for member i of a 3-member TLS cluster at ips[0..2]. */
function etcdEnv(dir: string, i: number, ips: string[], pki: { ca: string; server: CertFiles; peer: CertFiles }): string[] {
  const ip = ips[i - 1];
  return [
    `ETCD_NAME=etcd${i}`,
    `ETCD_DATA_DIR=${dir}/data${i}`,
    `ETCD_LISTEN_CLIENT_URLS=https://${ip}:2379`,
    `ETCD_ADVERTISE_CLIENT_URLS=https://${ip}:2379`,
    `ETCD_LISTEN_PEER_URLS=https://${ip}:2380`,
    `ETCD_INITIAL_ADVERTISE_PEER_URLS=https://${ip}:2380`,
    `ETCD_INITIAL_CLUSTER=${ips.map((x, j) => `etcd${j + 1}=https://${x}:2380`).join(',')}`,
    'ETCD_INITIAL_CLUSTER_STATE=new',
    'ETCD_INITIAL_CLUSTER_TOKEN=ks-test',
    `ETCD_CERT_FILE=${pki.server.cert}`,
    `ETCD_KEY_FILE=${pki.server.key}`,
    `ETCD_TRUSTED_CA_FILE=${pki.ca}`,
    'ETCD_CLIENT_CERT_AUTH=true',
    `ETCD_PEER_CERT_FILE=${pki.peer.cert}`,
    `ETCD_PEER_KEY_FILE=${pki.peer.key}`,
    `ETCD_PEER_TRUSTED_CA_FILE=${pki.ca}`,
    'ETCD_PEER_CLIENT_CERT_AUTH=true',
    'ETCD_LOGGER=zap', // 3.4 defaults to capnslog; 3.5 only has zap
  ];
}

async function etcdPki(dir: string, ca: CertFiles, ips: string[]): Promise<{ server: CertFiles; peer: CertFiles }[]> {
  const out: { server: CertFiles; peer: CertFiles }[] = [];
  for (const [j, ip] of ips.entries()) {
    const i = j + 1;
    out.push({
      server: await issueCert(dir, ca, `server${i}`, { cn: `etcd${i}`, ips: [ip] }),
      peer: await issueCert(dir, ca, `peer${i}`, { cn: `etcd${i}`, ips: [ip] }),
    });
  }
  return out;
}

describeIf(etcdTools.ok)('etcd 3.4 (Debian) from an EnvironmentFile, TLS client + peer', () => {
  jest.setTimeout(90000);
  let dir: string;
  let ca: CertFiles;
  let client: CertFiles;

  beforeAll(async () => {
    dir = makeTempDir('etcd');
    ca = await makeCa(dir);
    client = await issueCert(dir, ca, 'client', { cn: 'kube-apiserver-etcd-client', usage: 'client' });
  });

  it('forms a 3-member cluster, one member per network namespace, healthy for etcdctl with client certs', async () => {
    const ips = ['10.99.6.1', '10.99.6.2', '10.99.6.3'];
    const pki = await etcdPki(dir, ca, ips);
    const br = createBridge('etcd');
    const nss = ips.map((ip, j) => {
      const ns = createNamespace(`etcd${j + 1}`);
      attachToBridge(br, ns, 'eth0', `${ip}/24`);
      return ns;
    });
    const members: Proc[] = [];
    for (const i of [1, 2, 3]) {
      const env = etcdEnv(dir, i, ips, { ca: ca.cert, ...pki[i - 1] });
      if (i === 1) env.push('ETCD_KS_NOT_A_FLAG=1'); // unknown: only a warning
      const envFile = path.join(dir, `etcd${i}.env`);
      fs.writeFileSync(envFile, env.join('\n') + '\n');
      members.push(start([etcdTools.path('etcd')], { name: `etcd${i}`, environmentFile: envFile, logDir: dir, netns: nss[i - 1] }));
    }
    const etcdctl = (args: string[], cert = true): ReturnType<typeof run> =>
      run(
        [etcdTools.path('etcdctl'), `--endpoints=${ips.map((ip) => `https://${ip}:2379`).join(',')}`, `--cacert=${ca.cert}`,
          ...(cert ? [`--cert=${client.cert}`, `--key=${client.key}`] : []), '--dial-timeout=2s', '--command-timeout=3s', ...args],
        { timeoutMs: 15000, netns: nss[0], env: { PATH: SYSTEMD_DEFAULT_PATH, ETCDCTL_API: '3' } },
      );
    const t0 = Date.now();
    await waitFor(async () => (await etcdctl(['endpoint', 'health'])).code === 0, {
      what: '3 etcd members healthy',
      timeoutMs: 30000,
      intervalMs: 250,
      proc: members[0],
    });
    console.log(`etcd: 3 TLS members healthy ${Date.now() - t0} ms after start`);
    const list = await etcdctl(['member', 'list', '-w', 'json']);
    expect(JSON.parse(list.stdout).members).toHaveLength(3);
    const status = await etcdctl(['endpoint', 'status', '-w', 'json']);
    expect(JSON.parse(status.stdout)[0].Status.version).toMatch(/^3\.[45]\./);
    // No client certificate: rejected (client-cert-auth).
    expect((await etcdctl(['endpoint', 'health'], false)).code).not.toBe(0);
    // An unknown ETCD_* variable is only a warning.
    expect(members[0].stderr()).toMatch(/unrecognized environment variable ETCD_KS_NOT_A_FLAG=1/);
    expect(members[0].stderr()).toContain('recognized and used environment variable ETCD_LOGGER=zap');

    // Stopping the leader while peers run makes it try a leadership transfer (~7 s
    // when they are being stopped too): stop the followers first, then the leader.
    const st = JSON.parse(status.stdout) as { Status: { leader: string; header: { member_id: string } } }[];
    const leader = st.findIndex((x) => x.Status.leader === x.Status.header.member_id);
    expect(leader).toBeGreaterThanOrEqual(0);
    const t1 = Date.now();
    await Promise.all(members.filter((_, j) => j !== leader).map((m) => stop(m, { graceMs: 15000 })));
    await stop(members[leader], { graceMs: 15000 });
    console.log(`etcd: followers then leader stopped by SIGTERM in ${Date.now() - t1} ms`);
    for (const m of members) expect(pidExists(m.pid)).toBe(false);
  });

  it('on 127.x loopback IPs peers connect FROM 127.0.0.1, so peer certs for the member IP alone are rejected', async () => {
    const ip = loopbackBlock();
    const ips = [ip(1), ip(2), ip(3)];
    const sub = path.join(dir, 'lo');
    fs.mkdirSync(sub);
    const pki = await etcdPki(sub, ca, ips);
    const members = [1, 2, 3].map((i) => {
      const envFile = path.join(sub, `etcd${i}.env`);
      fs.writeFileSync(envFile, etcdEnv(sub, i, ips, { ca: ca.cert, ...pki[i - 1] }).join('\n') + '\n');
      return start([etcdTools.path('etcd')], { name: `lo-etcd${i}`, environmentFile: envFile, logDir: sub });
    });
    await waitFor(() => members.some((m) => /certificate is valid for 127\.\d+\.\d+\.\d+, not 127\.0\.0\.1/.test(m.stderr())), {
      what: 'a member to reject a peer whose connection comes from 127.0.0.1',
      timeoutMs: 20000,
    });
    await Promise.all(members.map((m) => stop(m, { graceMs: 15000 })));
  });

  it('exits 1 when a flag duplicates an ETCD_* variable (3.4.23 and 3.5 alike)', async () => {
    const r = await run([etcdTools.path('etcd'), '--name=dup'], {
      env: { PATH: SYSTEMD_DEFAULT_PATH, ETCD_NAME: 'dup', ETCD_DATA_DIR: `${dir}/dup` },
      timeoutMs: 15000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/conflicting environment variable "?ETCD_NAME"? is shadowed by corresponding command-line flag/);
  });

  it('exits 1 on a bad value in an ETCD_* variable', async () => {
    const r = await run([etcdTools.path('etcd')], {
      env: { PATH: SYSTEMD_DEFAULT_PATH, ETCD_NAME: 'bad', ETCD_DATA_DIR: `${dir}/bad`, ETCD_CLIENT_CERT_AUTH: 'yes' },
      timeoutMs: 15000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid value "yes" for ETCD_CLIENT_CERT_AUTH');
  });
});

const nginxTools = requirePrograms(['nginx', 'openssl'], [requireFile(NGINX_STREAM_MODULE, 'libnginx-mod-stream')]);

describeIf(nginxTools.ok)('nginx stream proxy run as a foreground process with its own prefix', () => {
  const ip = loopbackBlock();
  let dir: string;

  const conf = (opts: { loadModule?: string | null; directive?: string; listen: string; upstream: string }): string =>
    [
      opts.loadModule === null ? '' : `load_module ${opts.loadModule ?? NGINX_STREAM_MODULE};`,
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      'worker_processes 1;',
      'events { worker_connections 64; }',
      'stream {',
      `  upstream apiservers { server ${opts.upstream} max_fails=3 fail_timeout=10s; }`,
      `  server { listen ${opts.listen}; ${opts.directive ?? 'proxy_pass'} apiservers; proxy_connect_timeout 2s; }`,
      '}',
      '',
    ].join('\n');
  const nginxT = (file: string): ReturnType<typeof run> =>
    run([nginxTools.path('nginx'), '-t', '-p', dir, '-c', file], { timeoutMs: 10000 });

  beforeAll(() => {
    dir = makeTempDir('nginx');
  });

  it('nginx -t: ok exits 0; typo, missing load_module or a relative module path exit 1, on stderr', async () => {
    const write = (name: string, text: string): string => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const base = { listen: `${ip(1)}:16443`, upstream: `${ip(2)}:6443` };
    const ok = await nginxT(write('ok.conf', conf(base)));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toContain('syntax is ok');
    const typo = await nginxT(write('typo.conf', conf({ ...base, directive: 'proxy_pas' })));
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unknown directive "proxy_pas"');
    const noModule = await nginxT(write('nomod.conf', conf({ ...base, loadModule: null })));
    expect(noModule.code).toBe(1);
    expect(noModule.stderr).toContain('unknown directive "stream"');
    // A relative path resolves against -p, not /usr/share/nginx: use the absolute path.
    const relative = await nginxT(write('rel.conf', conf({ ...base, loadModule: 'modules/ngx_stream_module.so' })));
    expect(relative.code).toBe(1);
    expect(relative.stderr).toContain(`dlopen() "${dir}/modules/ngx_stream_module.so" failed`);
  });

  it('proxies TLS to a backend, runs in the foreground, and its PID is the one tracked', async () => {
    const backendPort = await freePort(ip(2));
    const listenPort = await freePort(ip(1));
    const backend = await selfSigned(dir, ip(2), 'backend');
    const server = start(['openssl', 's_server', '-accept', `${ip(2)}:${backendPort}`, '-cert', backend.cert, '-key', backend.key, '-www'], {
      name: 'backend',
    });
    await waitForPort(ip(2), backendPort, { proc: server });
    const file = path.join(dir, 'proxy.conf');
    fs.writeFileSync(file, conf({ listen: `${ip(1)}:${listenPort}`, upstream: `${ip(2)}:${backendPort}` }));
    const nginx = start([nginxTools.path('nginx'), '-p', dir, '-c', file, '-g', 'daemon off;'], { name: 'nginx' });
    await waitForPort(ip(1), listenPort, { proc: nginx });
    expect(Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8'))).toBe(nginx.pid);
    expect(groupMembers(nginx.pid).length).toBe(2); // master + 1 worker

    const r = await run(
      ['openssl', 's_client', '-connect', `${ip(1)}:${listenPort}`, '-CAfile', backend.cert, '-verify_return_error', '-verify_ip', ip(2), '-quiet'],
      { input: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 10000 },
    );
    expect(r.stdout).toMatch(/^HTTP\/1\.0 200 ok/);
    const info = await stop(nginx);
    expect(info).toEqual({ code: 0, signal: null }); // SIGTERM = fast shutdown, exit 0
    expect(fs.existsSync(path.join(dir, 'nginx.pid'))).toBe(false);
    await stop(server);
  });
});

const kaTools = requirePrograms(['keepalived', 'ip', 'ping'], [requireRoot()]);

describeIf(kaTools.ok)('keepalived 2.2.7', () => {
  jest.setTimeout(120000);
  let dir: string;

  const kaConf = (o: { id: string; state: string; prio: number; check: string; iface?: string; extra?: string; security?: 'full' | 'none' | 'no-user' }): string => `
global_defs {
  router_id ${o.id}
${{ full: '  enable_script_security\n  script_user root', none: '', 'no-user': '  enable_script_security' }[o.security ?? 'full']}
}
vrrp_script chk_apiserver {
  script "${o.check}"
  interval 1
  fall 2
  rise 1
  weight -60
}
vrrp_instance VI_1 {
  state ${o.state}
  interface ${o.iface ?? 'ens33'}
  virtual_router_id 51
  priority ${o.prio}
  advert_int 1
  ${o.extra ?? ''}
  authentication {
    auth_type PASS
    auth_pass kstest
  }
  virtual_ipaddress {
    10.99.5.100/24
  }
  track_script {
    chk_apiserver
  }
}
`;

  beforeAll(() => {
    dir = makeTempDir('keepalived');
  });

  it('keepalived -t: 0 if clean, 5 for config errors, 6 for script security, 0 for a missing file without -e', () => {
    const ns = createNamespace('ka-t');
    const br = createBridge('ka-t');
    attachToBridge(br, ns, 'ens33', '10.99.5.1/24');
    const check = path.join(dir, 'ok.sh');
    fs.writeFileSync(check, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const t = (name: string, text: string, extraArgs: string[] = []): ReturnType<typeof exec> => {
      fs.writeFileSync(path.join(dir, name), text);
      return exec(ns, ['keepalived', '-t', ...extraArgs, '-f', path.join(dir, name)]);
    };
    const good = { id: 'a', state: 'MASTER', prio: 150, check };
    expect(t('ok.conf', kaConf(good))).toMatchObject({ status: 0, stdout: '', stderr: '' });
    const typo = t('typo.conf', kaConf({ ...good, extra: 'advert_intt 1' }));
    expect(typo).toMatchObject({ status: 5, stdout: '' });
    expect(typo.stderr).toContain("Unknown keyword 'advert_intt'");
    const noIface = t('noif.conf', kaConf({ ...good, iface: 'ens99' }));
    expect(noIface.status).toBe(5);
    expect(noIface.stderr).toContain('interface ens99 for vrrp_instance VI_1 doesn\'t exist');
    const insecure = t('insecure.conf', kaConf({ ...good, security: 'none' }));
    expect(insecure.status).toBe(6);
    expect(insecure.stderr).toContain('SECURITY VIOLATION - scripts are being executed but script_security not enabled');
    // enable_script_security without script_user: the default user keepalived_script does not exist, the script is dropped.
    const noUser = t('nouser.conf', kaConf({ ...good, security: 'no-user' }));
    expect(noUser.status).toBe(5);
    expect(noUser.stderr).toContain('Unable to set default user keepalived_script for script');
    const missingScript = t('noscript.conf', kaConf({ ...good, check: path.join(dir, 'nope.sh') }));
    expect(missingScript.status).toBe(5);
    expect(missingScript.stderr).toContain('Disabling track script chk_apiserver since not found/accessible');
    // A missing config file passes -t (!) unless -e is given.
    expect(exec(ns, ['keepalived', '-t', '-f', path.join(dir, 'absent.conf')]).status).toBe(0);
    expect(exec(ns, ['keepalived', '-t', '-e', '-f', path.join(dir, 'absent.conf')]).status).toBe(4);
  });

  it('two instances in two namespaces share a VIP over a bridge and fail over when the tracked script fails', async () => {
    const br = createBridge('vrrp');
    const nodes = [
      { tag: 'a', ns: createNamespace('ka-a'), addr: '10.99.5.11/24', state: 'MASTER', prio: 150 },
      { tag: 'b', ns: createNamespace('ka-b'), addr: '10.99.5.12/24', state: 'BACKUP', prio: 100 },
    ];
    const procs: Proc[] = [];
    for (const n of nodes) {
      attachToBridge(br, n.ns, 'ens33', n.addr);
      const check = path.join(dir, `chk-${n.tag}.sh`);
      fs.writeFileSync(check, `#!/bin/sh\ntest ! -e ${dir}/fail-${n.tag}\n`, { mode: 0o755 });
      const conf = path.join(dir, `${n.tag}.conf`);
      fs.writeFileSync(conf, kaConf({ id: `ks-${n.tag}`, state: n.state, prio: n.prio, check }));
      // -n foreground, -l -D log to console, -G no syslog, -P VRRP only; own pid files per instance.
      procs.push(
        start(
          ['keepalived', '-n', '-l', '-D', '-G', '-P', '-f', conf, '-p', `${dir}/${n.tag}.pid`, '-r', `${dir}/${n.tag}-vrrp.pid`],
          { netns: n.ns, name: `keepalived-${n.tag}`, logDir: dir },
        ),
      );
    }
    const [a, b] = nodes;
    const hasVip = (ns: string): boolean => addressesOf(ns, 'ens33').includes('10.99.5.100');
    let t0 = Date.now();
    await waitFor(() => hasVip(a.ns), { what: 'VIP on node a', timeoutMs: 15000, proc: procs[0] });
    console.log(`keepalived: VIP on MASTER ${Date.now() - t0} ms after start`);
    expect(hasVip(b.ns)).toBe(false);
    // keepalived forks a VRRP child: two processes in the group we started.
    expect(groupMembers(procs[0].pid).length).toBe(2);
    expect(exec(b.ns, ['ping', '-c', '1', '-W', '2', '10.99.5.100']).stdout).toContain('1 received');

    fs.writeFileSync(path.join(dir, 'fail-a'), '');
    t0 = Date.now();
    await waitFor(() => hasVip(b.ns) && !hasVip(a.ns), { what: 'VIP to move to node b', timeoutMs: 20000, proc: procs[1] });
    console.log(`keepalived: failover to BACKUP ${Date.now() - t0} ms after the track script started failing`);

    fs.rmSync(path.join(dir, 'fail-a'));
    t0 = Date.now();
    await waitFor(() => hasVip(a.ns) && !hasVip(b.ns), { what: 'VIP back on node a', timeoutMs: 20000, proc: procs[0] });
    console.log(`keepalived: VIP back on MASTER ${Date.now() - t0} ms after the script recovered`);

    const vrrpChild = groupMembers(procs[0].pid).find((p) => p !== procs[0].pid)!;
    t0 = Date.now();
    await Promise.all(procs.map((p) => stop(p, { graceMs: 10000 })));
    console.log(`keepalived: both stopped by SIGTERM in ${Date.now() - t0} ms`);
    expect(pidExists(vrrpChild)).toBe(false);
    expect(fs.existsSync(`${dir}/a.pid`)).toBe(false); // removes its pid files on exit
    expect(hasVip(a.ns)).toBe(false); // and its VIP
  });
});

const sdTools = requirePrograms(['systemd-analyze']);

describeIf(sdTools.ok)('systemd-analyze verify without systemd as PID 1', () => {
  let root: string;
  const unit = (execStart: string, extra = ''): string =>
    `[Unit]\nDescription=etcd\nDocumentation=man:ks-no-such-page(8)\nAfter=network-online.target\nWants=network-online.target\n\n` +
    `[Service]\nType=notify\nEnvironmentFile=/etc/etcd/etcd.env\nExecStart=${execStart}\nRestart=on-failure\n${extra}\n` +
    `[Install]\nWantedBy=multi-user.target\n`;
  const verify = (name: string, text: string, args: string[] = ['--man=no', '--generators=no']): ReturnType<typeof run> => {
    fs.writeFileSync(path.join(root, 'etc/systemd/system', name), text);
    return run([sdTools.path('systemd-analyze'), 'verify', `--root=${root}`, ...args, name], { timeoutMs: 20000 });
  };

  beforeAll(() => {
    root = makeTempDir('sdroot');
    fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/local/bin/etcd'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  });

  it('fails for every unit until the stock units (sysinit.target ...) are inside --root', async () => {
    const r = await verify('etcd.service', unit('/usr/local/bin/etcd'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Unit sysinit.target not found');
    fs.cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    const ok = await verify('etcd.service', unit('/usr/local/bin/etcd'));
    expect(ok).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 0 on a misspelled key or bad value: only stderr tells', async () => {
    const r = await verify('typo.service', unit('/usr/local/bin/etcd', 'RestartSecc=5\nType=notifyy\n'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Unknown key 'RestartSecc' in section [Service], ignoring.");
    expect(r.stderr).toContain('Failed to parse service type, ignoring: notifyy');
  });

  it('exits 1 for a missing ExecStart binary (looked up under --root) or a broken section header', async () => {
    const nobin = await verify('nobin.service', unit('/usr/local/bin/kube-apiserver'));
    expect(nobin.code).toBe(1);
    expect(nobin.stderr).toContain('Command /usr/local/bin/kube-apiserver is not executable: No such file or directory');
    const broken = await verify('broken.service', '[Unit]\nDescription=x\n[Service\nExecStart=/usr/local/bin/etcd\n');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("Invalid section header '[Service'");
  });

  it('checks Documentation=man: pages unless --man=no', async () => {
    const r = await verify('doc.service', unit('/usr/local/bin/etcd'), []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Command 'man ks-no-such-page(8)' failed");
  });
});

const ctdTools = requirePrograms(['containerd']);

describeIf(ctdTools.ok)('containerd 1.6 config dump (no daemon)', () => {
  let dir: string;
  const sample = (o: { version?: string; systemdKey?: string; sandboxKey?: string } = {}): string => `${o.version ?? 'version = 2'}
root = "/var/lib/containerd"
state = "/run/containerd"

[plugins."io.containerd.grpc.v1.cri"]
  ${o.sandboxKey ?? 'sandbox_image'} = "registry.k8s.io/pause:3.9"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        ${o.systemdKey ?? 'SystemdCgroup'} = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
`;
  const dump = async (name: string, text: string): Promise<Awaited<ReturnType<typeof run>>> => {
    fs.writeFileSync(path.join(dir, name), text);
    return run([ctdTools.path('containerd'), '--config', path.join(dir, name), 'config', 'dump'], { timeoutMs: 20000 });
  };

  beforeAll(() => {
    dir = makeTempDir('containerd');
  });

  it('prints the merged config with our values', async () => {
    const r = await dump('ok.toml', sample());
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^version = 2$/m);
    expect(r.stdout).toMatch(/^ {4}sandbox_image = "registry\.k8s\.io\/pause:3\.9"$/m);
    expect(r.stdout).toMatch(/\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\]\n\s+[\s\S]*?SystemdCgroup = true/);
    expect(r.stdout).toMatch(/runtime_type = "io\.containerd\.runc\.v2"/);
    expect(r.stdout).toMatch(/^ {6}bin_dir = "\/opt\/cni\/bin"$/m);
    expect(r.stdout).toMatch(/^ {6}conf_dir = "\/etc\/cni\/net\.d"$/m);
  });

  it('ignores misspelled keys silently (exit 0): compare the dump, not the exit code', async () => {
    const cri = await dump('cri.toml', sample({ sandboxKey: 'sandbox_imag' }));
    expect(cri.code).toBe(0);
    expect(cri.stderr).toBe('');
    expect(cri.stdout).toContain('sandbox_image = "registry.k8s.io/pause:3.6"'); // default, ours is lost
    const opt = await dump('opt.toml', sample({ systemdKey: 'SystemdCgrup' }));
    expect(opt.code).toBe(0);
    expect(opt.stdout).toContain('SystemdCgrup = true'); // runc options pass through unchecked
    const v1 = await dump('v1.toml', sample({ version: '' }));
    expect(v1.code).toBe(0);
    expect(v1.stderr).toContain('containerd config version `1` has been deprecated');
    expect(v1.stdout).toContain('sandbox_image = "registry.k8s.io/pause:3.6"'); // v2 plugin names ignored in v1
  });

  it('fails (exit 1) only on TOML syntax errors or a missing file', async () => {
    const bad = await dump('bad.toml', sample().replace('[plugins."io.containerd.grpc.v1.cri"]\n', '[plugins."io.containerd.grpc.v1.cri"\n'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('failed to load TOML');
  });
});
