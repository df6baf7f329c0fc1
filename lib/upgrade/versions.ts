import { ClusterModel } from '../model/cluster-model';
import { RELEASES, ReleaseId } from '../model/releases';
import { DefinitionIssue } from '../model/validation/issue';
import { etcdUpgradeSteps } from '../versions/etcd';
import { minorOf } from '../versions/kubernetes';

/** Every upstream release a cluster runs, at its version: what the synth record keeps to plan the next upgrade. */
export type ClusterVersions = Readonly<Record<ReleaseId, string>>;

export function versionsOf(model: ClusterModel): ClusterVersions {
  return Object.fromEntries(RELEASES.map((r) => [r.id, model.releaseOf(r.id).version])) as ClusterVersions;
}

/** The releases whose version differs, in RELEASES order. */
export function changedReleases(from: Partial<ClusterVersions>, to: ClusterVersions): ReleaseId[] {
  return RELEASES.map((r) => r.id).filter((id) => from[id] !== undefined && from[id] !== to[id]);
}

/** Where a companion's version comes from: its binaries field when the definition sets one, else the minor's row. */
function fieldOf(model: ClusterModel, id: 'etcd' | 'containerd' | 'runc'): string {
  return model.releaseOf(id).version === model.kubernetes.companions[id] ? 'kubernetesVersion' : `binaries.${id}.version`;
}

/** 'minor' (the Kubernetes minor moves up), 'patch' (only its patch), or undefined when Kubernetes stays. */
export function kubernetesStep(from: string, to: string): 'minor' | 'patch' | undefined {
  if (from === to) return undefined;
  return minorOf(from) === minorOf(to) ? 'patch' : 'minor';
}

/**
 * What synth refuses in a version change, before anything is written: a skipped Kubernetes minor, a Kubernetes
 * downgrade across minors (a minor rollback restores the preflight snapshot), an etcd change its upgrade guide
 * does not allow in one step (a skipped minor, a minor from below the patch the guide names, a downgrade across
 * minors).
 */
export function upgradeIssues(from: Partial<ClusterVersions>, model: ClusterModel): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const to = versionsOf(model);
  if (from.kubernetes && from.kubernetes !== to.kubernetes) {
    const a = minorOf(from.kubernetes);
    const b = minorOf(to.kubernetes);
    if (b < a) {
      issues.push({
        path: 'kubernetesVersion', value: to.kubernetes,
        message: `downgrades the cluster from ${from.kubernetes} across minors; the skew policy allows no minor downgrade by a roll-out. `
          + `Keep '${from.kubernetes}', or roll back by restoring the etcd snapshot the upgrade's preflight took (deploy.sh --restore) with the previous synth's bundles`,
      });
    } else if (b > a + 1) {
      issues.push({
        path: 'kubernetesVersion', value: to.kubernetes,
        message: `skips Kubernetes 1.${a + 1} (the cluster runs ${from.kubernetes}); upgrade one minor at a time: set '1.${a + 1}.x', synth and roll out, then the next`,
      });
    }
  }
  if (from.etcd && from.etcd !== to.etcd) {
    const field = fieldOf(model, 'etcd');
    const value = field === 'kubernetesVersion' ? to.kubernetes : to.etcd;
    try {
      const steps = etcdUpgradeSteps(from.etcd, to.etcd);
      if (steps.length > 1) {
        issues.push({
          path: field, value,
          message: `moves etcd from ${from.etcd} to ${to.etcd} in one roll-out; etcd's upgrade guide goes through ${steps.slice(0, -1).join(', then ')} first: `
            + `set binaries.etcd.version to '${steps[0]}', synth and roll out, then go on`,
        });
      }
    } catch (e) {
      issues.push({ path: field, value, message: `${(e as Error).message}; keep binaries.etcd.version at '${from.etcd}'` });
    }
  }
  for (const id of ['containerd', 'runc'] as const) {
    if (!from[id] || from[id] === to[id]) continue;
    const [fa, fb] = from[id]!.split('.').map(Number);
    const [ta, tb] = to[id].split('.').map(Number);
    if (ta < fa || (ta === fa && tb < fb)) {
      issues.push({
        path: fieldOf(model, id), value: fieldOf(model, id) === 'kubernetesVersion' ? to.kubernetes : to[id],
        message: `downgrades ${id} from ${from[id]} to ${to[id]} across minors; keep binaries.${id}.version at '${from[id]}'`,
      });
    }
  }
  return issues;
}
