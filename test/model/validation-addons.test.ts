import { AppDefinition, ClusterDefinition } from '../../lib/model/definition';
import { ClusterModel } from '../../lib/model/cluster-model';
import { ClusterDefinitionError, validateDefinition } from '../../lib/model/validation';
import { SEED as SEED_DEFINITION } from '../support/clusters';

// Rules of the `addons` and `apps` sections (lib/validation.ts, validateAddons).
const seedApp = SEED_DEFINITION.apps![0];
const withAddons = (addons: unknown): ClusterDefinition => ({ ...SEED_DEFINITION, addons: addons as ClusterDefinition['addons'] });
const withApps = (...apps: unknown[]): ClusterDefinition => ({ ...SEED_DEFINITION, apps: apps as AppDefinition[] });
const withApp = (over: Record<string, unknown>) => withApps({ ...seedApp, ...over });
const withVolume = (over: Record<string, unknown>) => withApp({ volumes: [{ ...seedApp.volumes![0], ...over }] });

function expectIssue(def: ClusterDefinition, path: string, value: unknown, message: RegExp): void {
  const issues = validateDefinition(def);
  expect(issues).toEqual(expect.arrayContaining([{ path, value, message: expect.stringMatching(message) }]));
}

test('the seed definition is valid', () => {
  expect(validateDefinition(SEED_DEFINITION)).toEqual([]);
});

test('all problems are reported at once, through ClusterModel.fromDefinition', () => {
  const def = { ...withAddons({ coreDns: { replicas: 0 }, dashboard: { nodePort: 80 } }), apps: [{ ...seedApp, image: 'Bad Image', replicas: -1 }] };
  expect(() => ClusterModel.fromDefinition(def)).toThrow(ClusterDefinitionError);
  try {
    ClusterModel.fromDefinition(def);
  } catch (e) {
    expect((e as ClusterDefinitionError).issues.map((i) => i.path)).toEqual(
      ['addons.coreDns.replicas', 'addons.dashboard.nodePort', 'apps[0].image', 'apps[0].replicas']);
  }
});

describe('addons', () => {
  test('must be an object', () => expectIssue(withAddons('all'), 'addons', 'all', /must be an object/));
  test.each([
    ['coreDns', 'enabled'], ['dashboard', 'enabled'], ['dashboard', 'adminUser'], ['ingressNginx', 'enabled'],
  ])('%s.%s must be a boolean', (addon, field) => {
    expectIssue(withAddons({ [addon]: { [field]: 'yes' } }), `addons.${addon}.${field}`, 'yes', /true or false/);
  });
  test.each([0, 1.5, -2])('coreDns.replicas %p is not a positive whole number', (replicas) => {
    expectIssue(withAddons({ coreDns: { replicas } }), 'addons.coreDns.replicas', replicas, /positive whole number/);
  });
  test('dashboard.nodePort must lie inside network.nodePortRange', () => {
    expectIssue(withAddons({ dashboard: { nodePort: 50001 } }), 'addons.dashboard.nodePort', 50001, /outside network.nodePortRange 30000-50000/);
  });
  test('the default dashboard nodePort is checked against a custom range too', () => {
    const def = { ...SEED_DEFINITION, addons: undefined, network: { ...SEED_DEFINITION.network, nodePortRange: '31000-32000' } };
    expectIssue(def, 'addons.dashboard.nodePort', 30001, /outside network.nodePortRange 31000-32000/);
    expect(validateDefinition({ ...def, addons: { dashboard: { enabled: false } } })).toEqual([]);
  });
  test('dashboard.nodePort must be a whole number', () => {
    expectIssue(withAddons({ dashboard: { nodePort: '30001' } }), 'addons.dashboard.nodePort', '30001', /not a port number/);
  });
  test.each(['nodeSelector', 'config'])('ingressNginx.%s must be an object', (field) => {
    expectIssue(withAddons({ ingressNginx: { [field]: 'ingress=true' } }), `addons.ingressNginx.${field}`, 'ingress=true', /must be an object/);
  });
  test('adminUser needs the dashboard', () => {
    expectIssue(withAddons({ dashboard: { enabled: false, adminUser: true } }), 'addons.dashboard.adminUser', true, /needs the dashboard/);
  });
  test('ingressNginx.nodeSelector keys and values are labels', () => {
    expectIssue(withAddons({ ingressNginx: { nodeSelector: { 'bad key!': 'x' } } }), 'addons.ingressNginx.nodeSelector["bad key!"]', 'bad key!', /not a label key/);
    expectIssue(withAddons({ ingressNginx: { nodeSelector: { ingress: 'yes please' } } }), 'addons.ingressNginx.nodeSelector["ingress"]', 'yes please', /not a label value/);
    expect(validateDefinition(withAddons({ ingressNginx: { nodeSelector: { 'node-role.kubernetes.io/ingress': '' } } }))).toEqual([]);
  });
  test('ingressNginx.config keys are ConfigMap keys and values strings', () => {
    expectIssue(withAddons({ ingressNginx: { config: { 'a b': 'x' } } }), 'addons.ingressNginx.config["a b"]', 'a b', /not a ConfigMap key/);
    expectIssue(withAddons({ ingressNginx: { config: { 'use-forwarded-headers': true } } }), 'addons.ingressNginx.config["use-forwarded-headers"]', true, /must be a string/);
  });
  test('bootstrapToken.extraGroups: a list of system:bootstrappers:<name>, no duplicates', () => {
    expectIssue(withAddons({ bootstrapToken: { extraGroups: 'system:bootstrappers:a' } }), 'addons.bootstrapToken.extraGroups', 'system:bootstrappers:a', /must be a list/);
    expectIssue(withAddons({ bootstrapToken: { extraGroups: ['system:masters'] } }), 'addons.bootstrapToken.extraGroups[0]', 'system:masters', /not a bootstrap group/);
    expectIssue(withAddons({ bootstrapToken: { extraGroups: ['system:bootstrappers:a', 'system:bootstrappers:a'] } }), 'addons.bootstrapToken.extraGroups[1]', 'system:bootstrappers:a', /listed twice/);
  });
});

