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

function criOf(toml: string): any {
  const config: any = parseToml(toml);
  expect(config.version).toBe(2);
  return config.plugins['io.containerd.grpc.v1.cri'];
}

describe.each([
  ['seed', SEED_ECDSA, 'registry.k8s.io/pause:3.9'],
  ['large', LARGE, 'mirror.example.com/k8s/pause:3.9'],
])('%s cluster', (_name, def, pause) => {
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
    const cri = criOf(fileText(cluster.bundle(cluster.model.nodes[0].name), CONTAINERD_FILES.config));
    expect(cri.sandbox_image).toBe(pause);
    expect(cri.containerd.default_runtime_name).toBe('runc');
    expect(cri.containerd.runtimes.runc.runtime_type).toBe('io.containerd.runc.v2');
    expect(cri.containerd.runtimes.runc.options.SystemdCgroup).toBe(true);
    expect(cri.cni).toEqual({ bin_dir: PATHS.cniBin, conf_dir: PATHS.cniConf });
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
  expect(criOf(fileText(cluster.bundle('worker1'), CONTAINERD_FILES.config)).sandbox_image).toBe('mirror.example.com/k8s/pause:3.9');
});

test('mirroredImage keeps the last path segment and the tag', () => {
  expect(mirroredImage('registry.k8s.io/pause:3.9', undefined)).toBe('registry.k8s.io/pause:3.9');
  expect(mirroredImage('registry.k8s.io/pause:3.9', 'registry.aliyuncs.com/google_containers'))
    .toBe('registry.aliyuncs.com/google_containers/pause:3.9');
  expect(mirroredImage('registry.k8s.io/coredns/coredns:v1.10.1', 'mirror.local:5000/')).toBe('mirror.local:5000/coredns:v1.10.1');
});
