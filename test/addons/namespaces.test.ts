import { NamespacesChart } from '../../lib/addons/namespaces';
import { maskSecrets, synthAddons } from './helpers';

describe('00-namespaces', () => {
  const { manifests } = synthAddons();
  const objects = manifests.get(NamespacesChart.ID)!;

  test('snapshot (seed cluster)', () => {
    expect(maskSecrets(objects)).toMatchSnapshot();
  });

  test('holds only Namespaces: the addons\' and the app\'s', () => {
    expect(objects.every((o) => o.kind === 'Namespace')).toBe(true);
    expect(objects.map((o) => o.metadata.name)).toEqual(['kubernetes-dashboard', 'ingress-nginx', 'java-demo']);
  });
});
