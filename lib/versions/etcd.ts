/**
 * etcd's documented upgrade path, as data: one minor at a time, each from at least the patch etcd's upgrade guide
 * names for it (https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/: every 3.5 member on 3.5.32 or later before 3.6;
 * the 3.7 guide: 3.6.11 or later before 3.7), one member at a time, healthy between. The upgrade plan reads it.
 */
export interface EtcdMinorStep {
  /** The minor upgraded to, e.g. '3.6'. */
  readonly to: string;
  /** The lowest release of the minor before that every member must run first. */
  readonly from: string;
  /** The newest release of `to` the Go module proxy served when this row was written: where a step lands. */
  readonly newest: string;
  readonly guide: string;
}

export const ETCD_UPGRADES: readonly EtcdMinorStep[] = [
  { to: '3.6', from: '3.5.32', newest: '3.6.17', guide: 'https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/' },
  { to: '3.7', from: '3.6.11', newest: '3.7.4', guide: 'https://etcd.io/docs/v3.7/upgrades/upgrade_3_7/' },
];

const parse = (v: string): [number, number, number] => {
  const m = /^3\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new Error(`"${v}" is not an etcd 3.x.y version`);
  return [3, Number(m[1]), Number(m[2])];
};
const minor = (v: string) => `3.${parse(v)[1]}`;
const atLeast = (v: string, floor: string) => {
  const [, a, b] = parse(v);
  const [, c, d] = parse(floor);
  return a > c || (a === c && b >= d);
};

/**
 * The releases every member runs in turn to go from `from` to `to`, each a rolling upgrade of its own: a patch
 * upgrade first where the next minor needs a newer patch, then one minor at a time. Throws for a downgrade across
 * minors (etcd's downgrade is its own procedure) and for a minor with no documented step.
 */
export function etcdUpgradeSteps(from: string, to: string): string[] {
  if (from === to) return [];
  const [, fromMinor] = parse(from);
  const [, toMinor, toPatch] = parse(to);
  if (toMinor < fromMinor) {
    throw new Error(`etcd ${from} → ${to} is a downgrade across minors; etcd downgrades one minor at a time with 'etcdctl downgrade', not by a roll-out`);
  }
  if (toMinor === fromMinor) {
    if (toPatch < parse(from)[2]) throw new Error(`etcd ${from} → ${to} is a downgrade`);
    return [to];
  }
  const steps: string[] = [];
  let at = from;
  for (let m = fromMinor + 1; m <= toMinor; m++) {
    const step = ETCD_UPGRADES.find((s) => s.to === `3.${m}`);
    if (!step) throw new Error(`no documented upgrade to etcd 3.${m}`);
    if (!atLeast(at, step.from)) {
      at = minor(step.from) === minor(from) && atLeast(from, step.from) ? from : step.from;
      steps.push(at);
    }
    at = m === toMinor ? to : step.newest;
    steps.push(at);
  }
  return steps;
}
