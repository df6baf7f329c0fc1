/**
 * The cluster the real-component tests (test/real) run: synthesized through
 * the same pipeline as main.ts, every bundle unpacked and laid out with its
 * own install.sh --root into one directory per host, the Debian binaries put
 * where the units expect theirs, and (on request) one network namespace per
 * host on a private bridge, with the interface named as the definition says.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterDefinition, ClusterModel } from '../../lib';
import { attachToBridge, createBridge, createNamespace } from './netns';
import { placeProgram, which } from './programs';
import { synthBundles, SynthesizedBundles } from './synth-bundles';
import { makeTempDir } from './temp-dir';

/**
 * Three hosts as in the brief's smallest HA layout: two masters that are also the lb pair, one node,
 * all three etcd members. 10.77.0.0/24 exists only inside the namespaces the tests make.
 */
export const REAL_CLUSTER: ClusterDefinition = {
  name: 'realcomp',
  kubernetesVersion: '1.27.16',
  hosts: [
    { name: 'm1', ip: '10.77.0.11', interface: 'ens33', roles: ['master', 'etcd', 'lb'] },
    { name: 'm2', ip: '10.77.0.12', interface: 'ens33', roles: ['master', 'etcd', 'lb'] },
    { name: 'n1', ip: '10.77.0.13', interface: 'eth0', roles: ['node', 'etcd'] },
  ],
  loadBalancer: { vip: '10.77.0.50/24', port: 6444, virtualRouterId: 77 },
  apiServerPort: 6443,
  network: { serviceCidr: '10.0.0.0/24', podCidr: '172.20.0.0/16', flannelBackend: 'vxlan' },
  imageRegistry: 'registry.example.com/k8s',
  // ECDSA: same files, key generation in milliseconds.
  certificates: { keyAlgorithm: 'ecdsa' },
};

/** Install paths of binaries the bundles expect → the Debian program that stands in for it. */
export const DEBIAN_STAND_INS: Readonly<Record<string, string>> = {
  '/opt/etcd/bin/etcd': 'etcd',
  '/opt/etcd/bin/etcdctl': 'etcdctl',
  '/usr/local/bin/containerd': 'containerd',
};

export interface InstalledCluster {
  readonly s: SynthesizedBundles;
  readonly model: ClusterModel;
  /** host → the directory install.sh --root laid the bundle out in. */
  readonly roots: ReadonlyMap<string, string>;
  root(host: string): string;
  /** A path of a host's root: root(host) + installPath. */
  file(host: string, installPath: string): string;
}

/**
 * Synthesizes `def`, unpacks every bundle and runs its install.sh --root DIR
 * (which must succeed), then symlinks the Debian stand-ins at the binary paths
 * the host's services name (only those with a stand-in; the rest stay missing),
 * unless `standIns` is false.
 */
export async function installCluster(
  def: ClusterDefinition = REAL_CLUSTER, opts: { standIns?: boolean; /** reuse this synth directory (its state) */ dir?: string } = {},
): Promise<InstalledCluster> {
  const s = await synthBundles(def, opts.dir);
  const model = s.result.model;
  const roots = new Map<string, string>();
  for (const host of model.hosts) {
    const dir = makeTempDir(`real-${host.name}`);
    const bundleDir = path.join(dir, 'bundle');
    const root = path.join(dir, 'root');
    fs.mkdirSync(bundleDir);
    const tar = spawnSync('tar', ['-xzf', s.archive(host.name), '-C', bundleDir], { encoding: 'utf8', timeout: 30000 });
    if (tar.status !== 0) throw new Error(`unpacking ${host.name}: ${tar.stderr}`);
    const install = spawnSync('bash', [path.join(bundleDir, 'install.sh'), '--root', root], { encoding: 'utf8', timeout: 60000 });
    if (install.status !== 0) throw new Error(`${host.name}: install.sh --root failed (${install.status}):\n${install.stderr}`);
    const binaries = s.result.cluster.bundle(host.name).services.flatMap((svc) => svc.binaries);
    for (const bin of opts.standIns === false ? [] : new Set(binaries)) {
      const program = DEBIAN_STAND_INS[bin];
      const found = program ? which(program) : undefined;
      if (!found) continue;
      placeProgram(found, path.join(root, bin));
    }
    roots.set(host.name, root);
  }
  const root = (host: string): string => {
    const r = roots.get(host);
    if (!r) throw new Error(`no host ${host}`);
    return r;
  };
  return { s, model, roots, root, file: (host, installPath) => path.join(root(host), installPath) };
}

export interface HostNetwork {
  /** host → its network namespace. */
  readonly ns: ReadonlyMap<string, string>;
  nsOf(host: string): string;
}

/**
 * One namespace per host on one bridge: the host's interface name and IP (with the VIP's prefix,
 * or /24). `label` keeps namespace names of different test files apart in listings.
 */
export function hostNetwork(model: ClusterModel, label: string): HostNetwork {
  const prefix = model.loadBalancer?.prefix ?? 24;
  const bridge = createBridge(label);
  const ns = new Map<string, string>();
  for (const host of model.hosts) {
    const n = createNamespace(`${label}-${host.name}`);
    attachToBridge(bridge, n, host.interface, `${host.ip}/${prefix}`);
    ns.set(host.name, n);
  }
  return {
    ns,
    nsOf(host: string): string {
      const n = ns.get(host);
      if (!n) throw new Error(`no namespace for ${host}`);
      return n;
    },
  };
}
