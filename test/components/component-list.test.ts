import { parse } from 'yaml';
import {
  COMPONENT_LIST, ROLLOUT_PHASES, componentsOn, rolloutSteps, serviceOf,
} from '../../lib/components';
import { PATHS } from '../../lib/model';
import { certPath, keyPath, userOf } from '../../lib/pki';
import { LARGE, SEED } from '../support/clusters';
import { ecdsa, synth, Synthesized } from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster: the hosts run what the component table says', (_name, def) => {
  let s: Synthesized;
  beforeAll(async () => { s = await synth(ecdsa(def)); });

  test('each host registers exactly its components\' services, in start order, and install.sh starts them so', () => {
    const { model, cluster } = s.result;
    for (const bundle of cluster.bundles) {
      const host = bundle.host;
      const expected = componentsOn(host, model).map((c) => serviceOf(c.id, model)).sort((a, b) => a.order - b.order || (a.unit < b.unit ? -1 : 1));
      expect([host.name, bundle.services]).toEqual([host.name, expected]);
      const units = bundle.services.map((x) => `'${x.unit}'`).join(' ');
      const script = bundle.rootFiles.find((f) => f.path === 'install.sh')!.content.toString();
      expect(script).toContain(`UNITS=(${units})`);
    }
  });

  test('every component that is not an OS package ships its unit, and names its binaries in it', () => {
    const { model, cluster } = s.result;
    for (const bundle of cluster.bundles) {
      for (const c of componentsOn(bundle.host, model).filter((x) => !x.packaged)) {
        const unit = bundle.files.find((f) => `/${f.path}` === `${PATHS.systemdUnits}/${c.unit}`);
        expect([bundle.host.name, c.id, unit !== undefined]).toEqual([bundle.host.name, c.id, true]);
        // A timer names the service it starts; that service's unit runs the binaries.
        const timerOf = /^Unit=(\S+)$/m.exec(unit!.content.toString())?.[1];
        const runs = timerOf ? bundle.files.find((f) => `/${f.path}` === `${PATHS.systemdUnits}/${timerOf}`)! : unit!;
        const exec = /^ExecStart=(\S+)/m.exec(runs.content.toString())![1];
        expect([c.id, c.binaries.includes(exec) || exec.endsWith('.sh')]).toEqual([c.id, true]);
      }
    }
  });

  test('a component with a kubeconfig identity authenticates as its certificate row says', () => {
    const { cluster } = s.result;
    for (const c of COMPONENT_LIST.filter((x) => x.kubeconfig)) {
      const kc = c.kubeconfig!;
      for (const bundle of cluster.bundlesRunning(c.id)) {
        const text = bundle.files.find((f) => `/${f.path}` === kc.path)!.content.toString();
        const config = parse(text);
        expect(config.users).toEqual([{ name: userOf(kc.identity), user: { 'client-certificate': certPath(kc.identity), 'client-key': keyPath(kc.identity) } }]);
        expect(bundle.hasFile(certPath(kc.identity))).toBe(true);
      }
    }
  });
});

test('the roll-out goes phase by phase: etcd members, masters, lb hosts, nodes', () => {
  const { ClusterModel } = require('../../lib') as typeof import('../../lib');
  const model = ClusterModel.fromDefinition(LARGE);
  expect(ROLLOUT_PHASES).toEqual(['etcd', 'master', 'lb', 'node']);
  expect(rolloutSteps(model).map((x) => `${x.phase} ${x.host.name}`)).toEqual([
    'etcd cp1', 'etcd cp2', 'etcd cp3', 'master cp1', 'master cp2', 'master cp3', 'lb cp1', 'lb cp2',
    'node worker1', 'node worker2', 'node worker3', 'node worker4', 'node worker5',
  ]);
});

test('start order: etcd, its snapshot timer, containerd, the control plane, the load balancer, kubelet and kube-proxy, flanneld (its Node\'s podCIDR), the bootstrap cleanup, the certificate check', () => {
  const order = [...COMPONENT_LIST].sort((a, b) => a.order - b.order || (a.unit < b.unit ? -1 : 1)).map((c) => c.id);
  expect(order).toEqual(['etcd', 'etcd-snapshot', 'containerd', 'kube-apiserver', 'kube-controller-manager',
    'kube-scheduler', 'nginx', 'keepalived', 'kube-proxy', 'kubelet', 'flanneld', 'kubelet-bootstrap-cleanup', 'cert-check']);
});
