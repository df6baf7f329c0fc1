import { Construct } from 'constructs';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { Cluster } from '../lib/cluster';
import { renderKubeconfig } from '../lib/kubeconfig';
import { PATHS } from '../lib/paths';
import { caSpec, certSpec, KEY_PAIR_LIST } from '../lib/pki/cert-list';
import { optionFileService, renderOptionFile, renderUnit } from '../lib/systemd-unit';
import { KUBE_APISERVER, localApiServerUrl } from './kube-apiserver';
import { addKubernetesComponent } from './kubernetes-component';

export const KUBE_CONTROLLER_MANAGER = {
  unit: 'kube-controller-manager.service',
  binary: `${PATHS.k8sBin}/kube-controller-manager`,
  optionFile: `${PATHS.k8sCfg}/kube-controller-manager`,
  optionVariable: 'KUBE_CONTROLLER_MANAGER_OPTS',
  kubeconfig: `${PATHS.k8sCfg}/kube-controller-manager.kubeconfig`,
} as const;

export interface KubeControllerManagerProps {
  /**
   * klog verbosity (--v).
   * @default 2
   */
  readonly verbosity?: number;
}

/** kube-controller-manager on every master, leader-elected, talking to its own master's apiserver. */
export class KubeControllerManager extends Construct {
  constructor(scope: Construct, id: string, props: KubeControllerManagerProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;
    const cert = certSpec('kube-controller-manager');
    const clusterCa = caSpec('kubernetes-ca');
    const saKeys = KEY_PAIR_LIST.find((k) => k.id === 'service-account')!;

    const kubeconfig = renderKubeconfig({
      clusterName: model.name,
      server: localApiServerUrl(model),
      caPem: pki.ca('kubernetes-ca').certPem,
      user: 'system:kube-controller-manager',
      clientCert: { certPath: cert.certPath, keyPath: cert.keyPath },
    });
    const options = renderOptionFile(KUBE_CONTROLLER_MANAGER.optionVariable, [
      ['kubeconfig', KUBE_CONTROLLER_MANAGER.kubeconfig],
      ['authentication-kubeconfig', KUBE_CONTROLLER_MANAGER.kubeconfig],
      ['authorization-kubeconfig', KUBE_CONTROLLER_MANAGER.kubeconfig],
      ['bind-address', '127.0.0.1'],
      ['leader-elect', true],
      ['cluster-name', model.name],
      // Signs the kubelets' client certificates (TLS bootstrapping and rotation).
      ['cluster-signing-cert-file', clusterCa.certPath],
      ['cluster-signing-key-file', clusterCa.keyPath],
      ['cluster-signing-duration', `${model.certificates.validityDays * 24}h`],
      ['root-ca-file', clusterCa.certPath],
      ['service-account-private-key-file', saKeys.privatePath],
      ['use-service-account-credentials', true],
      // bootstrapsigner and tokencleaner are off by default; tokencleaner removes expired bootstrap tokens.
      ['controllers', '*,bootstrapsigner,tokencleaner'],
      // flanneld leases each node's subnet from etcd itself (no kube subnet manager), so Node.spec.podCIDR stays unused.
      ['allocate-node-cidrs', false],
      ['service-cluster-ip-range', model.network.serviceCidr.text],
      ['requestheader-client-ca-file', caSpec('front-proxy-ca').certPath],
      ['v', props.verbosity ?? 2],
    ]);
    const unit = renderUnit({
      unit: {
        Description: 'Kubernetes Controller Manager',
        Documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/',
        After: ['network-online.target', KUBE_APISERVER.unit],
        Wants: ['network-online.target', KUBE_APISERVER.unit],
      },
      service: optionFileService(KUBE_CONTROLLER_MANAGER),
    });

    for (const bundle of cluster.bundlesWithRole('master')) {
      bundle.addFile(KUBE_CONTROLLER_MANAGER.kubeconfig, kubeconfig, { mode: 0o600 });
      addKubernetesComponent(bundle, model, KUBE_CONTROLLER_MANAGER, START_ORDER.kubeControllerManager, { options: options, unit: unit });
    }
  }
}
