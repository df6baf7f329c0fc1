import { Construct } from 'constructs';
import { IMAGES, mirrorImage } from '../lib/addons/images';
import { Cluster } from '../lib/cluster';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { PATHS } from '../lib/paths';
import { renderUnit } from '../lib/systemd-unit';

export interface ContainerdProps {
  /**
   * Pod sandbox image, before the registry mirror rule is applied.
   * @default 'registry.k8s.io/pause:3.9' (the pause image of Kubernetes 1.27)
   */
  readonly sandboxImage?: string;
}

export const CONTAINERD_FILES = {
  config: '/etc/containerd/config.toml',
  unit: `${PATHS.systemdUnits}/containerd.service`,
  crictlConfig: '/etc/crictl.yaml',
  containerd: '/usr/local/bin/containerd',
  shim: '/usr/local/bin/containerd-shim-runc-v2',
  runc: '/usr/local/sbin/runc',
} as const;

export const CONTAINERD_SOCKET = 'unix:///run/containerd/containerd.sock';

/**
 * containerd for the kubelet hosts: CRI config (config version 2, read by containerd 1.6 and 1.7)
 * with runc under the systemd cgroup driver, its unit for the upstream release layout, and crictl's config.
 */
export class Containerd extends Construct {
  constructor(scope: Construct, id: string, props: ContainerdProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const sandboxImage = mirrorImage(props.sandboxImage ?? IMAGES.pause, cluster.model.imageRegistry);
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
        Description: 'containerd container runtime',
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
    for (const bundle of cluster.bundlesWithRole('node')) {
      bundle.addFile(CONTAINERD_FILES.config, config);
      bundle.addFile(CONTAINERD_FILES.unit, unit);
      bundle.addFile(CONTAINERD_FILES.crictlConfig, crictl);
      bundle.addService({
        unit: 'containerd.service',
        order: START_ORDER.containerd,
        binaries: [CONTAINERD_FILES.containerd, CONTAINERD_FILES.shim, CONTAINERD_FILES.runc],
        source: 'containerd v1.7 release tarball (bin/ into /usr/local/bin) and runc release binary (/usr/local/sbin/runc)',
      });
    }
  }
}

/** A TOML basic string; JSON's escapes are valid TOML for the ASCII values written here. */
function tomlString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`${JSON.stringify(value)} is not printable ASCII`);
  return JSON.stringify(value);
}
