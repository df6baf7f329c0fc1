import { Construct } from 'constructs';
import { stringify } from 'yaml';
import {
  Cluster, componentConfig, componentSpec, kubernetesFlags, renderOptionFile,
} from '../lib/components';
import { PATHS } from '../lib/model';
import { VERBOSITY } from './kube-apiserver';
import { addKubernetesComponent, kubernetesComponent, kubernetesUnit } from './kubernetes-component';

export const KUBE_SCHEDULER = {
  ...kubernetesComponent('kube-scheduler'),
  config: `${PATHS.k8sCfg}/kube-scheduler-config.yaml`,
  kubeconfig: componentSpec('kube-scheduler').kubeconfig!.path,
} as const;

/**
 * kube-scheduler on every master, leader-elected, talking to its own master's apiserver.
 * The kubeconfig and leader election live in a KubeSchedulerConfiguration: the scheduler's
 * --kubeconfig flag is deprecated in favour of clientConnection.kubeconfig.
 */
export class KubeScheduler extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);

    const kubeconfig = cluster.kubeconfigOf('kube-scheduler').content;
    const { model } = cluster;
    const config = stringify(componentConfig(model, 'kube-scheduler', {
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      clientConnection: { kubeconfig: KUBE_SCHEDULER.kubeconfig },
      leaderElection: { leaderElect: true },
    }));
    const options = renderOptionFile(KUBE_SCHEDULER.optionVariable, kubernetesFlags(model, 'kube-scheduler', [
      ['config', KUBE_SCHEDULER.config],
      ['authentication-kubeconfig', KUBE_SCHEDULER.kubeconfig],
      ['authorization-kubeconfig', KUBE_SCHEDULER.kubeconfig],
      ['bind-address', model.exposeMetrics ? '0.0.0.0' : '127.0.0.1'],
      ['v', VERBOSITY],
    ]));
    const unit = kubernetesUnit('kube-scheduler', { after: ['kube-apiserver'], wants: ['kube-apiserver'] });

    for (const bundle of cluster.placeComponent('kube-scheduler')) {
      bundle.addFile(KUBE_SCHEDULER.kubeconfig, kubeconfig, { mode: 0o600 });
      bundle.addFile(KUBE_SCHEDULER.config, config);
      addKubernetesComponent(bundle, KUBE_SCHEDULER, { options, unit });
    }
  }
}
