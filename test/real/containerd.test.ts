/**
 * containerd reads the emitted config.toml: its unit's command line (no
 * --config: the default /etc/containerd/config.toml) run with `config dump`
 * in a view of the node's root, Debian's containerd standing in at
 * /usr/local/bin/containerd. containerd drops misspelled keys without a word,
 * so the test compares the effective values in the dump, not the exit code.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { CONTAINERD_FILES, FLANNEL_FILES, KUBELET } from '../../hosts';
import { PATHS } from '../../lib/model';
import { SEED, withChanges } from '../support/clusters';
import { requireComponents } from '../support/components';
import { run, RunResult } from '../support/processes';
import { describeIf, placeProgram, requirePrograms, requireRoot } from '../support/programs';
import { installCluster, InstalledCluster, REAL_CLUSTER } from '../support/real-cluster';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { cleanupTempDirs } from '../support/tmp';
import { inRootView, unitCommand, unitPaths } from '../support/units';

const tools = requirePrograms(['containerd', 'unshare', 'mount'], [requireRoot()]);

const CRI = 'io.containerd.grpc.v1.cri';

/** The settings kubelet and flannel depend on, as containerd sees them after reading its config. */
interface Effective {
  version: unknown;
  grpcAddress: unknown;
  sandboxImage: unknown;
  defaultRuntime: unknown;
  runcType: unknown;
  systemdCgroup: unknown;
  cniBinDir: unknown;
  cniConfDir: unknown;
}

/** The value at a path of nested tables, or undefined. */
function at(table: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((t, k) => (t !== null && typeof t === 'object' ? (t as Record<string, unknown>)[k] : undefined), table);
}

function effective(dump: string): Effective {
  const t = parseToml(dump);
  const cri = at(t, 'plugins', CRI);
  const runc = at(cri, 'containerd', 'runtimes', 'runc');
  return {
    version: at(t, 'version'),
    grpcAddress: at(t, 'grpc', 'address'),
    sandboxImage: at(cri, 'sandbox_image'),
    defaultRuntime: at(cri, 'containerd', 'default_runtime_name'),
    runcType: at(runc, 'runtime_type'),
    systemdCgroup: at(runc, 'options', 'SystemdCgroup'),
    cniBinDir: at(cri, 'cni', 'bin_dir'),
    cniConfDir: at(cri, 'cni', 'conf_dir'),
  };
}

