import {
  ComponentId, HostBundle, OptionFileComponent, componentSpec,
} from '../lib/components';
import { PATHS } from '../lib/model';

/** A Kubernetes server binary started the tutorial's way (option file + unit), from its row of the component table. */
export interface KubernetesComponent extends OptionFileComponent {
  /** Unit name, e.g. 'kube-scheduler.service'. */
  readonly unit: string;
}

export function kubernetesComponent(id: ComponentId): KubernetesComponent {
  const row = componentSpec(id);
  if (!row.options) throw new Error(`component ${id} has no option file`);
  return { unit: row.unit, binary: row.binaries[0], optionFile: row.options.file, optionVariable: row.options.variable };
}

/** Adds a component's option file and unit to a host's bundle. */
export function addKubernetesComponent(bundle: HostBundle, component: KubernetesComponent, files: { readonly options: string; readonly unit: string }): void {
  bundle.addFile(component.optionFile, files.options);
  bundle.addFile(`${PATHS.systemdUnits}/${component.unit}`, files.unit);
}
