/**
 * The upstream programs test/cluster boots, built from Go modules by
 * scripts/build-components.sh into ${KUBESMITH_COMPONENTS:-~/.cache/kubesmith/components}.
 * Same CI/local rule as programs.ts: with CI=true a missing component fails the
 * run; locally the suite is skipped with a message saying how to build them.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ComponentVersions, seedComponentVersions } from '../../scripts/component-versions';
import { inCi } from './programs';

const V = seedComponentVersions();

/** Directory names of a set of versions (scripts/component-versions.ts), as scripts/build-components.sh names them. */
export function componentDirs(v: ComponentVersions) {
  return {
    kubernetes: `kubernetes-${v.KUBERNETES_VERSION}`,
    etcd: `etcd-${v.ETCD_VERSION}`,
    containerd: `containerd-${v.CONTAINERD_VERSION}`,
    flannel: `flannel-${v.FLANNEL_VERSION}`,
    cniPlugins: `cni-plugins-${v.CNI_VERSION}`,
    flannelCni: 'flannel-cni-v0.9.1',
    configFields: `config-fields-${v.KUBERNETES_VERSION}`,
    coredns: `coredns-${v.COREDNS_VERSION}`,
    testImages: testImagesDir(),
  } as const;
}

/** The seed's. */
export const COMPONENT_DIRS = componentDirs(V);

/** The images test/cluster imports under the seed's names. */
export const SEED_IMAGES = { pause: V.PAUSE_IMAGE, coreDns: V.COREDNS_IMAGE } as const;

/** test-images-<md5 of scripts/images/*\/main.go, concatenated in name order>, as scripts/build-components.sh names it. */
function testImagesDir(): string {
  const src = path.join(__dirname, '..', '..', 'scripts', 'images');
  const files = fs.readdirSync(src).sort().map((d) => path.join(src, d, 'main.go')).filter((f) => fs.existsSync(f));
  const hash = crypto.createHash('md5');
  for (const f of files) hash.update(fs.readFileSync(f));
  return `test-images-${hash.digest('hex').slice(0, 12)}`;
}

/** Program → the component directory that holds it (in <dir>/bin). */
export const COMPONENT_PROGRAMS: Readonly<Record<string, keyof ReturnType<typeof componentDirs>>> = {
  'kube-apiserver': 'kubernetes',
  'kube-controller-manager': 'kubernetes',
  'kube-scheduler': 'kubernetes',
  kubelet: 'kubernetes',
  'kube-proxy': 'kubernetes',
  kubectl: 'kubernetes',
  etcd: 'etcd',
  etcdctl: 'etcd',
  etcdutl: 'etcd',
  containerd: 'containerd',
  'containerd-shim-runc-v2': 'containerd',
  flanneld: 'flannel',
  bridge: 'cniPlugins',
  'host-local': 'cniPlugins',
  loopback: 'cniPlugins',
  portmap: 'cniPlugins',
  flannel: 'flannelCni',
  'config-fields': 'configFields',
  coredns: 'coredns',
  pause: 'testImages',
  netcheck: 'testImages',
};

export function componentsDir(): string {
  return process.env.KUBESMITH_COMPONENTS || path.join(os.homedir(), '.cache', 'kubesmith', 'components');
}

export function componentPath(program: string, v: ComponentVersions = V): string {
  const dir = COMPONENT_PROGRAMS[program];
  if (!dir) throw new Error(`unknown component program ${program}`);
  return path.join(componentsDir(), componentDirs(v)[dir], 'bin', program);
}

export interface Components {
  readonly ok: boolean;
  readonly missing: readonly string[];
  path(program: string): string;
}

/** Checks that every program is built; CI=true: throws when one is missing; locally: warns (skip). */
export function requireComponents(programs: readonly string[] = Object.keys(COMPONENT_PROGRAMS), v: ComponentVersions = V): Components {
  const missing = programs.filter((p) => {
    try {
      fs.accessSync(componentPath(p, v), fs.constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    const message = `upstream components missing in ${componentsDir()}: ${missing.join(' ')}; ` +
      'build them with: bash scripts/build-components.sh (cold: about 17 minutes on 2 cores; needs Go, the module proxy and npm ci)';
    if (inCi()) throw new Error(`CI=true and ${message}`);
    console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING tests: ${message}\n${'!'.repeat(78)}\n`);
  }
  return {
    ok: missing.length === 0,
    missing,
    path(program: string): string {
      if (missing.includes(program)) throw new Error(`component ${program} is missing`);
      return componentPath(program, v);
    },
  };
}
