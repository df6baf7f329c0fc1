import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { apiWatchers } from '../../lib/addons';
import { ClusterModel } from '../../lib/model/cluster-model';
import { ClusterDefinition } from '../../lib/model/definition';
import { SEED as SEED_DEFINITION } from '../support/clusters';
import { Manifest, find, imagesOf, k8sSchemaProblems, registryHost, synthAddons, synthToDir } from './helpers';
import {
  anonymousBindingProblems, applyOrderProblems, bindingProblems, probeProblems, referenceProblems, selectorProblems,
} from './invariants';

const MIRROR = 'registry.aliyuncs.com/google_containers';

/** The seed plus variants that switch on every optional object. */
const VARIANTS: Record<string, { def: ClusterDefinition; env?: Record<string, string> }> = {
  'seed': { def: SEED_DEFINITION },
  'everything on, behind a mirror': {
    def: {
      ...SEED_DEFINITION,
      imageRegistry: MIRROR,
      network: { ...SEED_DEFINITION.network, serviceCidr: '10.96.0.0/12', clusterDns: '10.96.0.10' },
      addons: {
        coreDns: { replicas: 3 },
        dashboard: { nodePort: 30443, adminUser: true },
        ingressNginx: { nodeSelector: { ingress: 'true' }, config: { 'proxy-body-size': '50m' } },
        bootstrapToken: { extraGroups: ['system:bootstrappers:kubesmith'] },
      },
      apps: [
        { ...SEED_DEFINITION.apps![0], sslRedirect: true, env: { JAVA_OPTS: '-Xms256m' } },
        {
          name: 'shop', namespace: 'default', image: 'harbor.example.com/shop/web:2.1', replicas: 2, containerPort: 8000,
          host: 'shop.example.com', tls: { secretName: 'shop-wildcard' },
          volumes: [{ name: 'static', mountPath: '/srv/static', server: 'nfs.example.com', path: '/exports/shop', accessMode: 'ReadOnlyMany', readOnly: true, mountOptions: ['nfsvers=4.1'] }],
        },
        { name: 'worker', image: 'busybox:1.36' },
      ],
    },
    env: { KUBESMITH_REGISTRY_AUTH_JAVA_DEMO: 'me:throwaway', KUBESMITH_REGISTRY_AUTH_SHOP: 'robot:throwaway' },
  },
  'addons off, no apps': {
    def: { ...SEED_DEFINITION, addons: { coreDns: { enabled: false }, dashboard: { enabled: false }, ingressNginx: { enabled: false } }, apps: [] },
  },
};

describe.each(Object.entries(VARIANTS))('%s', (_name, { def, env }) => {
  const { all } = synthAddons(def, { env: env ?? {} });

  test('every object is valid against the Kubernetes 1.27 schema', () => {
    expect(all.length).toBeGreaterThan(0);
    expect(all.flatMap(k8sSchemaProblems)).toEqual([]);
  });

  test('the workloads whose pods talk to the API (a token mounted) are the ones a restore restarts (apiWatchers)', () => {
    const talking = all.filter((m) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(m.kind))
      .filter((m) => m.spec.template.spec.automountServiceAccountToken !== false)
      .map((m) => `${m.kind.toLowerCase()} ${m.metadata.namespace}/${m.metadata.name}`).sort();
    const watchers = apiWatchers(ClusterModel.fromDefinition(def).addons).map((w) => `${w.kind} ${w.namespace}/${w.name}`).sort();
    expect(watchers).toEqual(talking);
  });

  test('selectors match pod labels; Service targetPorts are container ports', () => {
    expect(selectorProblems(all)).toEqual([]);
  });

  test('probe ports are container ports', () => {
    expect(probeProblems(all)).toEqual([]);
  });

  test('every PVC binds to its PV', () => {
    expect(bindingProblems(all)).toEqual([]);
  });

  test('nothing is bound to system:anonymous or system:unauthenticated', () => {
    expect(anonymousBindingProblems(all)).toEqual([]);
  });

  test('referenced ServiceAccounts, ConfigMaps, Secrets, Services and IngressClasses exist', () => {
    expect(referenceProblems(all)).toEqual([]);
  });

  test('no cdk8s-plus defaults leak in: explicit pull policy, no hashed selectors', () => {
    for (const w of all.filter((o) => o.spec?.template?.spec)) {
      for (const c of w.spec.template.spec.containers) expect(c.imagePullPolicy).toBe('IfNotPresent');
      expect(JSON.stringify(w.spec.selector)).not.toMatch(/cdk8s\.io/);
    }
  });
});

describe('image registry override', () => {
  const { all } = synthAddons(VARIANTS['everything on, behind a mirror'].def);
  const images = imagesOf(all);

  test('leaves no image on registry.k8s.io, k8s.gcr.io, gcr.io or docker.io', () => {
    expect(images.length).toBeGreaterThanOrEqual(6);
    const upstream = images.filter((i) => ['registry.k8s.io', 'k8s.gcr.io', 'gcr.io', 'docker.io'].includes(registryHost(i)) || registryHost(i).endsWith('.gcr.io'));
    expect(upstream).toEqual([]);
  });

  test('mirrors addon and public app images; the private app image stays', () => {
    expect(images).toEqual(expect.arrayContaining([
      `${MIRROR}/coredns:v1.14.6`, `${MIRROR}/dashboard:v2.7.0`, `${MIRROR}/metrics-scraper:v1.0.8`,
      `${MIRROR}/nginx-ingress-controller:v1.15.1`, `${MIRROR}/tomcat:9.0-jre17`, `${MIRROR}/busybox:1.36`,
      'harbor.example.com/shop/web:2.1',
    ]));
  });

  test('without a mirror the seed uses upstream images', () => {
    expect(imagesOf(synthAddons().all).map(registryHost)).toEqual(expect.arrayContaining(['registry.k8s.io', 'docker.io']));
  });
});

