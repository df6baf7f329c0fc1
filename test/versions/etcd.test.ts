import { ETCD_UPGRADES, etcdUpgradeSteps } from '../../lib/versions/etcd';
import { KUBERNETES_MINORS } from '../../lib/versions/kubernetes';

describe('etcd upgrade path', () => {
  test('a patch upgrade is one step; across minors, one minor at a time from the patch the guide requires', () => {
    expect(etcdUpgradeSteps('3.5.36', '3.5.36')).toEqual([]);
    expect(etcdUpgradeSteps('3.5.24', '3.5.36')).toEqual(['3.5.36']);
    expect(etcdUpgradeSteps('3.5.36', '3.6.17')).toEqual(['3.6.17']);
    expect(etcdUpgradeSteps('3.5.24', '3.6.17')).toEqual(['3.5.32', '3.6.17']);
    expect(etcdUpgradeSteps('3.5.24', '3.7.4')).toEqual(['3.5.32', '3.6.17', '3.7.4']);
    expect(etcdUpgradeSteps('3.6.8', '3.7.4')).toEqual(['3.6.11', '3.7.4']);
  });

  test('downgrades across minors are refused, saying how etcd downgrades', () => {
    expect(() => etcdUpgradeSteps('3.6.17', '3.5.36')).toThrow("etcd 3.6.17 → 3.5.36 is a downgrade across minors; etcd downgrades one minor at a time with 'etcdctl downgrade', not by a roll-out");
    expect(() => etcdUpgradeSteps('3.5.36', '3.5.30')).toThrow('etcd 3.5.36 → 3.5.30 is a downgrade');
  });

  test('every Kubernetes minor\'s etcd companion is reachable from the one before, and already past the next minor\'s floor', () => {
    for (let i = 1; i < KUBERNETES_MINORS.length; i++) {
      const steps = etcdUpgradeSteps(KUBERNETES_MINORS[i - 1].companions.etcd, KUBERNETES_MINORS[i].companions.etcd);
      // The companions are the newest patches, so no extra patch step is ever needed between neighbouring minors.
      expect([KUBERNETES_MINORS[i].minor, steps.length <= 1]).toEqual([KUBERNETES_MINORS[i].minor, true]);
    }
    for (const s of ETCD_UPGRADES) expect(s.newest.startsWith(`${s.to}.`)).toBe(true);
  });
});
