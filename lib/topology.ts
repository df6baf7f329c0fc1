import { ClusterModel, Host, PORTS } from './cluster-model';

/** Nodes listed one by one up to this many; beyond it they are drawn as one group. */
const MAX_LISTED_NODES = 8;

function id(h: Host): string {
  return `h_${h.name.replace(/[^a-zA-Z0-9]/g, '_')}`;
}

function components(h: Host, model: ClusterModel): string[] {
  const c: string[] = [];
  if (h.has('master')) c.push(`kube-apiserver :${model.apiServerPort}`, 'controller-manager', 'scheduler', ...(h.has('node') ? [] : ['flanneld']));
  if (h.has('etcd')) c.push(`etcd :${PORTS.etcdClient}`);
  if (h.has('lb')) c.push(`nginx L4 :${model.loadBalancer!.port}`, `keepalived ${model.lbHosts[0] === h ? 'MASTER' : 'BACKUP'}`);
  if (h.has('node')) c.push('kubelet', 'kube-proxy', 'flanneld', 'containerd');
  return c;
}

/** A Mermaid flowchart of the cluster: who talks to whom, on which address and port. */
export function renderTopology(model: ClusterModel): string {
  const lines = ['flowchart LR'];
  const box = (h: Host) => `    ${id(h)}["<b>${h.name}</b> ${h.ip}<br/>${components(h, model).join('<br/>')}"]`;
  const { loadBalancer: lb, network: n } = model;
  lines.push('  admin(["kubectl<br/>dist/admin.kubeconfig"])');
  if (lb) lines.push(`  vip{{"VIP ${lb.vip}/${lb.prefix}<br/>:${lb.port}"}}`);
  const controlPlane = model.hosts.filter((h) => h.has('master') || h.has('etcd') || h.has('lb'));
  lines.push('  subgraph control["control plane"]', ...controlPlane.map(box), '  end');
  const workers = model.nodes.filter((h) => !controlPlane.includes(h));
  if (workers.length > MAX_LISTED_NODES) {
    lines.push(`  nodes["<b>${workers.length} nodes</b><br/>${workers[0].name} … ${workers[workers.length - 1].name}<br/>kubelet, kube-proxy, flanneld, containerd"]`);
  } else if (workers.length > 0) {
    lines.push('  subgraph nodes["nodes"]', ...workers.map(box), '  end');
  }
  const entry = lb ? 'vip' : id(model.masters[0]);
  lines.push(`  admin -->|"${model.apiServerEndpoint}"| ${entry}`);
  if (lb) {
    for (const h of model.lbHosts) lines.push(`  vip -.- ${id(h)}`);
    for (const h of model.lbHosts) for (const m of model.masters) {
      if (h !== m) lines.push(`  ${id(h)} -->|":${model.apiServerPort}"| ${id(m)}`);
    }
  }
  for (const m of model.masters) for (const e of model.etcdMembers) {
    if (m !== e) lines.push(`  ${id(m)} -->|"etcd mTLS :${PORTS.etcdClient}"| ${id(e)}`);
  }
  const kubeletHosts = workers.length > MAX_LISTED_NODES ? model.nodes.filter((h) => !workers.includes(h)) : model.nodes;
  for (const h of kubeletHosts) lines.push(`  ${id(h)} -->|"${model.apiServerEndpoint}"| ${entry}`);
  if (workers.length > MAX_LISTED_NODES) lines.push(`  nodes -->|"${model.apiServerEndpoint}"| ${entry}`);
  return [
    `# Cluster ${model.name}`,
    '',
    `Kubernetes ${model.kubernetesVersion} · Services ${n.serviceCidr.text} (DNS ${n.clusterDns}, ${n.dnsDomain}) · `
      + `pods ${n.podCidr.text} (flannel ${n.flannelBackend}) · kube-proxy ${n.kubeProxyMode} · NodePorts ${n.nodePortRange.low}-${n.nodePortRange.high}`,
    '',
    '```mermaid',
    ...lines,
    '```',
    '',
  ].join('\n');
}
