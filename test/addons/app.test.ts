import { X509Certificate } from 'crypto';
import { ClusterDefinition } from '../../lib/model/definition';
import { SEED as SEED_DEFINITION } from '../support/clusters';
import { find, findOne, maskSecrets, selfSignedCert, synthAddons } from './helpers';

const CHART = '50-app-java-demo';
const withApp = (over: object): ClusterDefinition => ({ ...SEED_DEFINITION, apps: [{ ...SEED_DEFINITION.apps![0], ...over }] });

describe('50-app-java-demo', () => {
  const { manifests, warnings } = synthAddons();
  const objects = manifests.get(CHART)!;
  const deployment = findOne(objects, 'Deployment', 'java-demo');
  const container = deployment.spec.template.spec.containers[0];

  test('snapshot (seed cluster, Secrets masked)', () => {
    expect(maskSecrets(objects)).toMatchSnapshot();
  });

  test('Deployment: image, 3 replicas, resources, IfNotPresent, rolling update', () => {
    expect(deployment.metadata.namespace).toBe('java-demo');
    expect(deployment.spec.replicas).toBe(3);
    expect(container.image).toBe('tomcat:9.0-jre17');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  test('tomcat runs as root and writes its directories: no non-root or read-only root forced', () => {
    expect(container.securityContext).toBeUndefined();
    expect(deployment.spec.template.spec.securityContext).toBeUndefined();
    expect(container.startupProbe).toBeUndefined();
  });

  test('TCP readiness and liveness probes on the container port when the app declares no HTTP path (tomcat answers 404 on / with empty webapps)', () => {
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet).toBeUndefined();
      expect(probe.tcpSocket).toEqual({ port: 8080 });
    }
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  test('Service and Ingress (class nginx) for java.example.com on HTTP and HTTPS', () => {
    const svc = findOne(objects, 'Service', 'java-demo');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
    const ing = findOne(objects, 'Ingress', 'java-demo');
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.rules).toEqual([{
      host: 'java.example.com',
      http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'java-demo', port: { number: 80 } } } }] },
    }]);
    expect(ing.spec.tls).toEqual([{ hosts: ['java.example.com'], secretName: 'java-demo-tls' }]);
    expect(ing.metadata.annotations['nginx.ingress.kubernetes.io/ssl-redirect']).toBe('false');
  });

  test('TLS Secret holds the certificate passed in appTls, with LF line ends', () => {
    const s = findOne(objects, 'Secret', 'java-demo-tls');
    expect(s.type).toBe('kubernetes.io/tls');
    expect(s.stringData['tls.crt']).not.toContain('\r');
    const cert = new X509Certificate(s.stringData['tls.crt']);
    expect(cert.checkHost('java.example.com')).toBe('java.example.com');
    expect(cert.fingerprint256).toBe(new X509Certificate(selfSignedCert('java.example.com').certPem).fingerprint256);
  });

  test('user-supplied TLS Secret: referenced, not written', () => {
    const r = synthAddons(withApp({ tls: { secretName: 'corp-wildcard' } }), { appTls: {} });
    const objs = r.manifests.get(CHART)!;
    expect(find(objs, 'Secret')).toEqual([]);
    expect(findOne(objs, 'Ingress').spec.tls).toEqual([{ hosts: ['java.example.com'], secretName: 'corp-wildcard' }]);
    expect(r.warnings.filter((w) => w.includes('certificate'))).toEqual([]);
  });

  test('no certificate yet: Ingress without TLS and a warning', () => {
    const r = synthAddons(SEED_DEFINITION, { appTls: {} });
    expect(findOne(r.manifests.get(CHART)!, 'Ingress').spec.tls).toBeUndefined();
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/no certificate for java\.example\.com/)]));
  });

  test('a certificate for another host or with the wrong key is refused', () => {
    expect(() => synthAddons(SEED_DEFINITION, { appTls: { 'java-demo': selfSignedCert('other.example.com') } })).toThrow(/does not cover host java\.example\.com/);
    const mixed = { certPem: selfSignedCert('java.example.com').certPem, keyPem: selfSignedCert('other.example.com').keyPem };
    expect(() => synthAddons(SEED_DEFINITION, { appTls: { 'java-demo': mixed } })).toThrow(/key does not belong/);
    expect(() => synthAddons(SEED_DEFINITION, { appTls: { 'java-demo': { certPem: 'nope', keyPem: 'nope' } } })).toThrow(/not a PEM certificate/);
  });

  test('a wildcard host needs a wildcard certificate', () => {
    const def = withApp({ host: '*.apps.example.com', volumes: [] });
    expect(() => synthAddons(def, { appTls: { 'java-demo': selfSignedCert('a.apps.example.com') } })).toThrow(/does not cover host/);
    const objs = synthAddons(def, { appTls: { 'java-demo': selfSignedCert('*.apps.example.com') } }).manifests.get(CHART)!;
    expect(findOne(objs, 'Ingress').spec.tls).toEqual([{ hosts: ['*.apps.example.com'], secretName: 'java-demo-tls' }]);
  });

  test('sslRedirect: true is passed to ingress-nginx', () => {
    const objs = synthAddons(withApp({ sslRedirect: true })).manifests.get(CHART)!;
    expect(findOne(objs, 'Ingress').metadata.annotations['nginx.ingress.kubernetes.io/ssl-redirect']).toBe('true');
  });

  test('no host: no Ingress, no TLS', () => {
    const objs = synthAddons(withApp({ host: undefined })).manifests.get(CHART)!;
    expect(find(objs, 'Ingress')).toEqual([]);
    expect(find(objs, 'Secret')).toEqual([]);
  });

  test('NFS volumes: webapps and logs mounted from their claims, logs per pod', () => {
    expect(deployment.spec.template.spec.volumes).toEqual([
      { name: 'webapps', persistentVolumeClaim: { claimName: 'java-demo-webapps', readOnly: false } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'java-demo-logs', readOnly: false } },
    ]);
    expect(container.volumeMounts).toEqual([
      { name: 'webapps', mountPath: '/usr/local/tomcat/webapps', readOnly: false },
      { name: 'logs', mountPath: '/usr/local/tomcat/logs', readOnly: false, subPathExpr: '$(POD_NAME)' },
    ]);
    expect(container.env).toEqual([{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
    const pv = findOne(objects, 'PersistentVolume', 'java-demo-webapps');
    expect(pv.spec.nfs).toEqual({ server: '192.168.100.40', path: '/data/nfs/java-demo/webapps', readOnly: false });
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Retain');
  });

  test('registry credentials: no env → no pull Secret and a warning', () => {
    expect(find(objects, 'Secret').filter((s) => s.type === 'kubernetes.io/dockerconfigjson')).toEqual([]);
    expect(deployment.spec.template.spec.imagePullSecrets).toBeUndefined();
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/java-demo.*no registry credentials.*KUBESMITH_REGISTRY_AUTH_JAVA_DEMO/)]));
  });

  test('registry credentials in the env → dockerconfigjson Secret used by the pods', () => {
    const r = synthAddons(SEED_DEFINITION, { env: { KUBESMITH_REGISTRY_AUTH_JAVA_DEMO: 'me:throwaway' } });
    const objs = r.manifests.get(CHART)!;
    const s = findOne(objs, 'Secret', 'java-demo-registry');
    expect(s.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(s.stringData['.dockerconfigjson']).auths['https://index.docker.io/v1/'].username).toBe('me');
    expect(findOne(objs, 'Deployment').spec.template.spec.imagePullSecrets).toEqual([{ name: 'java-demo-registry' }]);
    expect(r.warnings.filter((w) => w.includes('registry credentials'))).toEqual([]);
  });

  test('env, probe path, port and resources come from the definition', () => {
    const objs = synthAddons(withApp({
      containerPort: 9090, probePath: '/healthz', env: { JAVA_OPTS: '-Xmx512m' },
      resources: { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } }, volumes: [],
    })).manifests.get(CHART)!;
    const c = findOne(objs, 'Deployment').spec.template.spec.containers[0];
    expect(c.env).toEqual([{ name: 'JAVA_OPTS', value: '-Xmx512m' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 9090, scheme: 'HTTP' });
    expect(c.resources.requests).toEqual({ cpu: '250m', memory: '1Gi' });
    expect(findOne(objs, 'Service').spec.ports[0].targetPort).toBe(9090);
    expect(find(objs, 'PersistentVolume')).toEqual([]);
  });
});
