import { Construct } from 'constructs';
import { stringify } from 'yaml';
import {
  Cluster, componentConfig, kubeconfigFor, kubernetesFlags, registersTainted, renderOptionFile,
} from '../lib/components';
import { CONTAINERD_SOCKET, CONTROL_PLANE_TAINT, PATHS, PORTS } from '../lib/model';
import { certPath } from '../lib/pki';
import { VERBOSITY } from './kube-apiserver';
import { addKubernetesComponent, kubernetesComponent, kubernetesUnit } from './kubernetes-component';

export const KUBELET = {
  ...kubernetesComponent('kubelet'),
  config: `${PATHS.k8sCfg}/kubelet-config.yaml`,
  /** Token kubeconfig the kubelet uses once, to request its client certificate. */
  bootstrapKubeconfig: `${PATHS.k8sCfg}/bootstrap.kubeconfig`,
  /** Written by the kubelet after TLS bootstrapping; not in any bundle. */
  kubeconfig: `${PATHS.k8sCfg}/kubelet.kubeconfig`,
  /** The kubelet keeps its client (kubelet-client-current.pem) and self-signed serving certificates here. */
  certDir: PATHS.k8sSsl,
  /** In certDir, written by the kubelet: its rotated client certificate (with its key) and self-signed serving one. */
  clientCertificate: `${PATHS.k8sSsl}/kubelet-client-current.pem`,
  servingCertificate: `${PATHS.k8sSsl}/kubelet.crt`,
  /** User name of the bootstrap kubeconfig entry (the apiserver sees system:bootstrap:<token id>). */
  bootstrapUser: 'kubelet-bootstrap',
  port: PORTS.kubelet,
} as const;

export { CONTROL_PLANE_TAINT } from '../lib/model';

/** The kubelet's default hard eviction thresholds, written out so operators see them. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

/** kubelet on every host with the node role, joining through TLS bootstrapping. */
export class Kubelet extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki, secrets } = cluster;

    const bootstrapKubeconfig = kubeconfigFor(model, pki.ca('kubernetes-ca').certPem, {
      user: KUBELET.bootstrapUser, token: secrets.bootstrapToken.token, server: 'endpoint',
    });
    const unit = kubernetesUnit('kubelet', { after: ['containerd'], requires: 'containerd' });

    for (const bundle of cluster.placeComponent('kubelet')) {
      const host = bundle.host;
      const config = stringify(componentConfig(model, 'kubelet', {
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: host.ip,
        port: KUBELET.port,
        readOnlyPort: 0,
        cgroupDriver: 'systemd',
        containerRuntimeEndpoint: CONTAINERD_SOCKET,
        clusterDNS: [model.network.clusterDns],
        clusterDomain: model.network.dnsDomain,
        authentication: {
          anonymous: { enabled: false },
          webhook: { enabled: true },
          x509: { clientCAFile: certPath('kubernetes-ca') },
        },
        authorization: { mode: 'Webhook' },
        rotateCertificates: true,
        // Serving certificates from the CSR API need a manual (or custom) approver; nothing auto-approves
        // them, so the kubelet keeps its self-signed one and the apiserver does not verify kubelets.
        serverTLSBootstrap: false,
        failSwapOn: true,
        // A master runs only what tolerates it (its own node components are processes), as kubeadm's.
        // A master runs the node components (it is on the pod network) but takes pods only with the node role too.
        ...(registersTainted(host.roles) ? { registerWithTaints: [CONTROL_PLANE_TAINT] } : {}),
        evictionHard: { ...DEFAULT_EVICTION_HARD },
      }));
      const options = renderOptionFile(KUBELET.optionVariable, kubernetesFlags(model, 'kubelet', [
        ['bootstrap-kubeconfig', KUBELET.bootstrapKubeconfig],
        ['kubeconfig', KUBELET.kubeconfig],
        ['config', KUBELET.config],
        ['cert-dir', KUBELET.certDir],
        ['hostname-override', host.name],
        ['node-ip', host.ip],
        ['v', VERBOSITY],
      ]));
      // The token expires: a joined kubelet has its own kubeconfig, so the file goes, and a new token restarts nothing.
      bundle.addFile(KUBELET.bootstrapKubeconfig, bootstrapKubeconfig, { mode: 0o600, obsoleteWhen: KUBELET.kubeconfig });
      bundle.addFile(KUBELET.config, config);
      addKubernetesComponent(bundle, KUBELET, { options, unit });
    }
  }
}
