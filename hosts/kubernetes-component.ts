import {
  ComponentId, HostBundle, OptionFileComponent, componentSpec, optionFileService, renderUnit, unitOf,
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

/** Ordering of a Kubernetes component's unit against other components (all after network-online.target). */
export interface UnitDependencies {
  readonly after?: readonly ComponentId[];
  readonly wants?: readonly ComponentId[];
  readonly requires?: ComponentId;
  /** systemd Type=, e.g. 'notify' for the apiserver, which reports READY=1 once it serves. @default simple */
  readonly type?: string;
}

/** The unit of a Kubernetes component: its row's description, its reference page, its option file in ExecStart. */
export function kubernetesUnit(id: ComponentId, deps: UnitDependencies = {}): string {
  return renderUnit({
    unit: {
      Description: componentSpec(id).description,
      Documentation: `https://kubernetes.io/docs/reference/command-line-tools-reference/${id}/`,
      After: ['network-online.target', ...(deps.after ?? []).map(unitOf)],
      Wants: ['network-online.target', ...(deps.wants ?? []).map(unitOf)],
      ...(deps.requires ? { Requires: unitOf(deps.requires) } : {}),
    },
    service: optionFileService(kubernetesComponent(id), deps.type ? { Type: deps.type } : {}),
  });
}
