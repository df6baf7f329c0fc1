import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import {
  ALLOWED_MODES, COMPONENT_LIST, Cluster, HostBundle, binarySource, componentSpec, fetchedBinariesOn, firewallRulesOn, hostDirectories, requirementsOn,
  reloadDependencies, runsOn, selinuxCommandsOn, serviceDependencies,
} from '../lib/components';
import { ClusterModel, PATHS } from '../lib/model';
import { caCertPathsOf } from '../lib/pki';
import { sq } from '../lib/util/shell';
import { CERT_CHECK } from './cert-check';

export { hostDirectories } from '../lib/components';

export const INSTALL_SCRIPT = 'install.sh';

// The script's logic, in a file of its own so it stays plain bash (no template escapes).
const BODY = fs.readFileSync(path.join(__dirname, 'install-script.sh'), 'utf8').replace(/^#.*\n/, '').trimEnd();

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
export function renderInstallScript(bundle: HostBundle, model: ClusterModel): string {
  const host = bundle.host;
  const services = bundle.services;
  const dirs = hostDirectories(host, model);
  const deps = serviceDependencies(bundle);
  const reloads = reloadDependencies(bundle);
  const cas = caCertPathsOf(host).filter((f) => bundle.hasFile(f));
  const checked = bundle.hasFile(CERT_CHECK.script) && bundle.hasFile(CERT_CHECK.config);
  const lines = [
    '#!/bin/bash',
    `# kubesmith install.sh for ${host.name} (${host.roles.join(', ')}). Generated: edit the cluster definition instead.`,
    `# Run it from the unpacked bundle:  mkdir b && tar -xzf ${host.name}.tar.gz -C b && b/install.sh [--root DIR] [--no-start | --check]`,
    '#   --root DIR   install under DIR instead of /; never touches systemd or the running system',
    '#   --no-start   enable the services but do not start them',
    '#   --check      report how the host differs from the bundle (files, modes, units not active) and how long its certificates stay valid; exit 3 on drift; change nothing',
    '#   --replace-cluster  install over the CAs of another cluster (refused without it)',
    '#   --ignore-address   install on a machine that does not hold the host\'s address (refused without it, on the live system)',
    'set -euo pipefail',
    'umask 022',
    '',
    `HOST=${sq(host.name)}`,
    `ADDRESS=${sq(plain('address', host.ip))}`,
    `CLUSTER=${sq(model.name)}`,
    `NODE=${runsOn(componentSpec('kubelet'), host, model) ? 1 : 0} # runs kubelet, which refuses to start with swap on`,
    '# mode, directory, 1 = also fix the mode of an existing one',
    'DIRS=(',
    ...dirs.map((d) => `  ${octal(d.mode)} ${sq(plain('directory', d.path))} ${d.enforceMode ? 1 : 0}`),
    ')',
    '# unit, binary, where to get it',
    'BINARIES=(',
    ...services.flatMap((s) => s.binaries.map((b) => `  ${sq(plain('unit', s.unit))} ${sq(plain('binary', b))} ${sq(binarySource(b, s, model))}`)),
    ')',
    '# binary, the arguments that make it print its version, a pattern whose first group is the version, the version, the field naming it',
    'VERSIONS=(',
    ...fetchedBinariesOn(host, model).map((b) => `  ${sq(plain('binary', b.path))} ${sq(b.program.versionArgs.map((a) => plain('argument', a)).join(' '))} ${sq(b.program.versionPattern)} ${sq(plain('version', b.release.version))} ${sq(b.release.release.field)}`),
    ')',
    '# in start order',
    `UNITS=(${services.map((s) => sq(plain('unit', s.unit))).join(' ')})`,
    '# unit -> the files it reads (as the change plan derives them): a running unit restarts only when one changed',
    'declare -A DEPS=(',
    ...services.map((s) => `  [${sq(s.unit)}]=${sq([...deps.get(s.unit)!].map((f) => plain('file', f.slice(1))).sort().join(' '))}`),
    ')',
    '# unit -> of those, the files its reload applies: a change to these alone reloads it instead (nginx, keepalived)',
    'declare -A RELOADS=(',
    ...[...reloads].map(([unit, files]) => `  [${sq(unit)}]=${sq([...files].map((f) => plain('file', f.slice(1))).sort().join(' '))}`),
    ')',
    '# unit -> the state it keeps, moved aside once this host no longer runs the unit (any component\'s)',
    'declare -A DATA=(',
    ...COMPONENT_LIST.filter((c) => c.data).map((c) => `  [${sq(plain('unit', c.unit))}]=${sq(plain('path', c.data!))}`),
    ')',
    `# what the last full install put here (units, files): what this bundle lacks of it is stopped and removed`,
    `INSTALLED=${sq(plain('path', PATHS.installedRecord))}`,
    '# file -> once this path exists, the file is obsolete: left out, and removed (the bootstrap kubeconfig)',
    'declare -A OBSOLETE=(',
    ...[...bundle.obsoleteFiles].sort().map(([file, when]) => `  [${sq(plain('file', file))}]=${sq(plain('path', when))}`),
    ')',
    '# what the OS must provide: name, paths (any one), Debian/Ubuntu package, RHEL/CentOS package, who needs it,',
    '# where other distributions put it (any one) and the definition setting that names the path',
    'REQUIRES=(',
    ...requirementsOn(host, model).map((r) => `  ${sq(r.name)} ${sq(r.paths.map((p) => plain('path', p)).join('|'))} ${sq(plain('package', r.debian))} ${sq(plain('package', r.rhel))} ${sq(r.why)}`
      + ` ${sq((r.elsewhere?.paths ?? []).map((p) => plain('path', p)).join('|'))} ${sq(r.elsewhere?.setting ?? '')}`),
    ')',
    '# what a firewall must let in (firewalld: printed as commands when it runs), and SELinux settings (when it enforces)',
    `FIREWALL=(${firewallRulesOn(host, model).map((r) => sq(plain('port', r.port))).join(' ')})`,
    'SELINUX=(',
    ...selinuxCommandsOn(host, model).map((c) => `  ${sq(c)}`),
    ')',
    '# the CA certificates: when one is installed and differs, this bundle is of another cluster',
    `CAS=(${cas.map((f) => sq(plain('file', f.slice(1)))).join(' ')})`,
    `# the only modes a file may have: ${ALLOWED_MODES.map(octal).join(' ')} (no setuid, setgid, sticky or world-writable)`,
    `MODES=' ${ALLOWED_MODES.map(octal).join(' ')} '`,
    '# the certificate expiry check and its config in this bundle (none: the host holds no certificate); --check runs it',
    `CERT_CHECK_SCRIPT=${sq(checked ? plain('file', CERT_CHECK.script.slice(1)) : '')}`,
    `CERT_CHECK_CONFIG=${sq(checked ? plain('file', CERT_CHECK.config.slice(1)) : '')}`,
    '',
    BODY,
  ];
  return `${lines.join('\n')}\n`;
}


/** Puts install.sh at the top of every host's bundle. Its content is made when the archive is written, after every component. */
export class InstallScript extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { bundles, model } = Cluster.of(this);
    for (const bundle of bundles) {
      bundle.addRootFile(INSTALL_SCRIPT, () => renderInstallScript(bundle, model), { mode: 0o755 });
    }
  }
}
