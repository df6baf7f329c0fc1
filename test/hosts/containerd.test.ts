import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { ClusterDefinition } from '../../lib';
import { componentSpec } from '../../lib/components';
import { Cluster } from '../../lib/components';
import { PATHS } from '../../lib/model';
import { CONTAINERD_FILES, CONTAINERD_SOCKET, Containerd } from '../../hosts/containerd';
import { mirrorImage as mirroredImage } from '../../lib/model/images';
import { LARGE } from '../support/clusters';
import { SEED_ECDSA, componentCluster, emittedFiles, fileText, unitValue } from '../support/component-cluster';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

async function containerdCluster(def: ClusterDefinition): Promise<Cluster> {
  return componentCluster(def, (c) => new Containerd(c, 'containerd'));
}

/** The CRI settings of either config version: 2 (containerd 1.x, one CRI plugin) or 3 (2.x, images and runtime). */
function criOf(toml: string, version: 2 | 3): { sandbox: string; runtime: any; cni: any } {
  const config: any = parseToml(toml);
  expect(config.version).toBe(version);
  if (version === 2) {
    const cri = config.plugins['io.containerd.grpc.v1.cri'];
    return { sandbox: cri.sandbox_image, runtime: cri.containerd, cni: cri.cni };
  }
  const runtime = config.plugins['io.containerd.cri.v1.runtime'];
  return { sandbox: config.plugins['io.containerd.cri.v1.images'].pinned_images.sandbox, runtime: runtime.containerd, cni: runtime.cni };
}

describe.each([
  // The seed: Kubernetes 1.37, containerd 2.3 (config version 3); large: 1.27, containerd 1.7 (version 2).
  ['seed', SEED_ECDSA, 'registry.k8s.io/pause:3.10.2', 3, { bin_dirs: [PATHS.cniBin], conf_dir: PATHS.cniConf }],
  ['large', LARGE, 'mirror.example.com/k8s/pause:3.9', 2, { bin_dir: PATHS.cniBin, conf_dir: PATHS.cniConf }],
] as const)('%s cluster', (_name, def, pause, version, cni) => {
  let cluster: Cluster;
  beforeAll(async () => { cluster = await containerdCluster(def); });

  test('emitted files and services', () => {
    expect(Object.fromEntries(cluster.bundles.map((b) => [b.host.name, { files: emittedFiles(b), services: b.services }])))
      .toMatchSnapshot();
  });

  test('every node and master, and only they, runs containerd', () => {
    for (const b of cluster.bundles) {
      const isNode = b.host.has('node') || b.host.has('master');
      for (const f of [CONTAINERD_FILES.config, CONTAINERD_FILES.unit, CONTAINERD_FILES.crictlConfig]) {
        expect([b.host.name, f, b.hasFile(f)]).toEqual([b.host.name, f, isNode]);
      }
      expect(b.services.map((s) => s.unit)).toEqual(isNode ? ['containerd.service'] : []);
    }
  });

  test('config.toml parses: runc with the systemd cgroup driver, the sandbox image, the CNI directories', () => {
    const cri = criOf(fileText(cluster.bundle(cluster.model.nodes[0].name), CONTAINERD_FILES.config), version);
    expect(cri.sandbox).toBe(pause);
    expect(cri.runtime.default_runtime_name).toBe('runc');
    expect(cri.runtime.runtimes.runc.runtime_type).toBe('io.containerd.runc.v2');
    expect(cri.runtime.runtimes.runc.options.SystemdCgroup).toBe(true);
    expect(cri.cni).toEqual(cni);
  });

  test('containerd.service runs the binary it registers, keeps containers on restart', () => {
    const bundle = cluster.bundle(cluster.model.nodes[0].name);
    const unit = fileText(bundle, CONTAINERD_FILES.unit);
    const service = bundle.services.find((s) => s.unit === 'containerd.service')!;
    expect(service.order).toBe(componentSpec('containerd').order);
    expect(unitValue(unit, 'Service', 'ExecStart')).toEqual([CONTAINERD_FILES.containerd]);
    expect(service.binaries).toContain(CONTAINERD_FILES.containerd);
    expect(unitValue(unit, 'Service', 'ExecStartPre')).toEqual(['-/sbin/modprobe overlay']);
    expect(unitValue(unit, 'Service', 'Type')).toEqual(['notify']);
    expect(unitValue(unit, 'Service', 'Delegate')).toEqual(['yes']);
    expect(unitValue(unit, 'Service', 'KillMode')).toEqual(['process']);
    expect(unitValue(unit, 'Service', 'LimitNOFILE')).toEqual(['infinity']);
  });

  test('crictl talks to containerd', () => {
    expect(parseYaml(fileText(cluster.bundle(cluster.model.nodes[0].name), CONTAINERD_FILES.crictlConfig))).toEqual({
      'runtime-endpoint': CONTAINERD_SOCKET, 'image-endpoint': CONTAINERD_SOCKET, timeout: 10,
    });
  });
});

test('the sandbox image is mirrored like the addons images', async () => {
  const cluster = await containerdCluster(LARGE);
  expect(criOf(fileText(cluster.bundle('worker1'), CONTAINERD_FILES.config), 2).sandbox).toBe('mirror.example.com/k8s/pause:3.9');
});

test('mirroredImage keeps the last path segment and the tag', () => {
  expect(mirroredImage('registry.k8s.io/pause:3.9', undefined)).toBe('registry.k8s.io/pause:3.9');
  expect(mirroredImage('registry.k8s.io/pause:3.9', 'registry.aliyuncs.com/google_containers'))
    .toBe('registry.aliyuncs.com/google_containers/pause:3.9');
  expect(mirroredImage('registry.k8s.io/coredns/coredns:v1.10.1', 'mirror.local:5000/')).toBe('mirror.local:5000/coredns:v1.10.1');
});
