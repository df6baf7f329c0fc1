/**
 * Booting BOOT_CLUSTER for real: every bundle laid out by its own install.sh --root, the upstream
 * binaries (scripts/build-components.sh) and Debian's containerd/runc linked at the paths the units
 * name, one network namespace + one shared mount namespace per host (host-view.ts), and every
 * service started with the command line and environment of its unit.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { CONTAINERD_FILES, ETCD_FILES, FLANNEL_CNI_PLUGINS, FLANNEL_FILES, KUBELET } from '../../hosts';
import { ClusterModel, PATHS } from '../../lib/model';
import { Components } from '../support/components';
import { HostView, startHostView } from '../support/host-view';
import { Proc, run, RunResult } from '../support/processes';
import { placeProgram, which } from '../support/programs';
import { hostNetwork, HostNetwork, installCluster, InstalledCluster } from '../support/real-cluster';
import { unitCommand, UnitCommand } from '../support/units';
import { createCgroups } from './cgroups';
import { BOOT_CLUSTER, SANDBOX } from './definition';

/** The kubelet cgroupRoot of a node in this run (definition.ts SANDBOX). */
export const cgroupRootOf = (label: string, host: string): string => `/kubesmith-${label}-${process.pid}-${host}`;

/** Units of OS packages (nginx, keepalived): their commands come from the package's unit. */
export const packagedUnit = (name: string): string =>
  ['/usr/lib/systemd/system', '/lib/systemd/system'].map((d) => `${d}/${name}`).find((p) => fs.existsSync(p)) ?? `/usr/lib/systemd/system/${name}`;

/** Debian programs standing in where kubesmith expects an upstream release (runc needs cgo and libseccomp to build). */
export const DEBIAN_AT: Readonly<Record<string, string>> = {
  [CONTAINERD_FILES.runc]: 'runc',
};

/** The hosts whose bundle runs the kubelet (nodes and masters), as the compiler placed it. */
export function kubeletHosts(c: InstalledCluster): string[] {
  const cluster = c.s.result.cluster;
  return c.model.hosts.filter((h) => cluster.runs(h, 'kubelet')).map((h) => h.name);
}

/** Where each host's mount namespace shows its bundle root. */
function mountPoints(roles: readonly string[], runsKubelet: boolean): string[] {
  const points = ['/opt', '/run', '/var/lib/etcd'];
  if (roles.includes('lb')) points.push('/etc/nginx/nginx.conf', '/var/log/nginx', '/etc/keepalived');
  if (runsKubelet) {
    points.push('/etc/cni', '/etc/containerd', '/var/lib/kubelet', '/var/lib/containerd', '/var/lib/cni',
      '/var/log/pods', '/var/log/containers', '/usr/local/bin', '/usr/local/sbin');
  }
  return points;
}

/**
 * The sandbox differences (definition.ts SANDBOX), applied to the installed files: the only edits
 * made to anything kubesmith emitted. Each edit must change the file (a no-op means the compiler
 * changed and this needs a look). `model` is the synth the files come from (an upgrade's target; default the booted
 * one): the kubelet's cgroup v1 opt-out follows its release.
 */
export function sandboxFiles(
  c: InstalledCluster, cgroupRoot: (host: string) => string, hosts: readonly string[] = kubeletHosts(c), opts: { onlyRewritten?: boolean; model?: ClusterModel } = {},
): void {
  const edit = (file: string, fn: (s: string) => string): void => {
    const before = fs.readFileSync(file, 'utf8');
    // An upgrade step writes some files and defers others: edit only those it wrote (still as emitted).
    if (opts.onlyRewritten && before.includes(SANDBOX_MARK)) return;
    const after = fn(before);
    if (after === before) throw new Error(`sandbox edit of ${file} changed nothing`);
    fs.writeFileSync(file, after);
  };
  for (const n of hosts.filter((h) => kubeletHosts(c).includes(h))) {
    edit(c.file(n, KUBELET.config), (s) => {
      const cfg = parse(s);
      if (cfg.cgroupDriver !== 'systemd') throw new Error(`kubelet cgroupDriver is ${cfg.cgroupDriver}, expected systemd`);
      if (cfg.failCgroupV1 !== undefined) throw new Error(`kubelet failCgroupV1 is set (${cfg.failCgroupV1}); the sandbox sets it`);
      const cgroupV1 = (opts.model ?? c.model).kubernetes.cgroupV1 === 'refused' ? { failCgroupV1: SANDBOX.failCgroupV1 } : {};
      return `${SANDBOX_MARK}\n${stringify({ ...cfg, cgroupDriver: SANDBOX.cgroupDriver, cgroupRoot: cgroupRoot(n), ...cgroupV1 })}`;
    });
    edit(c.file(n, CONTAINERD_FILES.config), (s) => {
      const cgroupfs = `${SANDBOX_MARK}\n${s}`.replace(/^(\s*SystemdCgroup\s*=\s*)true$/m, '$1false');
      return /^version = 3$/m.test(s)
        ? `${cgroupfs}\n[plugins.'io.containerd.cri.v1.runtime']\n  restrict_oom_score_adj = true\n`
        : cgroupfs.replace(/^(\[plugins\."io\.containerd\.grpc\.v1\.cri"\]\n)/m, '$1  restrict_oom_score_adj = true\n');
    });
  }
}