describe('apps', () => {
  test('must be a list', () => expectIssue({ ...SEED_DEFINITION, apps: {} as never }, 'apps', {}, /must be a list/));
  test.each(['Java', '1java', 'java_demo', ''])('name %p must be an RFC 1035 label', (name) => {
    expectIssue(withApp({ name }), 'apps[0].name', name, /RFC 1035 label/);
  });
  test('names are unique', () => {
    expectIssue(withApps(seedApp, { ...seedApp, host: 'other.example.com', volumes: [] }), 'apps[1].name', 'java-demo', /duplicates apps\[0\]\.name/);
  });
  test('namespace must be a label and not reserved, also when defaulted from the name', () => {
    expectIssue(withApp({ namespace: 'Java' }), 'apps[0].namespace', 'Java', /RFC 1123 label/);
    expectIssue(withApp({ namespace: 'kube-system' }), 'apps[0].namespace', 'kube-system', /reserved/);
    expectIssue(withApps({ name: 'ingress-nginx', image: 'nginx:1' }), 'apps[0].namespace', undefined, /defaults to the app name "ingress-nginx", which is reserved/);
  });
  test.each(['', 'Tomcat:8', 'tomcat:8 5', 42])('image %p must be an image reference', (image) => {
    expectIssue(withApp({ image }), 'apps[0].image', image, /not an image reference/);
  });
  test.each(['useImageRegistry', 'sslRedirect'])('%s must be a boolean', (field) => {
    expectIssue(withApp({ [field]: 'no' }), `apps[0].${field}`, 'no', /true or false/);
  });
  test.each([-1, 2.5, '3'])('replicas %p must be a whole number >= 0', (replicas) => {
    expectIssue(withApp({ replicas }), 'apps[0].replicas', replicas, /whole number of 0 or more/);
  });
  test.each([0, 70000, '8080'])('containerPort %p must be a port', (containerPort) => {
    expectIssue(withApp({ containerPort }), 'apps[0].containerPort', containerPort, /not a port/);
  });
  test.each(['healthz', '/a b'])('probePath %p must be a URL path', (probePath) => {
    expectIssue(withApp({ probePath }), 'apps[0].probePath', probePath, /not a URL path/);
  });
  test('resources must be positive quantities', () => {
    expectIssue(withApp({ resources: { requests: { cpu: 'lots' } } }), 'apps[0].resources.requests.cpu', 'lots', /positive Kubernetes quantity/);
    expectIssue(withApp({ resources: { limits: { memory: '0' } } }), 'apps[0].resources.limits.memory', '0', /positive Kubernetes quantity/);
  });
  test('a request may not exceed its limit, including the defaults', () => {
    expectIssue(withApp({ resources: { requests: { memory: '2Gi' } } }), 'apps[0].resources.requests.memory', '2Gi', /exceeds the limit 1Gi/);
    expectIssue(withApp({ resources: { limits: { cpu: '100m' } } }), 'apps[0].resources.requests.cpu', '250m', /exceeds the limit 100m/);
  });
  test('env must be an object', () => {
    expectIssue(withApp({ env: ['JAVA_OPTS=-Xmx1g'] }), 'apps[0].env', ['JAVA_OPTS=-Xmx1g'], /must be an object/);
  });
  test('env names are valid and values strings', () => {
    expectIssue(withApp({ env: { '1ABC': 'x' } }), 'apps[0].env["1ABC"]', '1ABC', /not an environment variable name/);
    expectIssue(withApp({ env: { PORT: 8080 } }), 'apps[0].env["PORT"]', 8080, /must be a string/);
  });
  test('POD_NAME is kubesmith\'s when a volume is per pod', () => {
    expectIssue(withApp({ env: { POD_NAME: 'x' } }), 'apps[0].env["POD_NAME"]', 'x', /set by kubesmith/);
  });
  test('host must be a DNS name, once per cluster, and needs the ingress controller', () => {
    expectIssue(withApp({ host: 'Java.Example.com' }), 'apps[0].host', 'Java.Example.com', /not a DNS name/);
    expectIssue(withApps(seedApp, { name: 'other', image: 'nginx:1', host: seedApp.host }), 'apps[1].host', 'java.example.com', /already served by apps\[0\]/);
    expectIssue({ ...withApps(seedApp), addons: { ingressNginx: { enabled: false } } }, 'apps[0].host', 'java.example.com', /needs the ingress controller/);
  });
  test('tls.secretName must be a Secret name, and TLS needs a host', () => {
    expectIssue(withApp({ tls: { secretName: 'My_Cert' } }), 'apps[0].tls.secretName', 'My_Cert', /not a Secret name/);
    expectIssue(withApp({ host: undefined, tls: {} }), 'apps[0].tls', {}, /has no host/);
  });
});

