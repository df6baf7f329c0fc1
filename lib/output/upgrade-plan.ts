import { ClusterModel } from '../model';
import {
  ComponentSettings, UpgradePlan, VERSION_SKEW, settingsChanges,
} from '../upgrade';
import { minorOf } from '../versions/kubernetes';
import { removedBetween } from '../versions/removed-apis';
import { healthChecks } from './rollout/health';

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * The upgrade as the synth prints it: per wave and host the programs that change, the units restarted, the drain
 * and the health checks; the skew invariant after each wave; what changes in the components' flags and config
 * fields; the preflight; how to go back.
 */
export function formatUpgrade(plan: UpgradePlan, model: ClusterModel, from?: ComponentSettings, to?: ComponentSettings): string[] {
  const lines: string[] = [];
  const kinds = { minor: 'a minor upgrade', patch: 'a patch release', companions: 'companion programs only' } as const;
  lines.push(`upgrade (${kinds[plan.kind]}): ${plan.changed.map((id) => `${id} ${plan.from[id]} → ${plan.to[id]}`).join(', ')}`);
  const fromMinor = minorOf(plan.from.kubernetes);
  const toMinor = minorOf(plan.to.kubernetes);
  const removed = removedBetween(fromMinor, toMinor);
  lines.push('  preflight (deploy.sh and site.yml, before any host): the live apiservers and kubelets run '
    + `${plan.from.kubernetes} (or ${plan.to.kubernetes}, resuming); kubectl within ${VERSION_SKEW.kubectl.older} minor of 1.${toMinor}; `
    + `no client still requesting an API 1.${toMinor} removed${removed.length > 0 ? ` (${removed.map((r) => r.api).join(', ')})` : ''}; `
    + 'no PodDisruptionBudget that allows no disruption (when a host is drained); no certificate expiring within 30 days; '
    + `then an etcd snapshot from ${model.etcdMembers[0].name}, copied to snapshots/`);
  const checks = healthChecks(model);
  const kubeletsNow = new Map<string, string>();
  const apisNow = new Map<string, string>();
  for (const h of model.hosts) {
    if (h.has('master') || h.has('node')) kubeletsNow.set(h.name, plan.from.kubernetes);
    if (h.has('master')) apisNow.set(h.name, plan.from.kubernetes);
  }
  for (const { spec, steps } of plan.waves) {
    lines.push(`  wave ${spec.name}: ${spec.title}`);
    for (const st of steps) {
      const progs = [...new Set(st.programs.map((p) => `${p.release} ${p.from} → ${p.to}`))].join(', ');
      const waits = [
        ...checks.filter((c) => st.units.includes(c.unit)).map((c) => c.what),
        ...(st.wave === 'etcd' ? ['etcd cluster health'] : []),
        ...(st.wave === 'node' ? [`Node Ready with kubelet v${plan.to.kubernetes}`] : []),
      ];
      lines.push(`    ${st.host.name} ${st.step}: ${progs}; restart ${st.units.join(', ')}`
        + `${st.drain ? `; cordon and drain first (at most ${model.upgrades.drainTimeoutSeconds} s), uncordon after` : '; no drain'}`
        + `; wait for ${waits.join(', ')}`);
      if (st.programs.some((p) => p.release === 'kubernetes')) {
        if (st.units.includes('kube-apiserver.service')) apisNow.set(st.host.name, plan.to.kubernetes);
        if (st.units.includes('kubelet.service')) kubeletsNow.set(st.host.name, plan.to.kubernetes);
      }
    }
    const span = (m: Map<string, string>) => [...new Set(m.values())].sort().join(' and ') || 'none';
    lines.push(`    after it: apiservers ${span(apisNow)}, kubelets ${span(kubeletsNow)}; the roll-out reads both from the live cluster after every host and stops if a kubelet is newer than the oldest apiserver`);
  }
  lines.push('  then: the ordinary roll-out (programs compared by sha256: nothing left to replace), and kubectl apply -f addons');
  if (from && to) {
    const diffs = settingsChanges(from, to);
    if (diffs.length === 0) lines.push('  flags and config fields: unchanged');
    for (const d of diffs) lines.push(`  ${d.component}: ${plural(d.changes.length, 'change')}: ${d.changes.join('; ')}`);
  }
  lines.push(`  rollback: ${plan.rollback}`);
  return lines;
}