describe('files written by cdk8s synth', () => {
  const read = (dir: string, files: string[]) => files.map((name) => ({
    name,
    objects: parseAllDocuments(fs.readFileSync(path.join(dir, name), 'utf8')).map((d) => d.toJSON() as Manifest).filter(Boolean),
  }));

  test('are named by chart id and sort into a working apply order', () => {
    const { dir, files } = synthToDir();
    expect(files.sort()).toEqual([
      '00-namespaces.yaml', '10-rbac.yaml', '20-coredns.yaml', '30-dashboard.yaml', '40-ingress-nginx.yaml', '50-app-java-demo.yaml',
    ]);
    expect(applyOrderProblems(read(dir, files))).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });

  test('keep their names with several apps (no chart dependencies, so no index prefix)', () => {
    const { dir, files } = synthToDir(VARIANTS['everything on, behind a mirror'].def, { env: VARIANTS['everything on, behind a mirror'].env });
    expect(files.sort()).toEqual([
      '00-namespaces.yaml', '10-rbac.yaml', '20-coredns.yaml', '30-dashboard.yaml', '40-ingress-nginx.yaml',
      '50-app-java-demo.yaml', '50-app-shop.yaml', '50-app-worker.yaml',
    ]);
    expect(applyOrderProblems(read(dir, files))).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('the invariant checks catch broken manifests', () => {
  const { all } = synthAddons(VARIANTS['everything on, behind a mirror'].def);
  const clone = () => structuredClone(all) as Manifest[];
  const one = (objs: Manifest[], kind: string, name: string) => find(objs, kind, name)[0];

  test('selector not matching the pod labels', () => {
    const objs = clone();
    one(objs, 'DaemonSet', 'ingress-nginx-controller').spec.selector.matchLabels['app.kubernetes.io/name'] = 'other';
    expect(selectorProblems(objs).join()).toMatch(/does not match its pod labels/);
  });

  test('Service selecting nothing, or a wrong targetPort', () => {
    const objs = clone();
    one(objs, 'Service', 'kube-dns').spec.selector = { 'k8s-app': 'kube-dns-typo' };
    one(objs, 'Service', 'java-demo').spec.ports[0].targetPort = 8081;
    const problems = selectorProblems(objs).join('\n');
    expect(problems).toMatch(/kube-dns: selector .* matches no pods/);
    expect(problems).toMatch(/java-demo: targetPort 8081/);
  });

  test('probe on an undeclared port', () => {
    const objs = clone();
    one(objs, 'Deployment', 'coredns').spec.template.spec.containers[0].ports.pop();
    expect(probeProblems(objs).join()).toMatch(/readinessProbe port 8181/);
  });

  test('claim that does not bind to its volume', () => {
    for (const breakIt of [
      (o: Manifest[]) => { one(o, 'PersistentVolumeClaim', 'java-demo-logs').spec.resources.requests.storage = '20Gi'; },
      (o: Manifest[]) => { delete one(o, 'PersistentVolumeClaim', 'java-demo-logs').spec.storageClassName; },
      (o: Manifest[]) => { one(o, 'PersistentVolumeClaim', 'java-demo-logs').spec.accessModes = ['ReadWriteOnce']; },
      (o: Manifest[]) => { one(o, 'PersistentVolume', 'java-demo-logs').spec.claimRef.namespace = 'default'; },
      (o: Manifest[]) => { one(o, 'PersistentVolumeClaim', 'java-demo-logs').spec.volumeName = 'nope'; },
    ]) {
      const objs = clone();
      breakIt(objs);
      expect(bindingProblems(objs)).not.toEqual([]);
    }
  });

  test('binding to system:anonymous (the tutorial\'s mistake)', () => {
    const objs = clone();
    objs.push({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'cluster-system-anonymous' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:anonymous' }],
    });
    expect(anonymousBindingProblems(objs)).toEqual(['ClusterRoleBinding cluster-system-anonymous: binds cluster-admin to system:anonymous']);
  });

  test('dangling references', () => {
    const objs = clone().filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === 'coredns'));
    one(objs, 'Ingress', 'java-demo').spec.ingressClassName = 'traefik';
    const problems = referenceProblems(objs).join('\n');
    expect(problems).toMatch(/ConfigMap coredns missing/);
    expect(problems).toMatch(/IngressClass traefik missing/);
  });

  test('namespaced object applied before its Namespace', () => {
    const objs = clone();
    const ns = objs.filter((o) => o.kind === 'Namespace');
    const rest = objs.filter((o) => o.kind !== 'Namespace');
    expect(applyOrderProblems([{ name: '00-all.yaml', objects: [...rest, ...ns] }])).not.toEqual([]);
    expect(applyOrderProblems([{ name: '99-namespaces.yaml', objects: ns }, { name: '10-rest.yaml', objects: rest }])).not.toEqual([]);
    expect(applyOrderProblems([{ name: '00-namespaces.yaml', objects: ns }, { name: '10-rest.yaml', objects: rest }])).toEqual([]);
  });
});

describe('warnings', () => {
  test('one per app without registry credentials, none when they are given', () => {
    const def = VARIANTS['everything on, behind a mirror'].def;
    const none = synthAddons(def).warnings.filter((w) => w.includes('no registry credentials'));
    expect(none).toHaveLength(3);
    const some = synthAddons(def, { env: VARIANTS['everything on, behind a mirror'].env }).warnings.filter((w) => w.includes('no registry credentials'));
    expect(some).toEqual([expect.stringContaining('app "worker"')]);
  });
});
