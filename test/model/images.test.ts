import { IMAGES, isUpstreamRegistry, mirrorImage, parseImageReference } from '../../lib/model/images';

describe('parseImageReference', () => {
  test.each([
    ['tomcat:8.5-jre8', { registry: 'docker.io', repository: 'library/tomcat', tag: '8.5-jre8' }],
    ['kubernetesui/dashboard:v2.7.0', { registry: 'docker.io', repository: 'kubernetesui/dashboard', tag: 'v2.7.0' }],
    ['registry.k8s.io/coredns/coredns:v1.10.1', { registry: 'registry.k8s.io', repository: 'coredns/coredns', tag: 'v1.10.1' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['harbor.example.com:8443/java/demo:1.0', { registry: 'harbor.example.com:8443', repository: 'java/demo', tag: '1.0' }],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    [`nginx@sha256:${'a'.repeat(64)}`, { registry: 'docker.io', repository: 'library/nginx', digest: `sha256:${'a'.repeat(64)}` }],
  ])('%s', (ref, expected) => {
    expect(parseImageReference(ref)).toEqual(expected);
  });

  test.each(['', 'Tomcat:8', 'tomcat:', 'a//b', 'tomcat:8 5', 'nginx@sha256:xyz', 42])('rejects %p', (ref) => {
    expect(parseImageReference(ref)).toBeUndefined();
  });
});

describe('mirrorImage', () => {
  const aliyun = 'registry.aliyuncs.com/google_containers';

  test('without a mirror every image stays as written', () => {
    for (const image of Object.values(IMAGES)) expect(mirrorImage(image, undefined)).toBe(image);
  });

  test.each([
    ['registry.k8s.io/coredns/coredns:v1.14.6', `${aliyun}/coredns:v1.14.6`],
    [IMAGES.dashboard, `${aliyun}/dashboard:v2.7.0`],
    [IMAGES.metricsScraper, `${aliyun}/metrics-scraper:v1.0.8`],
    // Same name as on the aliyun mirror, not the ambiguous "controller".
    [IMAGES.ingressNginx, `${aliyun}/nginx-ingress-controller:v1.15.1`],
    ['tomcat:8.5-jre8', `${aliyun}/tomcat:8.5-jre8`],
    ['k8s.gcr.io/pause:3.9', `${aliyun}/pause:3.9`],
    ['quay.io/coreos/flannel:v0.22.0', `${aliyun}/flannel:v0.22.0`],
    [`nginx@sha256:${'b'.repeat(64)}`, `${aliyun}/nginx@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (image, expected) => {
    expect(mirrorImage(image, aliyun)).toBe(expected);
  });

  test('leaves images on private registries alone', () => {
    expect(mirrorImage('harbor.example.com/java/demo:1.0', aliyun)).toBe('harbor.example.com/java/demo:1.0');
    expect(mirrorImage('localhost:5000/demo', aliyun)).toBe('localhost:5000/demo');
  });

  test('tolerates a trailing slash on the mirror', () => {
    expect(mirrorImage('tomcat:9', 'mirror.local:5000/')).toBe('mirror.local:5000/tomcat:9');
  });

  test('rejects a malformed image instead of guessing', () => {
    expect(() => mirrorImage('Not An Image', aliyun)).toThrow(/not a valid image reference/);
  });

  test('knows the upstream registries', () => {
    for (const r of ['docker.io', 'registry.k8s.io', 'k8s.gcr.io', 'gcr.io', 'eu.gcr.io', 'quay.io', 'ghcr.io']) expect(isUpstreamRegistry(r)).toBe(true);
    expect(isUpstreamRegistry('harbor.example.com')).toBe(false);
  });
});
