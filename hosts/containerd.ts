import { Construct } from 'constructs';
import { Cluster, componentSpec, renderUnit, unitOf } from '../lib/components';
import {
  CONTAINERD_SOCKET, PATHS, mirrorImage,
} from '../lib/model';

export { CONTAINERD_SOCKET } from '../lib/model';

const [CONTAINERD, SHIM, RUNC] = componentSpec('containerd').binaries;

export const CONTAINERD_FILES = {
  config: PATHS.containerdConf,
  unit: `${PATHS.systemdUnits}/${unitOf('containerd')}`,
  crictlConfig: '/etc/crictl.yaml',
  containerd: CONTAINERD,
  shim: SHIM,
  runc: RUNC,
} as const;

/**
 * containerd for the kubelet hosts: its CRI config with runc under the systemd cgroup driver, in the config version
 * its release reads (2 for containerd 1.6 and 1.7, 3 for 2.x, whose CRI plugin is split into images and runtime),
 * its unit for the upstream release layout, and crictl's config.
 */
export class Containerd extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const sandboxImage = mirrorImage(cluster.model.kubernetes.images.pause, cluster.model.imageRegistry);
    const version = cluster.model.releaseOf('containerd').version;
    const config = Number(version.split('.')[0]) >= 2 ? configV3(sandboxImage) : configV2(sandboxImage);
    const unit = renderUnit({
      unit: {
        Description: componentSpec('containerd').description,
        Documentation: 'https://containerd.io',
        After: 'network.target local-fs.target',
      },
      service: {
        Type: 'notify',
        ExecStartPre: '-/sbin/modprobe overlay',
        ExecStart: CONTAINERD_FILES.containerd,
        // Containers live in the shims' cgroups: stopping containerd must not kill them.
        Delegate: 'yes',
        KillMode: 'process',
        Restart: 'always',
        RestartSec: '5s',
        LimitNPROC: 'infinity',
        LimitCORE: 'infinity',
        LimitNOFILE: 'infinity',
        TasksMax: 'infinity',
        OOMScoreAdjust: '-999',
      },
    });
    const crictl = [
      `runtime-endpoint: ${CONTAINERD_SOCKET}`,
      `image-endpoint: ${CONTAINERD_SOCKET}`,
      'timeout: 10',
      '',
    ].join('\n');
    for (const bundle of cluster.placeComponent('containerd')) {
      bundle.addFile(CONTAINERD_FILES.config, config);
      bundle.addFile(CONTAINERD_FILES.unit, unit);
      bundle.addFile(CONTAINERD_FILES.crictlConfig, crictl);
    }
  }
}

/** runc as the default runtime, under the systemd cgroup driver; the same tables in both config versions. */
function runcRuntime(table: string): string[] {
  return [
    `[${table}]`,
    '  default_runtime_name = "runc"',
    '',
    `[${table}.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    // Must match the kubelet's cgroupDriver: systemd.
    `[${table}.runtimes.runc.options]`,
    '  SystemdCgroup = true',
    '',
  ];
}

/** containerd 1.6 and 1.7: one CRI plugin. */
function configV2(sandboxImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    '',
    `[${cri}]`,
    `  sandbox_image = ${tomlString(sandboxImage)}`,
    '',
    ...runcRuntime(`${cri}.containerd`),
    `[${cri}.cni]`,
    `  bin_dir = ${tomlString(PATHS.cniBin)}`,
    `  conf_dir = ${tomlString(PATHS.cniConf)}`,
    '',
  ].join('\n');
}

/** containerd 2.x: the CRI images and runtime plugins; the sandbox image is pinned, so image GC keeps it. */
function configV3(sandboxImage: string): string {
  const images = "plugins.'io.containerd.cri.v1.images'";
  const runtime = "plugins.'io.containerd.cri.v1.runtime'";
  return [
    'version = 3',
    '',
    `[${images}.pinned_images]`,
    `  sandbox = ${tomlString(sandboxImage)}`,
    '',
    ...runcRuntime(`${runtime}.containerd`),
    `[${runtime}.cni]`,
    `  bin_dirs = [${tomlString(PATHS.cniBin)}]`,
    `  conf_dir = ${tomlString(PATHS.cniConf)}`,
    '',
  ].join('\n');
}

/** A TOML basic string; JSON's escapes are valid TOML for the ASCII values written here. */
function tomlString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`${JSON.stringify(value)} is not printable ASCII`);
  return JSON.stringify(value);
}
