import { ClusterModel, DEFAULTS } from '../../lib/model';
import { SEED as SEED_DEFINITION } from '../support/clusters';

/** The model's resolved addons, with its apps. */
const resolve = (over: Partial<typeof SEED_DEFINITION> = {}) => {
  const model = ClusterModel.fromDefinition({ ...SEED_DEFINITION, ...over });
  return { ...model.addons, apps: model.apps };
};

describe('addons and apps in the model', () => {
  test('defaults: every addon on, 2 CoreDNS replicas, NodePort 30001, no admin account', () => {
    const r = resolve({ addons: undefined, apps: undefined });
    expect(r.coreDns).toMatchObject({ enabled: true, replicas: 2, image: 'registry.k8s.io/coredns/coredns:v1.14.6' });
    expect(r.dashboard).toMatchObject({ enabled: true, nodePort: DEFAULTS.addons.dashboard.nodePort, adminUser: false });
    expect(r.ingressNginx).toMatchObject({
      enabled: true,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      config: { 'allow-snippet-annotations': 'false' },
    });
    expect(r.bootstrapToken.extraGroups).toEqual([]);
    expect(r.apps).toEqual([]);
    expect(r.namespaces).toEqual(['kubernetes-dashboard', 'ingress-nginx']);
  });

  test('app defaults and derived names', () => {
    const [app] = resolve({ apps: [{ name: 'shop', image: 'harbor.example.com/shop:1', host: 'shop.example.com', volumes: [{ name: 'data', mountPath: '/data', server: 'nfs.example.com', path: '/exports/shop' }] }] }).apps;
    expect(app).toMatchObject({
      name: 'shop', namespace: 'shop', replicas: 1, containerPort: 8080, probePath: undefined,
      requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' },
      tls: { secretName: 'shop-tls', issued: true }, sslRedirect: false,
      pullSecretName: 'shop-registry', chartId: '50-app-shop',
    });
    expect(app.volumes[0]).toMatchObject({ pvName: 'shop-data', size: '5Gi', accessMode: 'ReadWriteMany', readOnly: false, perPod: false, mountOptions: [] });
  });

  test('a user-supplied TLS Secret is not issued by kubesmith', () => {
    const [app] = resolve({ apps: [{ name: 'shop', image: 'shop:1', host: 'shop.example.com', tls: { secretName: 'wildcard' } }] }).apps;
    expect(app.tls).toEqual({ secretName: 'wildcard', issued: false });
  });

  test('no host, no TLS', () => {
    expect(resolve({ apps: [{ name: 'shop', image: 'shop:1' }] }).apps[0].tls).toBeUndefined();
  });

  test('namespaces: disabled addons and the default namespace are left out, shared ones listed once', () => {
    const r = resolve({
      addons: { dashboard: { enabled: false }, ingressNginx: { enabled: false } },
      apps: [
        { name: 'a', image: 'a:1', namespace: 'shop' },
        { name: 'b', image: 'b:1', namespace: 'shop' },
        { name: 'c', image: 'c:1', namespace: 'default' },
      ],
    });
    expect(r.namespaces).toEqual(['shop']);
  });

  test('imageRegistry rewrites addon images and public app images, unless the app opts out', () => {
    const r = resolve({
      imageRegistry: 'mirror.example.com/k8s',
      apps: [
        { name: 'a', image: 'tomcat:8.5-jre8' },
        { name: 'b', image: 'tomcat:8.5-jre8', useImageRegistry: false },
        { name: 'c', image: 'harbor.example.com/java/demo:1.0' },
      ],
    });
    expect(r.coreDns.image).toBe('mirror.example.com/k8s/coredns:v1.14.6');
    expect(r.apps.map((a) => a.image)).toEqual(['mirror.example.com/k8s/tomcat:8.5-jre8', 'tomcat:8.5-jre8', 'harbor.example.com/java/demo:1.0']);
  });

  test('ingress nodeSelector and config merge over the defaults', () => {
    const r = resolve({ addons: { ingressNginx: { nodeSelector: { ingress: 'true' }, config: { 'proxy-body-size': '20m', 'allow-snippet-annotations': 'true' } } } });
    expect(r.ingressNginx.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', ingress: 'true' });
    expect(r.ingressNginx.config).toEqual({ 'allow-snippet-annotations': 'true', 'proxy-body-size': '20m' });
  });
});
