import {
  HostBundle, MembershipRecord, reloadDependencies, rolloutRank, serviceAction, serviceDependencies,
} from '../components';
import { FixedNetwork, HostRole } from '../model';
import { ClusterVersions, ComponentSettings } from '../upgrade';
import { PkiEvent, formatEvent } from '../pki';
import { sha256 } from './bundle-writer';
import { RuntimeStep } from './rollout/runtime-steps';

/** What one synth produced, kept in the state dir to diff the next synth against. */
export interface SynthRecord {
  readonly hosts: Readonly<Record<string, {
    readonly roles: readonly HostRole[];
    /** Where it was, for runtime steps once it has left the definition (drain, stop). Absent in older records. */
    readonly ip?: string;
    /** path → sha256 */
    readonly files: Readonly<Record<string, string>>;
  }>>;
  /** etcd members' states and retired hosts (lib/components/membership.ts). Absent in older records. */
  readonly membership?: MembershipRecord;
  /** The upstream releases this synth's hosts run. Absent in older records. */
  readonly versions?: ClusterVersions;
  /** The versions the last version change started from: its waves stay in the roll-out (each step is skipped once done). */
  readonly upgradeFrom?: ClusterVersions;
  /** Each Kubernetes component's flags and config fields, for the next upgrade's plan. */
  readonly settings?: ComponentSettings;
  /** The network settings a running cluster keeps (lib/model/fixed-settings.ts). Absent in older records. */
  readonly network?: FixedNetwork;
}

export interface HostChange {
  readonly host: string;
  readonly roles: readonly HostRole[];
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  /** Units to restart (or start), in start order. */
  readonly restart: string[];
  /** Units whose changed files a reload applies (ServiceSpec.reload), in start order. */
  readonly reload: string[];
  /** The host is new, or gone from the definition. */
  readonly status: 'new' | 'changed' | 'removed';
}

export interface ChangePlan {
  readonly hosts: HostChange[];
  readonly certificates: readonly PkiEvent[];
  /** Membership steps this synth adds (member remove/add, drain, delete node), run before the roll-out. */
  readonly runtime?: readonly RuntimeStep[];
}

export function recordOf(bundles: readonly HostBundle[], membership?: MembershipRecord): SynthRecord {
  return {
    hosts: Object.fromEntries(bundles.map((b) => [b.host.name, {
      roles: b.host.roles,
      ip: b.host.ip,
      files: Object.fromEntries(b.files.map((f) => [f.path, sha256(f.content)])),
    }])),
    ...(membership ? { membership } : {}),
  };
}

export function changePlan(
  previous: SynthRecord | undefined, bundles: readonly HostBundle[], certificates: readonly PkiEvent[],
  current: SynthRecord = recordOf(bundles),
): ChangePlan {
  const hosts: HostChange[] = [];
  for (const bundle of bundles) {
    const name = bundle.host.name;
    const now = current.hosts[name].files;
    const had = previous && Object.hasOwn(previous.hosts, name) ? previous.hosts[name] : undefined;
    const before = had?.files ?? {};
    const added = Object.keys(now).filter((p) => !(p in before));
    const changed = Object.keys(now).filter((p) => p in before && before[p] !== now[p]);
    const removed = Object.keys(before).filter((p) => !(p in now));
    if (added.length + changed.length + removed.length === 0) continue;
    const touched = new Set([...added, ...changed, ...removed].map((p) => `/${p}`));
    const deps = serviceDependencies(bundle);
    const reloads = reloadDependencies(bundle);
    // A new host starts every unit: nothing runs yet to reload.
    const action = (unit: string) => (had ? serviceAction(unit, deps, reloads, touched) : serviceAction(unit, deps, new Map(), touched));
    const restart = bundle.services.filter((s) => action(s.unit) === 'restart').map((s) => s.unit);
    const reload = bundle.services.filter((s) => action(s.unit) === 'reload').map((s) => s.unit);
    hosts.push({ host: name, roles: bundle.host.roles, added, changed, removed, restart, reload, status: had ? 'changed' : 'new' });
  }
  for (const [name, h] of Object.entries(previous?.hosts ?? {})) {
    if (Object.hasOwn(current.hosts, name)) continue;
    hosts.push({ host: name, roles: h.roles, added: [], changed: [], removed: Object.keys(h.files), restart: [], reload: [], status: 'removed' });
  }
  hosts.sort((a, b) => rolloutRank(a.roles) - rolloutRank(b.roles));
  return { hosts, certificates };
}

export function isEmptyPlan(plan: ChangePlan): boolean {
  return plan.hosts.length === 0 && plan.certificates.length === 0 && (plan.runtime ?? []).length === 0;
}

export function formatPlan(plan: ChangePlan): string[] {
  const lines: string[] = [];
  if (plan.certificates.length > 0) {
    lines.push('certificates:');
    for (const e of plan.certificates) lines.push(`  ${formatEvent(e)}`);
  }
  if ((plan.runtime ?? []).length > 0) {
    lines.push('runtime steps, before the roll-out (deploy.sh --yes and ansible/site.yml run them, in this order):');
    plan.runtime!.forEach((s, i) => lines.push(`  ${i + 1}. ${s.title} (${s.on === 'operator' ? 'from this machine' : `on ${s.on.map((h) => h.name).join(', ')}`})`));
  }
  if (plan.hosts.length > 0) {
    lines.push('changes, in roll-out order (one host at a time within etcd and master):');
    for (const h of plan.hosts) {
      lines.push(`  ${h.host} (${h.roles.join(', ')}): ${h.status}${h.status === 'changed'
        ? ` — ${h.added.length} added, ${h.changed.length} changed, ${h.removed.length} removed` : ''}`);
      if (h.status === 'changed') {
        for (const p of h.added) lines.push(`    + /${p}`);
        for (const p of h.changed) lines.push(`    ~ /${p}`);
        for (const p of h.removed) lines.push(`    - /${p}`);
      }
      if (h.restart.length > 0) lines.push(`    restart: ${h.restart.join(' → ')}`);
      if (h.reload.length > 0) lines.push(`    reload: ${h.reload.join(' → ')}`);
    }
  }
  return lines;
}
