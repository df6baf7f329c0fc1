import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { Cluster } from '../lib/cluster';
import { renderKubeconfig } from '../lib/kubeconfig';
import { PATHS } from '../lib/paths';
import { caSpec } from '../lib/pki/cert-list';
import { optionFileService, renderOptionFile, renderUnit } from '../lib/systemd-unit';

import { addKubernetesComponent } from './kubernetes-component';

export const KUBELET = {
  unit: 'kubelet.service',
  binary: `${PATHS.k8sBin}/kubelet`,
  optionFile: `${PATHS.k8sCfg}/kubelet`,
  optionVariable: 'KUBELET_OPTS',
  config: `${PATHS.k8sCfg}/kubelet-config.yaml`,
  /** Token kubeconfig the kubelet uses once, to request its client certificate. */
  bootstrapKubeconfig: `${PATHS.k8sCfg}/bootstrap.kubeconfig`,
  /** Written by the kubelet after TLS bootstrapping; not in any bundle. */
  kubeconfig: `${PATHS.k8sCfg}/kubelet.kubeconfig`,
  /** The kubelet keeps its client (kubelet-client-current.pem) and self-signed serving certificates here. */
  certDir: PATHS.k8sSsl,
  /** User name of the bootstrap kubeconfig entry (the apiserver sees system:bootstrap:<token id>). */
  bootstrapUser: 'kubelet-bootstrap',
  port: 10250,
} as const;

export const CONTAINERD_UNIT = 'containerd.service';
export const CONTAINERD_ENDPOINT = 'unix:///run/containerd/containerd.sock';

/** The kubelet's default hard eviction thresholds, written out so operators see them. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

export interface KubeletProps {
  /**
   * Hard eviction thresholds (KubeletConfiguration evictionHard).
   * @default DEFAULT_EVICTION_HARD
   */
  readonly evictionHard?: Readonly<Record<string, string>>;
  /**
   * klog verbosity (--v).
   * @default 2
   */
  readonly verbosity?: number;
}

/** kubelet on every host with the node role, joining through TLS bootstrapping. */
export class Kubelet extends Construct {
  constructor(scope: Construct, id: string, props: KubeletProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;

    const bootstrapKubeconfig = renderKubeconfig({
      clusterName: model.name,
      server: model.apiServerEndpoint,
      caPem: pki.ca('kubernetes-ca').certPem,
      user: KUBELET.bootstrapUser,
      token: pki.secrets.bootstrapToken.token,
    });
    const unit = renderUnit({
      unit: {
        Description: 'Kubernetes Kubelet',
        Documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/',
        After: ['network-online.target', CONTAINERD_UNIT],
        Wants: 'network-online.target',
        Requires: CONTAINERD_UNIT,
      },
      service: optionFileService(KUBELET),
    });

    for (const bundle of cluster.bundlesWithRole('node')) {
      const host = bundle.host;
      const config = stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: host.ip,
        port: KUBELET.port,
        readOnlyPort: 0,
        cgroupDriver: 'systemd',
        containerRuntimeEndpoint: CONTAINERD_ENDPOINT,
        clusterDNS: [model.network.clusterDns],
        clusterDomain: model.network.dnsDomain,
        authentication: {
          anonymous: { enabled: false },
          webhook: { enabled: true },
          x509: { clientCAFile: caSpec('kubernetes-ca').certPath },
        },
        authorization: { mode: 'Webhook' },
        rotateCertificates: true,
        // Serving certificates from the CSR API need a manual (or custom) approver; nothing auto-approves
        // them, so the kubelet keeps its self-signed one and the apiserver does not verify kubelets.
        serverTLSBootstrap: false,
        failSwapOn: true,
        evictionHard: { ...(props.evictionHard ?? DEFAULT_EVICTION_HARD) },
      });
      const options = renderOptionFile(KUBELET.optionVariable, [
        ['bootstrap-kubeconfig', KUBELET.bootstrapKubeconfig],
        ['kubeconfig', KUBELET.kubeconfig],
        ['config', KUBELET.config],
        ['cert-dir', KUBELET.certDir],
        ['hostname-override', host.name],
        ['node-ip', host.ip],
        ['v', props.verbosity ?? 2],
      ]);
      bundle.addFile(KUBELET.bootstrapKubeconfig, bootstrapKubeconfig, { mode: 0o600 });
      bundle.addFile(KUBELET.config, config);
      addKubernetesComponent(bundle, model, KUBELET, START_ORDER.kubelet, { options: options, unit: unit });
    }
  }
}
