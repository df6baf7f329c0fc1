import { Construct } from 'constructs';
import { stringify } from 'yaml';
import {
  Cluster, componentConfig, componentSpec, kubernetesFlags, renderOptionFile,
} from '../lib/components';
import { PATHS, PORTS } from '../lib/model';
import { VERBOSITY } from './kube-apiserver';
import { addKubernetesComponent, kubernetesComponent, kubernetesUnit } from './kubernetes-component';

export const KUBE_PROXY = {
  ...kubernetesComponent('kube-proxy'),
  config: `${PATHS.k8sCfg}/kube-proxy-config.yaml`,
  kubeconfig: componentSpec('kube-proxy').kubeconfig!.path,
  metricsPort: PORTS.kubeProxyMetrics,
} as const;

/** Scheduler of IPVS virtual servers (ipvs mode only): round robin. */
const IPVS_SCHEDULER = 'rr';

/** kube-proxy on every host with the node role; every setting in a KubeProxyConfiguration. */
export class KubeProxy extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const mode = model.network.kubeProxyMode;

    const kubeconfig = cluster.kubeconfigOf('kube-proxy').content;
    const options = renderOptionFile(KUBE_PROXY.optionVariable, kubernetesFlags(model, 'kube-proxy', [
      ['config', KUBE_PROXY.config],
      ['v', VERBOSITY],
    ]));
    const unit = kubernetesUnit('kube-proxy');

    for (const bundle of cluster.placeComponent('kube-proxy')) {
      const host = bundle.host;
      const config = stringify(componentConfig(model, 'kube-proxy', {
        apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
        kind: 'KubeProxyConfiguration',
        bindAddress: host.ip,
        // Loopback, as kubeadm's, unless the definition exposes metrics.
        metricsBindAddress: `${model.exposeMetrics ? host.ip : '127.0.0.1'}:${KUBE_PROXY.metricsPort}`,
        clientConnection: { kubeconfig: KUBE_PROXY.kubeconfig },
        // The pod network: traffic from outside it to a Service is masqueraded.
        clusterCIDR: model.network.podCidr.text,
        // Must match the kubelet's node name, or kube-proxy finds no Node object.
        hostnameOverride: host.name,
        mode,
        ...(mode === 'ipvs' ? { ipvs: { scheduler: IPVS_SCHEDULER } } : {}),
      }));
      bundle.addFile(KUBE_PROXY.kubeconfig, kubeconfig, { mode: 0o600 });
      bundle.addFile(KUBE_PROXY.config, config);
      addKubernetesComponent(bundle, KUBE_PROXY, { options, unit });
    }
  }
}
