import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { START_ORDER } from '../lib/bundle/host-bundle';
import { Cluster } from '../lib/cluster';
import { renderKubeconfig } from '../lib/kubeconfig';
import { PATHS } from '../lib/paths';
import { certSpec } from '../lib/pki/cert-list';
import { optionFileService, renderOptionFile, renderUnit } from '../lib/systemd-unit';
import { KUBE_APISERVER, localApiServerUrl } from './kube-apiserver';
import { addKubernetesComponent } from './kubernetes-component';

export const KUBE_SCHEDULER = {
  unit: 'kube-scheduler.service',
  binary: `${PATHS.k8sBin}/kube-scheduler`,
  optionFile: `${PATHS.k8sCfg}/kube-scheduler`,
  optionVariable: 'KUBE_SCHEDULER_OPTS',
  config: `${PATHS.k8sCfg}/kube-scheduler-config.yaml`,
  kubeconfig: `${PATHS.k8sCfg}/kube-scheduler.kubeconfig`,
} as const;

export interface KubeSchedulerProps {
  /**
   * klog verbosity (--v).
   * @default 2
   */
  readonly verbosity?: number;
}

/**
 * kube-scheduler on every master, leader-elected, talking to its own master's apiserver.
 * The kubeconfig and leader election live in a KubeSchedulerConfiguration: the scheduler's
 * --kubeconfig flag is deprecated in favour of clientConnection.kubeconfig.
 */
export class KubeScheduler extends Construct {
  constructor(scope: Construct, id: string, props: KubeSchedulerProps = {}) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, pki } = cluster;
    const cert = certSpec('kube-scheduler');

    const kubeconfig = renderKubeconfig({
      clusterName: model.name,
      server: localApiServerUrl(model),
      caPem: pki.ca('kubernetes-ca').certPem,
      user: 'system:kube-scheduler',
      clientCert: { certPath: cert.certPath, keyPath: cert.keyPath },
    });
    const config = stringify({
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      clientConnection: { kubeconfig: KUBE_SCHEDULER.kubeconfig },
      leaderElection: { leaderElect: true },
    });
    const options = renderOptionFile(KUBE_SCHEDULER.optionVariable, [
      ['config', KUBE_SCHEDULER.config],
      ['authentication-kubeconfig', KUBE_SCHEDULER.kubeconfig],
      ['authorization-kubeconfig', KUBE_SCHEDULER.kubeconfig],
      ['bind-address', '127.0.0.1'],
      ['v', props.verbosity ?? 2],
    ]);
    const unit = renderUnit({
      unit: {
        Description: 'Kubernetes Scheduler',
        Documentation: 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/',
        After: ['network-online.target', KUBE_APISERVER.unit],
        Wants: ['network-online.target', KUBE_APISERVER.unit],
      },
      service: optionFileService(KUBE_SCHEDULER),
    });

    for (const bundle of cluster.bundlesWithRole('master')) {
      bundle.addFile(KUBE_SCHEDULER.kubeconfig, kubeconfig, { mode: 0o600 });
      bundle.addFile(KUBE_SCHEDULER.config, config);
      addKubernetesComponent(bundle, model, KUBE_SCHEDULER, START_ORDER.kubeScheduler, { options: options, unit: unit });
    }
  }
}
