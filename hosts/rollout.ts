import { Construct } from 'constructs';
import { Cluster } from '../lib/cluster';
import { renderInstallTasks, renderInventory, renderPlaybook } from '../lib/rollout/ansible';
import { renderDeployScript } from '../lib/rollout/deploy-script';

/** dist/ansible/ and dist/deploy.sh: how the bundles get onto the machines, in a safe order. */
export class Rollout extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    cluster.addOperatorFile('ansible/inventory.ini', renderInventory(model), 0o644);
    cluster.addOperatorFile('ansible/site.yml', renderPlaybook(model), 0o644);
    cluster.addOperatorFile('ansible/install-bundle.yml', renderInstallTasks(model), 0o644);
    cluster.addOperatorFile('deploy.sh', renderDeployScript(model), 0o755);
  }
}
