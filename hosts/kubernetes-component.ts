import { HostBundle } from '../lib/bundle/host-bundle';
import { ClusterModel } from '../lib/cluster-model';
import { PATHS } from '../lib/paths';
import { OptionFileComponent } from '../lib/systemd-unit';

/** A Kubernetes server binary started the tutorial's way (option file + unit). */
export interface KubernetesComponent extends OptionFileComponent {
  /** Unit name, e.g. 'kube-scheduler.service'. */
  readonly unit: string;
}

/** Where the server binaries come from; every control-plane and node component names it. */
export function kubernetesServerSource(model: ClusterModel): string {
  return `kubernetes-server-linux-amd64.tar.gz v${model.kubernetesVersion}`;
}

/** Adds a component's option file and unit to a host's bundle, and registers its service for install.sh. */
export function addKubernetesComponent(
  bundle: HostBundle, model: ClusterModel, component: KubernetesComponent, order: number,
  files: { readonly options: string; readonly unit: string },
): void {
  bundle.addFile(component.optionFile, files.options);
  bundle.addFile(`${PATHS.systemdUnits}/${component.unit}`, files.unit);
  bundle.addService({ unit: component.unit, order, binaries: [component.binary], source: kubernetesServerSource(model) });
}
