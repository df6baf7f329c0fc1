import { Construct } from 'constructs';
import { stringify } from 'yaml';
import {
  Cluster, componentSpec, kubeconfigFor, optionFileService, renderOptionFile, renderUnit,
} from '../lib/components';
import { PATHS, PORTS } from '../lib/model';
import { VERBOSITY } from './kube-apiserver';
import { addKubernetesComponent, kubernetesComponent } from './kubernetes-component';

const ROW = componentSpec('kube-proxy');

export const KUBE_PROXY = {
  ...kubernetesComponent('kube-proxy'),
  config: `${PATHS.k8sCfg}/kube-proxy-config.yaml`,
  kubeconfig: ROW.kubeconfig!.path,
  metricsPort: PORTS.kubeProxyMetrics,
} as const;

/** Scheduler of IPVS virtual servers (ipvs mode only): round robin. */
const IPVS_SCHEDULER = 'rr';

/** kube-proxy on every host with the node role; every setting in a KubeProxyConfiguration. */
export class KubeProxy extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;
    const mode = model.network.kubeProxyMode;

    const kubeconfig = kubeconfigFor(model, pki.ca('kubernetes-ca').certPem, ROW.kubeconfig!);
    const options = renderOptionFile(KUBE_PROXY.optionVariable, [
      ['config', KUBE_PROXY.config],
      ['v', VERBOSITY],
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

    for (const bundle of cluster.placeComponent('kube-proxy')) {
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
        ...(mode === 'ipvs' ? { ipvs: { scheduler: IPVS_SCHEDULER } } : {}),
      });
      bundle.addFile(KUBE_PROXY.kubeconfig, kubeconfig, { mode: 0o600 });
      bundle.addFile(KUBE_PROXY.config, config);
      addKubernetesComponent(bundle, KUBE_PROXY, { options, unit });
    }
  }
}