describeIf(tools.ok)('containerd config dump of the emitted config', () => {
  jest.setTimeout(60000);
  let c: InstalledCluster;
  beforeAll(async () => { c = await installCluster(); });
  afterAll(() => { removeTempDirs(); cleanupTempDirs(); });

  /** `config dump` by the unit's own command line, with the root's /etc/containerd in place. */
  async function dump(root: string): Promise<RunResult> {
    const cmd = unitCommand(root, CONTAINERD_FILES.unit);
    expect(cmd.argv).toEqual([CONTAINERD_FILES.containerd]);
    return run(inRootView(root, [...unitPaths(cmd), CONTAINERD_FILES.config], [...cmd.argv, 'config', 'dump']), { env: cmd.env, timeoutMs: 20000 });
  }

  /** What the definition and the other components on the node need. */
  function wanted(host: string): Effective {
    const kubelet = parseYaml(fs.readFileSync(c.file(host, KUBELET.config), 'utf8'));
    const crictl = parseYaml(fs.readFileSync(c.file(host, CONTAINERD_FILES.crictlConfig), 'utf8'));
    expect(kubelet.cgroupDriver).toBe('systemd');
    expect(crictl['runtime-endpoint']).toBe(kubelet.containerRuntimeEndpoint);
    return {
      version: 2,
      grpcAddress: kubelet.containerRuntimeEndpoint.replace(/^unix:\/\//, ''),
      // The definition's registry mirror in front of the 1.27 pause image.
      sandboxImage: `${c.model.imageRegistry}/${c.model.kubernetes.images.pause.split('/').pop()}`,
      defaultRuntime: 'runc',
      runcType: 'io.containerd.runc.v2',
      systemdCgroup: true,
      // Where containerd's service wants the CNI plugins and where flannel's conflist lies.
      cniBinDir: path.dirname(c.s.result.cluster.bundle(host).services.find((s) => s.unit === 'containerd.service')!.binaries.find((b) => b.endsWith('/flannel'))!),
      cniConfDir: path.dirname(FLANNEL_FILES.cniConfig),
    };
  }

  test('on every node, the dump shows the systemd cgroup driver, the sandbox image, runc v2, the CNI dirs and the kubelet\'s socket', async () => {
    expect(c.model.nodes.length).toBeGreaterThan(0);
    for (const node of c.model.nodes) {
      const want = wanted(node.name);
      expect([want.cniBinDir, want.cniConfDir]).toEqual([PATHS.cniBin, PATHS.cniConf]);
      const r = await dump(c.root(node.name));
      expect([node.name, r.code, r.stderr]).toEqual([node.name, 0, '']);
      expect([node.name, effective(r.stdout)]).toEqual([node.name, want]);
    }
  });

  test.each([
    ['SystemdCgroup misspelled', 'SystemdCgroup = true', 'SystemdCgrup = true', 'systemdCgroup'],
    ['sandbox_image misspelled', 'sandbox_image =', 'sandbox_imag =', 'sandboxImage'],
    // Without `version = 2` the file is read as version 1 and every v2 plugin table is ignored (a warning on stderr).
    ['the version line dropped', 'version = 2\n', '', 'sandboxImage'],
  ] as const)('it can fail: %s exits 0, the dump shows the default, and the check sees it', async (_what, from, to, field) => {
    const node = c.model.nodes[0].name;
    const root = path.join(makeTempDir('containerd-mutant'), 'root');
    fs.cpSync(c.root(node), root, { recursive: true, verbatimSymlinks: true });
    const file = path.join(root, CONTAINERD_FILES.config);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain(from);
    fs.writeFileSync(file, text.replace(from, to));
    const r = await dump(root);
    expect(r.code).toBe(0);
    const got = effective(r.stdout);
    expect(got[field]).not.toEqual(wanted(node)[field]);
  });
});

const built = requireComponents(['containerd']);

/** The same check for containerd 2.x and its config version 3, on the seed minor's containerd built from Go modules. */
describeIf(tools.ok && built.ok)('containerd 2.x config dump of the emitted config version 3', () => {
  jest.setTimeout(60000);
  let c: InstalledCluster;
  beforeAll(async () => {
    c = await installCluster(withChanges(REAL_CLUSTER, { kubernetesVersion: SEED.kubernetesVersion }), { standIns: false });
  });
  afterAll(() => { removeTempDirs(); cleanupTempDirs(); });

  test('on every node, containerd 2.x reads the pinned sandbox image, runc v2 under systemd, the CNI dirs and the kubelet\'s socket', async () => {
    expect(c.model.releaseOf('containerd').version).toMatch(/^2\./);
    for (const node of c.model.nodes) {
      const root = c.root(node.name);
      placeProgram(built.path('containerd'), path.join(root, CONTAINERD_FILES.containerd));
      const cmd = unitCommand(root, CONTAINERD_FILES.unit);
      const r = await run(inRootView(root, [...unitPaths(cmd), CONTAINERD_FILES.config], [...cmd.argv, 'config', 'dump']), { env: cmd.env, timeoutMs: 20000 });
      expect([node.name, r.code]).toEqual([node.name, 0]);
      const t = parseToml(r.stdout);
      const kubelet = parseYaml(fs.readFileSync(c.file(node.name, KUBELET.config), 'utf8'));
      const runtime = at(t, 'plugins', 'io.containerd.cri.v1.runtime');
      expect([node.name, {
        // It reads version 3 and migrates it to its own current version (4 in 2.3).
        version: (at(t, 'version') as number) >= 3,
        // containerd 2.x leaves its default gRPC address out of the dump.
        grpcAddress: at(t, 'grpc', 'address') ?? '/run/containerd/containerd.sock',
        sandbox: at(t, 'plugins', 'io.containerd.cri.v1.images', 'pinned_images', 'sandbox'),
        defaultRuntime: at(runtime, 'containerd', 'default_runtime_name'),
        runcType: at(runtime, 'containerd', 'runtimes', 'runc', 'runtime_type'),
        systemdCgroup: at(runtime, 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup'),
        cniBinDirs: at(runtime, 'cni', 'bin_dirs'),
        cniConfDir: at(runtime, 'cni', 'conf_dir'),
      }]).toEqual([node.name, {
        version: true,
        grpcAddress: kubelet.containerRuntimeEndpoint.replace(/^unix:\/\//, ''),
        sandbox: `${c.model.imageRegistry}/${c.model.kubernetes.images.pause.split('/').pop()}`,
        defaultRuntime: 'runc',
        runcType: 'io.containerd.runc.v2',
        systemdCgroup: true,
        cniBinDirs: [PATHS.cniBin],
        cniConfDir: path.dirname(FLANNEL_FILES.cniConfig),
      }]);
    }
  });
});
