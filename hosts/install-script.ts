import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import { HostBundle } from '../lib/bundle/host-bundle';
import { Cluster } from '../lib/cluster';
import { Host } from '../lib/cluster-model';
import { PATHS } from '../lib/paths';
import { serviceDependencies } from '../lib/change-plan';
import { NGINX_LOG_DIR } from './nginx';

export const INSTALL_SCRIPT = 'install.sh';

// The script's logic, in a file of its own so it stays plain bash (no template escapes).
const BODY = fs.readFileSync(path.join(__dirname, 'install-script.sh'), 'utf8').replace(/^#.*\n/, '').trimEnd();

export interface HostDirectory {
  readonly path: string;
  readonly mode: number;
  /** Also fix the mode of an existing directory; otherwise an existing one is left as it is (e.g. a package's). */
  readonly enforceMode: boolean;
}

/** Directories install.sh makes on a host, by role, beyond the parents of the bundle's files. */
export function hostDirectories(host: Host): HostDirectory[] {
  const dirs: HostDirectory[] = [];
  const add = (p: string, mode = 0o755, enforceMode = false) => {
    if (!dirs.some((d) => d.path === p)) dirs.push({ path: p, mode, enforceMode });
  };
  if (host.has('etcd')) {
    add(PATHS.etcdBin);
    add(PATHS.etcdCfg);
    add(PATHS.etcdSsl);
    // etcd refuses a data directory others can read; keep its parent closed too.
    add(path.posix.dirname(PATHS.etcdData), 0o700, true);
  }
  if (host.has('master') || host.has('node')) {
    add(PATHS.k8sBin);
    add(PATHS.k8sCfg);
    add(PATHS.k8sSsl);
    add(PATHS.k8sLogs);
  }
  if (host.has('node')) {
    add(PATHS.cniBin);
    add(PATHS.cniConf);
  }
  if (host.has('lb')) add(NGINX_LOG_DIR);
  return dirs;
}

/** A bash word holding exactly `s`. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function plain(what: string, s: string): string {
  if (!/^[^\s'"\\$`]+$/.test(s)) throw new Error(`install.sh: ${what} "${s}" holds whitespace, quotes or shell characters`);
  return s;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/**
 * install.sh for one host. Verifies every file against MANIFEST, lays out directories and files
 * (idempotent: unchanged files are not touched), reports missing binaries, then, on the live
 * system, reloads systemd, loads kernel modules and sysctls, and enables and starts the services.
 */
export function renderInstallScript(bundle: HostBundle): string {
  const host = bundle.host;
  const services = bundle.services;
  const dirs = hostDirectories(host);
  const deps = serviceDependencies(bundle);
  const lines = [
    '#!/bin/bash',
    `# kubesmith install.sh for ${host.name} (${host.roles.join(', ')}). Generated: edit the cluster definition instead.`,
    `# Run it from the unpacked bundle:  mkdir b && tar -xzf ${host.name}.tar.gz -C b && b/install.sh [--root DIR] [--no-start]`,
    '#   --root DIR   install under DIR instead of /; never touches systemd or the running system',
    '#   --no-start   enable the services but do not start them',
    'set -euo pipefail',
    'umask 022',
    '',
    `HOST=${sq(host.name)}`,
    `NODE=${host.has('node') ? 1 : 0} # runs kubelet, which refuses to start with swap on`,
    '# mode, directory, 1 = also fix the mode of an existing one',
    'DIRS=(',
    ...dirs.map((d) => `  ${octal(d.mode)} ${sq(plain('directory', d.path))} ${d.enforceMode ? 1 : 0}`),
    ')',
    '# unit, binary, where to get it',
    'BINARIES=(',
    ...services.flatMap((s) => s.binaries.map((b) => `  ${sq(plain('unit', s.unit))} ${sq(plain('binary', b))} ${sq(s.source)}`)),
    ')',
    '# in start order',
    `UNITS=(${services.map((s) => sq(plain('unit', s.unit))).join(' ')})`,
    '# unit -> the files it reads (as the change plan derives them): a running unit restarts only when one changed',
    'declare -A DEPS=(',
    ...services.map((s) => `  [${sq(s.unit)}]=${sq([...deps.get(s.unit)!].map((f) => plain('file', f.slice(1))).sort().join(' '))}`),
    ')',
    '',
    BODY,
  ];
  return `${lines.join('\n')}\n`;
}


/** Puts install.sh at the top of every host's bundle. Its content is made when the archive is written, after every component. */
export class InstallScript extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    for (const bundle of Cluster.of(this).bundles) {
      bundle.addRootFile(INSTALL_SCRIPT, () => renderInstallScript(bundle), { mode: 0o755 });
    }
  }
}