describe('apps[].volumes', () => {
  test('must be a list', () => expectIssue(withApp({ volumes: 'nfs' }), 'apps[0].volumes', 'nfs', /must be a list/));
  test('name must be a label, unique in the app', () => {
    expectIssue(withVolume({ name: 'Web Apps' }), 'apps[0].volumes[0].name', 'Web Apps', /RFC 1123 label/);
    expectIssue(withApp({ volumes: [seedApp.volumes![0], { ...seedApp.volumes![1], name: 'webapps' }] }), 'apps[0].volumes[1].name', 'webapps', /duplicates apps\[0\]\.volumes\[0\]\.name/);
  });
  test('PersistentVolume names may not collide across apps', () => {
    const a = { name: 'java', image: 'tomcat:9', volumes: [{ ...seedApp.volumes![0], name: 'demo-logs' }] };
    const b = { name: 'java-demo', image: 'tomcat:9', volumes: [{ ...seedApp.volumes![1], name: 'logs', perPod: false }] };
    expectIssue(withApps(a, b), 'apps[1].volumes[0].name', 'logs', /PersistentVolume name "java-demo-logs"/);
  });
  test.each(['relative/dir', '/', '/a/../b'])('mountPath %p must be an absolute directory', (mountPath) => {
    expectIssue(withVolume({ mountPath }), 'apps[0].volumes[0].mountPath', mountPath, /absolute directory/);
  });
  test('mountPath is mounted once', () => {
    expectIssue(withApp({ volumes: [seedApp.volumes![0], { ...seedApp.volumes![1], mountPath: '/usr/local/tomcat/webapps/' }] }),
      'apps[0].volumes[1].mountPath', '/usr/local/tomcat/webapps/', /already mounted/);
  });
  test.each(['', 'nfs server', '300.1.1.1', '192.168.100'])('server %p must be an address or host name', (server) => {
    expectIssue(withVolume({ server }), 'apps[0].volumes[0].server', server, /not an NFS server address/);
  });
  test('path must be absolute', () => expectIssue(withVolume({ path: 'data/nfs' }), 'apps[0].volumes[0].path', 'data/nfs', /absolute export path/));
  test.each(['5GB', '0', 'big'])('size %p must be a positive quantity', (size) => {
    expectIssue(withVolume({ size }), 'apps[0].volumes[0].size', size, /positive storage quantity/);
  });
  test('accessMode must be a PV access mode', () => {
    expectIssue(withVolume({ accessMode: 'ReadWriteOncePod' }), 'apps[0].volumes[0].accessMode', 'ReadWriteOncePod', /ReadWriteMany, ReadOnlyMany, ReadWriteOnce/);
  });
  test.each(['readOnly', 'perPod'])('%s must be a boolean', (field) => {
    expectIssue(withVolume({ [field]: 1 }), `apps[0].volumes[0].${field}`, 1, /true or false/);
  });
  test('mountOptions are single options', () => {
    expectIssue(withVolume({ mountOptions: ['nfsvers=4.1,hard'] }), 'apps[0].volumes[0].mountOptions', ['nfsvers=4.1,hard'], /single NFS options/);
    expect(validateDefinition(withVolume({ mountOptions: ['nfsvers=4.1', 'hard'] }))).toEqual([]);
  });
});
