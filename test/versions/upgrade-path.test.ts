/**
 * The releases the cluster suite walks (scripts/component-versions.ts): by default a patch and a minor into the
 * seed's release; with KUBESMITH_UPGRADE_CHAIN (scripts/upgrade-chain.sh) every minor's newest from the one named.
 * The property: every step of either path is one synth allows on a running cluster (no refusal), and the chain
 * variable outside its domain is refused, naming it and the valid minors.
 */
import { cluster } from '../../main';
import { ClusterModel } from '../../lib/model';
import { upgradeIssues, versionsOf } from '../../lib/upgrade';
import { KUBERNETES_MINORS, kubernetesMinor } from '../../lib/versions/kubernetes';
import { UPGRADE_CHAIN_ENV, upgradePath } from '../../scripts/component-versions';

const modelAt = (version: string) => ClusterModel.fromDefinition({ ...cluster, kubernetesVersion: version });
const seedMinor = kubernetesMinor(cluster.kubernetesVersion).minor;
const minorOf = (v: string) => Number(v.split('.')[1]);

/** The refusals synth makes for each step of a path that ends at the seed's release. */
function refusals(path: readonly string[]): string[] {
  const steps = [...path, cluster.kubernetesVersion];
  return steps.slice(1).flatMap((to, i) => upgradeIssues(versionsOf(modelAt(steps[i])), modelAt(to)).map((x) => `${steps[i]} → ${to}: ${x.path}: ${x.message}`));
}

test('by default: the previous minor one patch below its newest, then its newest (a patch), then the seed\'s (a minor)', () => {
  const path = upgradePath({});
  const previous = kubernetesMinor(seedMinor - 1).newest;
  expect(path[1]).toBe(previous);
  expect(minorOf(path[0])).toBe(seedMinor - 1);
  expect(Number(path[0].split('.')[2])).toBe(Number(previous.split('.')[2]) - 1);
  expect(refusals(path)).toEqual([]);
});

test.each(KUBERNETES_MINORS.filter((m) => m.minor < seedMinor).map((m) => [`1.${m.minor}`]))('the chain from %s: each minor\'s newest in turn, every step one synth allows', (first) => {
  const path = upgradePath({ [UPGRADE_CHAIN_ENV]: first });
  expect(path.map(minorOf)).toEqual(Array.from({ length: seedMinor - minorOf(`${first}.0`) }, (_, i) => minorOf(`${first}.0`) + i));
  expect(path).toEqual(path.map((v) => kubernetesMinor(v).newest));
  expect(refusals(path)).toEqual([]);
});

test.each(['1.26', `1.${seedMinor}`, `1.${seedMinor + 1}`, '127', '1.27.16', 'v1.27', 'yes'])('%s is refused as the chain\'s first minor, naming the variable and the valid ones', (bad) => {
  expect(() => upgradePath({ [UPGRADE_CHAIN_ENV]: bad })).toThrow(
    `${UPGRADE_CHAIN_ENV}="${bad}" is not a minor the chain can start from; expected 1.${KUBERNETES_MINORS[0].minor} to 1.${seedMinor - 1} (the seed runs 1.${seedMinor})`,
  );
});
