import { renderEncryptionConfig } from '../../hosts/kube-apiserver';
import { Cluster } from '../components';
import { everyEncryptionKey } from '../pki';
import { UpgradePlan } from '../upgrade';
import {
  renderCheckPlaybook, renderInstallTasks, renderInventory, renderPlaybook, renderRestorePlaybook, renderSnapshotPlaybook,
  renderStageTasks,
} from './rollout/ansible';
import { renderDeployScript } from './rollout/deploy-script';
import { RESTORE_ENCRYPTION } from './rollout/runtime-steps';
import { renderFetchScript } from './rollout/fetch-script';
import { renderTopology } from './topology';

/** dist/topology.md, dist/ansible/, dist/deploy.sh and dist/fetch-binaries.sh: what the cluster looks like, and how the bundles get onto it. */
export function addOperatorFiles(cluster: Cluster, upgrade?: UpgradePlan): void {
  const { model } = cluster;
  const writingKey = cluster.secrets.encryptionKeys[0].name;
  cluster.addOperatorFile('topology.md', renderTopology(model), 0o644);
  cluster.addOperatorFile('ansible/inventory.ini', renderInventory(model), 0o644);
  cluster.addOperatorFile('ansible/site.yml', renderPlaybook(model, cluster.membership, upgrade), 0o644);
  cluster.addOperatorFile('ansible/install-bundle.yml', renderInstallTasks(model), 0o644);
  cluster.addOperatorFile('ansible/stage-bundle.yml', renderStageTasks(), 0o644);
  cluster.addOperatorFile('ansible/check.yml', renderCheckPlaybook(), 0o644);
  cluster.addOperatorFile('ansible/snapshot.yml', renderSnapshotPlaybook(model), 0o644);
  cluster.addOperatorFile('ansible/restore.yml', renderRestorePlaybook(model, writingKey), 0o644);
  cluster.addOperatorFile('deploy.sh', renderDeployScript(model, cluster.membership, upgrade, writingKey), 0o755);
  cluster.addOperatorFile('fetch-binaries.sh', renderFetchScript(model), 0o755);
  // What a restore gives the apiservers: a snapshot from before a key rotation holds Secrets written with a retired key.
  cluster.addOperatorFile(RESTORE_ENCRYPTION.operatorFile, renderEncryptionConfig(everyEncryptionKey(cluster.secrets)), 0o600);
}
