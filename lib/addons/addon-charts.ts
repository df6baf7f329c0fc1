import { X509Certificate, createPrivateKey } from 'crypto';
import { App, Chart } from 'cdk8s';
import { ClusterModel, ResolvedApp } from '../model';
import { ClusterPki, appCertOf } from '../pki';

import { AppChart } from './app';
import { CoreDnsChart } from './coredns';
import { DashboardChart } from './dashboard';
import { IngressNginxChart } from './ingress-nginx';
import { NamespacesChart } from './namespaces';
import { BootstrapTokenSecret, RbacChart } from './rbac';
import { resolveRegistryAuth } from './registry-auth';

export interface AddonsProps {
  readonly model: ClusterModel;
  /** Token kubelets bootstrap with; written as kube-system Secret bootstrap-token-<id>. */
  readonly bootstrapToken: BootstrapTokenSecret;
  /** Certificate (for the app's host, issued by the cluster CA) and key, by app name. */
  readonly appTls?: Record<string, { readonly certPem: string; readonly keyPem: string }>;
  /** Receives non-fatal problems (missing registry credentials or certificates). @default console.warn */
  readonly warn?: (msg: string) => void;
  /** Where registry credentials are read from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Adds one chart per addon to `app`, ids sorting into a working `kubectl apply -f` order:
 * 00-namespaces, 10-rbac, 20-coredns, 30-dashboard, 40-ingress-nginx, 50-app-<name>.
 * Charts never reference each other, so cdk8s keeps the file names equal to the ids.
 */
export function addAddonCharts(app: App, props: AddonsProps): Chart[] {
  const warn = props.warn ?? ((msg: string) => console.warn(`warning: ${msg}`));
  const env = props.env ?? process.env;
  const model = props.model;
  const addons = model.addons;

  const charts: Chart[] = [
    new NamespacesChart(app, addons.namespaces),
    new RbacChart(app, { clusterName: model.name, bootstrapToken: props.bootstrapToken, extraGroups: addons.bootstrapToken.extraGroups }),
  ];
  if (addons.coreDns.enabled) {
    charts.push(new CoreDnsChart(app, {
      image: addons.coreDns.image,
      replicas: addons.coreDns.replicas,
      clusterDns: model.network.clusterDns,
      dnsDomain: model.network.dnsDomain,
      serviceCidr: model.network.serviceCidr,
      podCidr: model.network.podCidr,
    }));
  }
  if (addons.dashboard.enabled) charts.push(new DashboardChart(app, addons.dashboard));
  if (addons.ingressNginx.enabled) charts.push(new IngressNginxChart(app, addons.ingressNginx));

  for (const a of model.apps) {
    const auth = resolveRegistryAuth(a.name, a.image, env);
    if ('warning' in auth) warn(auth.warning);
    const tls = props.appTls && Object.hasOwn(props.appTls, a.name) ? props.appTls[a.name] : undefined;
    if (a.tls?.issued) {
      if (tls) checkAppCertificate(a, tls);
      else warn(`app "${a.name}": no certificate for ${a.host} in appTls, so its Ingress has no TLS section and HTTPS gets ingress-nginx's self-signed default certificate`);
    }
    charts.push(new AppChart(app, { app: a, dockerConfigJson: 'dockerConfigJson' in auth ? auth.dockerConfigJson : undefined, tls }));
  }
  return charts;
}

/** A certificate that does not match the host or key would be served anyway; refuse it. */
function checkAppCertificate(app: ResolvedApp, tls: { readonly certPem: string; readonly keyPem: string }): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.certPem);
  } catch {
    throw new Error(`appTls["${app.name}"].certPem is not a PEM certificate`);
  }
  let key;
  try {
    key = createPrivateKey(tls.keyPem);
  } catch {
    throw new Error(`appTls["${app.name}"].keyPem is not a PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) throw new Error(`appTls["${app.name}"]: the key does not belong to the certificate`);
  // A wildcard host needs a wildcard certificate: probe it with a name only a wildcard matches.
  if (cert.checkHost(app.host!.replace(/^\*\./, 'kubesmith-wildcard-check.')) === undefined) {
    throw new Error(`appTls["${app.name}"]: the certificate (${cert.subjectAltName ?? cert.subject}) does not cover host ${app.host}`);
  }
}

/** The certificates kubesmith issued for apps' Ingress hosts (the PKI's per-app list), by app name. */
export function issuedAppTls(model: ClusterModel, pki: ClusterPki): Record<string, { readonly certPem: string; readonly keyPem: string }> {
  return Object.fromEntries(model.apps.flatMap((a) => {
    const id = appCertOf(a);
    return id ? [[a.name, pki.cert(id, a.name)]] : [];
  }));
}
