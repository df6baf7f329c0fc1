import * as path from 'path';
import { ComponentId, componentSpec, runsOn } from '../components/component-list';
import { ClusterModel } from '../model/cluster-model';
import { Host, HostRole } from '../model';
import { ReleaseId, releaseProviding } from '../model/releases';
import { ClusterVersions, changedReleases, kubernetesStep } from './versions';

/**
 * The waves of an upgrade, in the version-skew policy's order (after k0sctl's phase lists: controllers before
 * workers): etcd one member at a time; each master's kube-apiserver, then its controller-manager and scheduler
 * (they dial their own apiserver); then the node programs of masters, then of nodes, one host at a time. Each step
 * names the components whose programs it replaces and whose units it restarts; nginx and keepalived come from the OS
 * and follow the ordinary roll-out. A preflight comes before, the addons after (both from the operator's machine).
 */
export interface WaveStepSpec {
  /** Unique among all waves' steps: the host records it when the step is done. */
  readonly name: string;
  readonly components: readonly ComponentId[];
}

export interface WaveSpec {
  readonly name: 'etcd' | 'control-plane' | 'node';
  readonly title: string;
  /** Hosts with any of these roles take part, masters before the others. */
  readonly roles: readonly HostRole[];
  readonly steps: readonly WaveStepSpec[];
}

export const UPGRADE_WAVES: readonly WaveSpec[] = [
  {
    name: 'etcd', title: 'etcd, one member at a time, the cluster healthy between', roles: ['etcd'],
    steps: [{ name: 'etcd', components: ['etcd', 'etcd-snapshot'] }],
  },
  {
    name: 'control-plane', title: 'the control plane, one master at a time: kube-apiserver, then controller-manager and scheduler', roles: ['master'],
    steps: [
      { name: 'kube-apiserver', components: ['kube-apiserver'] },
      { name: 'controller-manager-scheduler', components: ['kube-controller-manager', 'kube-scheduler'] },
    ],
  },
  {
    name: 'node', title: 'the node programs, masters first, then nodes, one host at a time', roles: ['master', 'node'],
    steps: [{ name: 'node', components: ['containerd', 'kubelet', 'kubelet-bootstrap-cleanup', 'kube-proxy', 'flanneld'] }],
  },
];

/** A program a step replaces on a host. */
export interface ProgramChange {
  readonly path: string;
  readonly release: ReleaseId;
  readonly from: string;
  readonly to: string;
}

/** One step of one wave on one host. */
export interface HostUpgradeStep {
  readonly wave: WaveSpec['name'];
  readonly step: string;
  readonly host: Host;
  readonly programs: readonly ProgramChange[];
  /** The units install.sh --units restarts, in start order. */
  readonly units: readonly string[];
  readonly components: readonly ComponentId[];
  /** Cordon and drain before, uncordon after (the node wave, when the kubelet or containerd changes minor, or always). */
  readonly drain: boolean;
}

export interface UpgradePlan {
  readonly from: ClusterVersions;
  readonly to: ClusterVersions;
  /** 'minor' or 'patch' for Kubernetes; 'companions' when only other programs change. */
  readonly kind: 'minor' | 'patch' | 'companions';
  readonly changed: readonly ReleaseId[];
  readonly waves: readonly { readonly spec: WaveSpec; readonly steps: readonly HostUpgradeStep[] }[];
  /** What a host records once a step is done there; a re-run skips the steps whose record matches. */
  readonly target: string;
  /** How to go back, as the plan says it. */
  readonly rollback: string;
}

const minorPart = (v: string) => v.split('.').slice(0, 2).join('.');

/** Every component a wave step upgrades is in exactly one step (the tests hold the table to it). */
export function waveStepOf(id: ComponentId): WaveStepSpec | undefined {
  return UPGRADE_WAVES.flatMap((w) => w.steps).find((s) => s.components.includes(id));
}

/** The upgrade from the versions the hosts run to the model's; undefined when no program changes. */
export function upgradePlan(
  from: ClusterVersions, model: ClusterModel, to: ClusterVersions, upgrades: (h: Host) => boolean = () => true,
): UpgradePlan | undefined {
  const changed = changedReleases(from, to);
  if (changed.length === 0) return undefined;
  const k8s = kubernetesStep(from.kubernetes, to.kubernetes);
  const drainNode = model.upgrades.drain === 'always' || k8s === 'minor' || minorPart(from.containerd) !== minorPart(to.containerd);
  const waves = UPGRADE_WAVES.map((spec) => {
    const hosts = model.hosts.filter((h) => upgrades(h) && spec.roles.some((r) => h.has(r)));
    const ordered = [...hosts.filter((h) => h.has('master')), ...hosts.filter((h) => !h.has('master'))];
    const steps = spec.steps.flatMap((s) => ordered.map((host): HostUpgradeStep | undefined => {
      const comps = s.components.filter((c) => runsOn(componentSpec(c), host, model));
      const programs = [...new Set(comps.flatMap((c) => componentSpec(c).binaries))].flatMap((p): ProgramChange[] => {
        const id = releaseProviding(path.posix.basename(p))?.release.id;
        return id && changed.includes(id) ? [{ path: p, release: id, from: from[id], to: to[id] }] : [];
      });
      if (programs.length === 0) return undefined;
      const units = comps.map((c) => componentSpec(c)).sort((a, b) => a.order - b.order || (a.unit < b.unit ? -1 : 1)).map((c) => c.unit);
      return { wave: spec.name, step: s.name, host, programs, units, components: comps, drain: spec.name === 'node' && drainNode };
    }).filter((x): x is HostUpgradeStep => x !== undefined));
    // The control plane goes master by master: each master's apiserver, then its controller-manager and scheduler.
    if (spec.name === 'control-plane') steps.sort((a, b) => ordered.indexOf(a.host) - ordered.indexOf(b.host));
    return { spec, steps };
  }).filter((w) => w.steps.length > 0);
  const target = changed.map((id) => `${id}=${to[id]}`).join(' ');
  const rollback = k8s === 'minor'
    ? `a minor cannot be rolled back by a roll-out: restore the snapshot the preflight took (deploy.sh --restore FILE) with the previous synth's bundles and programs (${from.kubernetes})`
    : `roll out the previous synth (kubernetesVersion '${from.kubernetes}'${changed.filter((c) => c !== 'kubernetes').map((c) => `, binaries.${c}.version '${from[c]}'`).join('')}): each host keeps its previous programs in /var/lib/kubesmith/previous`;
  return { from, to, kind: k8s ?? 'companions', changed, waves, target, rollback };
}
