import { Construct } from 'constructs';
import {
  Cluster, componentSpec, kubernetesFlags, renderOptionFile,
} from '../lib/components';
import { FLANNEL_SUBNET_LEN } from '../lib/model';
import { certPath, keyPath } from '../lib/pki';
import { VERBOSITY } from './kube-apiserver';
import { addKubernetesComponent, kubernetesComponent, kubernetesUnit } from './kubernetes-component';

export const KUBE_CONTROLLER_MANAGER = {
  ...kubernetesComponent('kube-controller-manager'),
  kubeconfig: componentSpec('kube-controller-manager').kubeconfig!.path,
} as const;

/** kube-controller-manager on every master, leader-elected, talking to its own master's apiserver. */
export class KubeControllerManager extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;

    const kubeconfig = cluster.kubeconfigOf('kube-controller-manager').content;
    const options = renderOptionFile(KUBE_CONTROLLER_MANAGER.optionVariable, kubernetesFlags(model, 'kube-controller-manager', [
      ['kubeconfig', KUBE_CONTROLLER_MANAGER.kubeconfig],
      ['authentication-kubeconfig', KUBE_CONTROLLER_MANAGER.kubeconfig],
      ['authorization-kubeconfig', KUBE_CONTROLLER_MANAGER.kubeconfig],
      ['bind-address', model.exposeMetrics ? '0.0.0.0' : '127.0.0.1'],
      ['leader-elect', true],
      ['cluster-name', model.name],
      // Signs the kubelets' client certificates (TLS bootstrapping and rotation).
      ['cluster-signing-cert-file', certPath('kubernetes-ca')],
      ['cluster-signing-key-file', keyPath('kubernetes-ca')],
      ['cluster-signing-duration', `${model.certificates.validityDays * 24}h`],
      ['root-ca-file', certPath('kubernetes-ca')],
      ['service-account-private-key-file', keyPath('service-account')],
      ['use-service-account-credentials', true],
      // bootstrapsigner and tokencleaner are off by default; tokencleaner removes expired bootstrap tokens.
      ['controllers', '*,bootstrapsigner,tokencleaner'],
      // Each Node's podCIDR, one /24 of the pod network: flanneld (kube subnet manager) routes it.
      ['allocate-node-cidrs', true],
      ['cluster-cidr', model.network.podCidr.text],
      ['node-cidr-mask-size', FLANNEL_SUBNET_LEN],
      ['service-cluster-ip-range', model.network.serviceCidr.text],
      ['requestheader-client-ca-file', certPath('front-proxy-ca')],
      ['v', VERBOSITY],
    ]));
    const unit = kubernetesUnit('kube-controller-manager', { after: ['kube-apiserver'], wants: ['kube-apiserver'] });

    for (const bundle of cluster.placeComponent('kube-controller-manager')) {
      bundle.addFile(KUBE_CONTROLLER_MANAGER.kubeconfig, kubeconfig, { mode: 0o600 });
      addKubernetesComponent(bundle, KUBE_CONTROLLER_MANAGER, { options, unit });
    }
  }
}
