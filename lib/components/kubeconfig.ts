import type * as YAML from 'yaml';
import { ClusterModel } from '../model';
import {
  CertId, ClusterPki, certPath, keyPath, userOf,
} from '../pki';
import { KubeconfigSpec } from './component-list';

export interface KubeconfigProps {
  readonly clusterName: string;
  readonly server: string;
  /** PEM of the CA that signed the apiserver certificate, embedded. */
  readonly caPem: string;
  readonly user: string;
  /** Client certificate and key: file paths on the host, or PEM to embed. */
  readonly clientCert?: { readonly certPath: string; readonly keyPath: string } | { readonly certPem: string; readonly keyPem: string };
  /** Bearer token (bootstrap kubeconfig). */
  readonly token?: string;
}

/** Every node gets the same kubeconfigs (bootstrap, kube-proxy): render each once. */
const rendered = new Map<string, string>();

/** A kubeconfig with one cluster, one user and one current context. */
export function renderKubeconfig(p: KubeconfigProps): string {
  const key = JSON.stringify(p);
  let text = rendered.get(key);
  if (text === undefined) {
    text = render(p);
    rendered.set(key, text);
  }
  return text;
}

function render(p: KubeconfigProps): string {
  // yaml loads on first use, not with the library (synth loads it while keys generate).
  const { stringify } = require('yaml') as typeof YAML;
  const user: Record<string, string> = {};
  if (p.clientCert && 'certPath' in p.clientCert) {
    user['client-certificate'] = p.clientCert.certPath;
    user['client-key'] = p.clientCert.keyPath;
  } else if (p.clientCert) {
    user['client-certificate-data'] = Buffer.from(p.clientCert.certPem).toString('base64');
    user['client-key-data'] = Buffer.from(p.clientCert.keyPem).toString('base64');
  }
  if (p.token) user.token = p.token;
  const context = `${p.user}@${p.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: p.clusterName, cluster: { 'certificate-authority-data': Buffer.from(p.caPem).toString('base64'), server: p.server } }],
    users: [{ name: p.user, user }],
    contexts: [{ name: context, context: { cluster: p.clusterName, user: p.user } }],
    'current-context': context,
  });
}

/** How a kubeconfig authenticates: a certificate of the table (files on the host, or embedded), or a token. */
export type KubeconfigIdentity =
  | { readonly identity: CertId; readonly server: 'local' | 'endpoint'; readonly embed?: false }
  | { readonly identity: CertId; readonly server: 'local' | 'endpoint'; readonly embed: true; readonly pki: ClusterPki }
  | { readonly user: string; readonly token: string; readonly server: 'local' | 'endpoint' };

/**
 * The kubeconfig of a component row (or the admin): cluster CA embedded, the apiserver it dials, and the user
 * named by its certificate's common name.
 */
export function kubeconfigFor(model: ClusterModel, caPem: string, who: KubeconfigIdentity | KubeconfigSpec): string {
  const server = who.server === 'local' ? model.localApiServerUrl : model.apiServerEndpoint;
  if ('token' in who) return renderKubeconfig({ clusterName: model.name, server, caPem, user: who.user, token: who.token });
  const clientCert = 'embed' in who && who.embed
    ? { certPem: who.pki.cert(who.identity).certPem, keyPem: who.pki.cert(who.identity).keyPem }
    : { certPath: certPath(who.identity), keyPath: keyPath(who.identity) };
  return renderKubeconfig({ clusterName: model.name, server, caPem, user: userOf(who.identity), clientCert });
}
