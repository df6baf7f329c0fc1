import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { Cluster } from '../lib/cluster';
import { renderKubeconfig } from '../lib/kubeconfig';
import { PATHS } from '../lib/paths';
import { certSpec } from '../lib/pki/cert-list';
import { optionFileService, renderOptionFile, renderUnit } from '../lib/systemd-unit';

import { addKubernetesComponent } from './kubernetes-component';

export const KUBE_PROXY = {
  unit: 'kube-proxy.service',
  binary: `${PATHS.k8sBin}/kube-proxy`,
  optionFile: `${PATHS.k8sCfg}/kube-proxy`,
  optionVariable: 'KUBE_PROXY_OPTS',
  config: `${PATHS.k8sCfg}/kube-proxy-config.yaml`,
  kubeconfig: `${PATHS.k8sCfg}/kube-proxy.kubeconfig`,
  metricsPort: 10249,
} as const;

export interface KubeProxyProps {
  /**
   * Scheduler of IPVS virtual servers (ipvs mode only).
   * @default 'rr'
   */
  readonly ipvsScheduler?: string;
  /**
   * klog verbosity (--v).
   * @default 2
   */
  readonly verbosity?: number;
}

/** kube-proxy on every host with the node role; every setting in a KubeProxyConfiguration. */
export class KubeProxy extends Construct {
  constructor(scope: Construct, id: string, props: KubeProxyProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;
    const cert = certSpec('kube-proxy');
    const mode = model.network.kubeProxyMode;

    const kubeconfig = renderKubeconfig({
      clusterName: model.name,
      server: model.apiServerEndpoint,
      caPem: pki.ca('kubernetes-ca').certPem,
      user: 'system:kube-proxy',
      clientCert: { certPath: cert.certPath, keyPath: cert.keyPath },
    });
    const options = renderOptionFile(KUBE_PROXY.optionVariable, [
      ['config', KUBE_PROXY.config],
      ['v', props.verbosity ?? 2],
    ]);
    const unit = renderUnit({
      unit: {
        Description: 'Kubernetes Kube-Proxy',
        Documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/',
        After: 'network-online.target',
        Wants: 'network-online.target',
      },
      service: optionFileService(KUBE_PROXY),
    });

    for (const bundle of cluster.bundlesWithRole('node')) {
      const host = bundle.host;
      const config = stringify({
        apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
        kind: 'KubeProxyConfiguration',
        bindAddress: host.ip,
        metricsBindAddress: `${host.ip}:${KUBE_PROXY.metricsPort}`,
        clientConnection: { kubeconfig: KUBE_PROXY.kubeconfig },
        // The pod network: traffic from outside it to a Service is masqueraded.
        clusterCIDR: model.network.podCidr.text,
        // Must match the kubelet's node name, or kube-proxy finds no Node object.
        hostnameOverride: host.name,
        mode,
        ...(mode === 'ipvs' ? { ipvs: { scheduler: props.ipvsScheduler ?? 'rr' } } : {}),
      });
      bundle.addFile(KUBE_PROXY.kubeconfig, kubeconfig, { mode: 0o600 });
      bundle.addFile(KUBE_PROXY.config, config);
      addKubernetesComponent(bundle, model, KUBE_PROXY, START_ORDER.kubeProxy, { options: options, unit: unit });
    }
  }
}
