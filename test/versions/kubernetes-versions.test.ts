import * as fs from 'fs';
import * as path from 'path';
import { KUBERNETES_MINORS, kubernetesMinor, minorOf, supportedOn } from '../../lib/versions/kubernetes';
import { referencedMinors } from '../../lib/versions/references';
import { cluster as seed } from '../../main';

describe('the minor table', () => {
  test('every minor from 1.27 to 1.37, in order, each newest release of its own minor', () => {
    expect(KUBERNETES_MINORS.map((m) => m.minor)).toEqual([27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37]);
    for (const m of KUBERNETES_MINORS) expect([m.newest, minorOf(m.newest)]).toEqual([m.newest, m.minor]);
    expect(referencedMinors()).toEqual(KUBERNETES_MINORS.map((m) => m.minor));
  });

  test('etcd follows kubeadm\'s etcd minor, at a patch no older than kubeadm\'s', () => {
    for (const m of KUBERNETES_MINORS) {
      const [kMaj, kMin, kPatch] = m.kubeadm.etcd.replace(/-\d+$/, '').split('.').map(Number);
      const [maj, min, patch] = m.companions.etcd.split('.').map(Number);
      expect([m.minor, maj, min]).toEqual([m.minor, kMaj, kMin]);
      expect([m.minor, patch >= kPatch]).toEqual([m.minor, true]);
    }
  });

  test('etcd never goes back a minor, and moves at most one minor from one Kubernetes minor to the next', () => {
    const etcdMinor = (v: string) => Number(v.split('.')[1]);
    for (let i = 1; i < KUBERNETES_MINORS.length; i++) {
      const step = etcdMinor(KUBERNETES_MINORS[i].companions.etcd) - etcdMinor(KUBERNETES_MINORS[i - 1].companions.etcd);
      expect([KUBERNETES_MINORS[i].minor, step >= 0 && step <= 1]).toEqual([KUBERNETES_MINORS[i].minor, true]);
    }
  });

  test('on 2026-12-06 upstream supports 1.35, 1.36 and 1.37, and no older minor', () => {
    expect(KUBERNETES_MINORS.filter((m) => supportedOn(m, '2026-12-06')).map((m) => m.minor)).toEqual([35, 36, 37]);
  });

  test('the seed runs the newest release of the newest minor', () => {
    expect(seed.kubernetesVersion).toBe(KUBERNETES_MINORS[KUBERNETES_MINORS.length - 1].newest);
  });

  test('a version of another minor is refused by name', () => {
    expect(() => kubernetesMinor('1.38.0')).toThrow('Kubernetes 1.38 is not one kubesmith compiles (1.27 to 1.37)');
  });
});

describe('docs/kubernetes-versions.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/kubernetes-versions.md'), 'utf8');

  test.each(KUBERNETES_MINORS.map((m) => [m.minor, m] as const))('its row for 1.%i says what the table says', (_n, m) => {
    const c = m.companions;
    const row = `| 1.${m.minor} | ${m.newest} | ${m.endOfLife} | ${c.etcd} | ${c.containerd} | ${c.runc} | ${c.cniPlugins} | ${m.kubeadm.coreDns} | ${m.kubeadm.pause} | ${m.cgroupV1} |`;
    expect(doc.split('\n')).toContain(row);
  });
});