export interface BootedHosts {
  readonly c: InstalledCluster;
  readonly net: HostNetwork;
  readonly views: Map<string, HostView>;
  view(host: string): HostView;
  /** A unit of a host, read from its root as systemd would. */
  unit(host: string, unitPath: string): UnitCommand;
  /** Starts a host's unit (ExecStartPre lines first; a '-' one may fail); the process of ExecStart. */
  startUnit(host: string, unitPath: string, opts?: { extraArgs?: string[]; name?: string }): Promise<Proc>;
  /** Runs a short command on a host (its namespaces, its files). */
  exec(host: string, argv: readonly string[], opts?: { timeoutMs?: number; env?: Record<string, string>; input?: string }): Promise<RunResult>;
}

/** Installs every host, links binaries, applies the sandbox edits, makes the network and the host views. */
export async function bootHosts(comp: Components, logDir: string, label: string): Promise<BootedHosts> {
  const c = await installCluster(BOOT_CLUSTER, { standIns: false });
  sandboxFiles(c, (h) => cgroupRootOf(label, h));
  createCgroups(kubeletHosts(c).map((n) => cgroupRootOf(label, n)));
  for (const host of c.model.hosts) {
    const links: Record<string, string> = {};
    for (const svc of c.s.result.cluster.bundle(host.name).services) {
      for (const bin of svc.binaries) {
        const base = path.basename(bin);
        if (DEBIAN_AT[bin]) {
          const p = which(DEBIAN_AT[bin]);
          if (!p) throw new Error(`${DEBIAN_AT[bin]} is not installed (bash scripts/install-test-deps.sh)`);
          links[bin] = p;
        } else if (!svc.packaged) {
          links[bin] = comp.path(base);
        }
      }
    }
    for (const [bin, target] of Object.entries(links)) {
      placeProgram(target, c.file(host.name, bin));
    }
  }
  const net = hostNetwork(c.model, label);
  const views = new Map<string, HostView>();
  const withKubelet = new Set(kubeletHosts(c));
  for (const h of c.model.hosts) {
    views.set(h.name, await startHostView(h.name, net.nsOf(h.name), c.root(h.name), mountPoints(h.roles, withKubelet.has(h.name)), logDir));
  }
  const view = (host: string): HostView => {
    const v = views.get(host);
    if (!v) throw new Error(`no host ${host}`);
    return v;
  };
  const unit = (host: string, unitPath: string) => unitCommand(c.root(host), unitPath);
  const exec: BootedHosts['exec'] = (host, argv, opts = {}) =>
    run(view(host).wrap(argv), { timeoutMs: opts.timeoutMs ?? 20000, env: opts.env ?? { PATH: process.env.PATH ?? '' }, input: opts.input });
  return {
    c, net, views, view, unit, exec,
    async startUnit(host, unitPath, opts = {}) {
      const cmd = unit(host, unitPath);
      for (const pre of cmd.pre) {
        if (pre.ignoreFailure && !fs.existsSync(pre.argv[0])) continue;
        const r = await exec(host, pre.argv, { env: cmd.env, timeoutMs: 60000 });
        if (r.code !== 0 && !pre.ignoreFailure) throw new Error(`${host} ${unitPath}: ExecStartPre ${pre.argv.join(' ')} failed (${r.code}): ${r.stderr}`);
      }
      return view(host).start([...cmd.argv, ...(opts.extraArgs ?? [])], { name: opts.name ?? `${host}-${path.basename(unitPath, '.service')}`, env: cmd.env });
    },
  };
}

/** The first line of a file sandboxFiles() edited. */
const SANDBOX_MARK = '# edited by test/cluster (definition.ts SANDBOX)';

/** The installed files sandboxFiles() edits on a kubelet host. */
export const SANDBOX_EDITED: readonly string[] = [KUBELET.config, CONTAINERD_FILES.config];

/** Unit install paths of the bundles' own units. */
export const UNITS = {
  etcd: ETCD_FILES.unit,
  flanneld: FLANNEL_FILES.unit,
  containerd: CONTAINERD_FILES.unit,
  component: (unit: string) => `${PATHS.systemdUnits}/${unit}`,
} as const;

export { FLANNEL_CNI_PLUGINS };
