import { DEFAULTS } from '../defaults';
import { checkSchedule } from './calendar';
import { DefinitionIssue, Issues } from './issue';
import { checkBoolean, isPositiveInt } from './values';
import { DefinitionView } from './view';

/** More snapshots than a year of daily ones is a mistake, not a policy. */
const MAX_KEEP = 366;

/** etcd.snapshots: schedule, keep, afterSnapshot. */
export function etcdRules({ d }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  const s = d.etcd?.snapshots ?? {};
  checkBoolean(issues, 'etcd.snapshots.enabled', s.enabled);
  checkSchedule(issues, 'etcd.snapshots.schedule', s.schedule, DEFAULTS.etcd.snapshots.schedule);
  if (s.keep !== undefined && !(isPositiveInt(s.keep) && s.keep <= MAX_KEEP)) {
    issues.add('etcd.snapshots.keep', s.keep, `must be a whole number of snapshots from 1 to ${MAX_KEEP}, e.g. ${DEFAULTS.etcd.snapshots.keep}`);
  }
  const after = s.afterSnapshot;
  if (after !== undefined && (typeof after !== 'string' || after.trim() === '' || after.length > 1024 || /[\0\n\r]/.test(after))) {
    issues.add('etcd.snapshots.afterSnapshot', after, 'must be one line of shell (at most 1024 characters) run with SNAPSHOT set, e.g. \'rsync -a "$SNAPSHOT" backup@10.0.0.9:/srv/etcd/\'');
  }
  return issues.list;
}

/** upgrades: drain, drainTimeoutSeconds. */
export function upgradeRules({ d }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  const u = d.upgrades ?? {};
  if (u.drain !== undefined && u.drain !== 'minor' && u.drain !== 'always') {
    issues.add('upgrades.drain', u.drain, "must be 'minor' (drain when a host's kubelet or containerd changes minor) or 'always' (patch releases too)");
  }
  if (u.drainTimeoutSeconds !== undefined && !(isPositiveInt(u.drainTimeoutSeconds) && u.drainTimeoutSeconds >= 30 && u.drainTimeoutSeconds <= 86400)) {
    issues.add('upgrades.drainTimeoutSeconds', u.drainTimeoutSeconds, `must be a whole number of seconds from 30 to 86400, e.g. ${DEFAULTS.upgrades.drainTimeoutSeconds}`);
  }
  return issues.list;
}
