import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ResolvedApp } from '../model';
import { CHART_PROPS, fieldEnv, httpProbe, int, quantity } from './common';
import { INGRESS_CLASS } from './ingress-nginx';

export interface AppChartProps {
  readonly app: ResolvedApp;
  /** docker config.json for the pull Secret; none → no Secret. */
  readonly dockerConfigJson?: string;
  /** Certificate and key for `<app>-tls`, required when app.tls.issued. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
}

const SERVICE_PORT = 80;

/**
 * `50-app-<name>`: a web app (the tutorial's tomcat project) with its pull Secret, NFS
 * volumes pre-bound to their claims, Deployment, Service and Ingress on HTTP and HTTPS.
 */
export class AppChart extends Chart {
  constructor(scope: Construct, props: AppChartProps) {
    const app = props.app;
    super(scope, app.chartId, CHART_PROPS);
    const ns = app.namespace;
    const selector = { 'app.kubernetes.io/name': app.name };
    const labels = { ...selector, 'app.kubernetes.io/part-of': app.name };

    if (props.dockerConfigJson !== undefined) {
      new kplus.Secret(this, 'pull-secret', {
        metadata: { name: app.pullSecretName, namespace: ns, labels },
        type: 'kubernetes.io/dockerconfigjson',
        stringData: { '.dockerconfigjson': props.dockerConfigJson },
      });
    }
    if (app.tls?.issued && props.tls) {
      new kplus.TlsSecret(this, 'tls-secret', {
        metadata: { name: app.tls.secretName, namespace: ns, labels },
        // CRLF PEMs (node-forge writes them) would turn into unreadable YAML.
        tlsCert: props.tls.certPem.replace(/\r\n/g, '\n'),
        tlsKey: props.tls.keyPem.replace(/\r\n/g, '\n'),
      });
    }

    // Pre-bound both ways (claimRef + volumeName, storageClassName ""): no provisioner, no other claim.
    for (const v of app.volumes) {
      new k8s.KubePersistentVolume(this, `pv-${v.name}`, {
        metadata: { name: v.pvName, labels },
        spec: {
          capacity: { storage: quantity(v.size) },
          accessModes: [v.accessMode],
          volumeMode: 'Filesystem',
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: '',
          ...(v.mountOptions.length > 0 ? { mountOptions: [...v.mountOptions] } : {}),
          nfs: { server: v.server, path: v.path, readOnly: v.readOnly },
          claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: v.pvName },
        },
      });
      new k8s.KubePersistentVolumeClaim(this, `pvc-${v.name}`, {
        metadata: { name: v.pvName, namespace: ns, labels },
        spec: {
          accessModes: [v.accessMode],
          volumeMode: 'Filesystem',
          storageClassName: '',
          volumeName: v.pvName,
          resources: { requests: { storage: quantity(v.size) } },
        },
      });
    }

    const perPod = app.volumes.some((v) => v.perPod);
    const env: k8s.EnvVar[] = [
      ...(perPod ? [fieldEnv('POD_NAME', 'metadata.name')] : []),
      ...Object.entries(app.env).map(([name, value]) => ({ name, value })),
    ];
    new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: app.name, namespace: ns, labels },
      spec: {
        replicas: app.replicas,
        revisionHistoryLimit: 10,
        selector: { matchLabels: selector },
        // Start a new pod before stopping an old one: no capacity dip during a rollout.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: int(1), maxUnavailable: int(0) } },
        template: {
          metadata: { labels },
          spec: {
            // The app never talks to the apiserver.
            automountServiceAccountToken: false,
            ...(props.dockerConfigJson !== undefined ? { imagePullSecrets: [{ name: app.pullSecretName }] } : {}),
            containers: [{
              name: app.name,
              image: app.image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: app.containerPort, protocol: 'TCP' }],
              ...(env.length > 0 ? { env } : {}),
              resources: {
                requests: { cpu: quantity(app.requests.cpu), memory: quantity(app.requests.memory) },
                limits: { cpu: quantity(app.limits.cpu), memory: quantity(app.limits.memory) },
              },
              // The JVM needs a while before the first answer.
              readinessProbe: appProbe(app, { initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 3 }),
              livenessProbe: appProbe(app, { initialDelaySeconds: 60, periodSeconds: 10, failureThreshold: 3 }),
              ...(app.volumes.length > 0 ? {
                volumeMounts: app.volumes.map((v) => ({
                  name: v.name,
                  mountPath: v.mountPath,
                  readOnly: v.readOnly,
                  ...(v.perPod ? { subPathExpr: '$(POD_NAME)' } : {}),
                })),
              } : {}),
            }],
            ...(app.volumes.length > 0 ? {
              volumes: app.volumes.map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: v.pvName, readOnly: v.readOnly } })),
            } : {}),
          },
        },
      },
    });

    const service = new kplus.Service(this, 'service', {
      metadata: { name: app.name, namespace: ns, labels },
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: app.containerPort }],
    });
    for (const [k, v] of Object.entries(selector)) service.selectLabel(k, v);

    if (app.host !== undefined) {
      new kplus.Ingress(this, 'ingress', {
        metadata: {
          name: app.name,
          namespace: ns,
          labels,
          annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': String(app.sslRedirect) },
        },
        className: INGRESS_CLASS,
        rules: [{
          host: app.host,
          path: '/',
          pathType: kplus.HttpIngressPathType.PREFIX,
          backend: kplus.IngressBackend.fromService(service, { port: SERVICE_PORT }),
        }],
        ...(app.tls && (props.tls || !app.tls.issued) ? {
          tls: [{ hosts: [app.host], secret: kplus.Secret.fromSecretName(this, 'tls-ref', app.tls.secretName) }],
        } : {}),
      });
    }
  }
}

/** An HTTP GET of the app's probe path when it declares one; otherwise a TCP connect to its port. */
function appProbe(app: ResolvedApp, timing: Omit<k8s.Probe, 'httpGet' | 'tcpSocket'>): k8s.Probe {
  return app.probePath !== undefined
    ? httpProbe(app.probePath, app.containerPort, timing)
    : { tcpSocket: { port: int(app.containerPort) }, ...timing };
}
