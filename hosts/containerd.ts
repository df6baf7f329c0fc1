import { Construct } from 'constructs';
import { Cluster, componentSpec, renderUnit, unitOf } from '../lib/components';
import {
  CONTAINERD_SOCKET, IMAGES, PATHS, mirrorImage,
} from '../lib/model';

export { CONTAINERD_SOCKET } from '../lib/model';

const [CONTAINERD, SHIM, RUNC] = componentSpec('containerd').binaries;

export const CONTAINERD_FILES = {
  config: '/etc/containerd/config.toml',
  unit: `${PATHS.systemdUnits}/${unitOf('containerd')}`,
  crictlConfig: '/etc/crictl.yaml',
  containerd: CONTAINERD,
  shim: SHIM,
  runc: RUNC,
} as const;

/**
 * containerd for the kubelet hosts: CRI config (config version 2, read by containerd 1.6 and 1.7)
 * with runc under the systemd cgroup driver, its unit for the upstream release layout, and crictl's config.
 */
export class Containerd extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const sandboxImage = mirrorImage(IMAGES.pause, cluster.model.imageRegistry);
    const cri = 'plugins."io.containerd.grpc.v1.cri"';
    const config = [
      'version = 2',
      '',
      `[${cri}]`,
      `  sandbox_image = ${tomlString(sandboxImage)}`,
      '',
      `[${cri}.containerd]`,
      '  default_runtime_name = "runc"',
      '',
      `[${cri}.containerd.runtimes.runc]`,
      '  runtime_type = "io.containerd.runc.v2"',
      '',
      // Must match the kubelet's cgroupDriver: systemd.
      `[${cri}.containerd.runtimes.runc.options]`,
      '  SystemdCgroup = true',
      '',
      `[${cri}.cni]`,
      `  bin_dir = ${tomlString(PATHS.cniBin)}`,
      `  conf_dir = ${tomlString(PATHS.cniConf)}`,
      '',
    ].join('\n');
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

/** A TOML basic string; JSON's escapes are valid TOML for the ASCII values written here. */
function tomlString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`${JSON.stringify(value)} is not printable ASCII`);
  return JSON.stringify(value);
}
