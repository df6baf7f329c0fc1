import { ClusterModel, Host } from '../model';
import { ComponentId, componentSpec, runsOn } from './component-list';

/**
 * What the OS must provide beside the binaries the bundles name, per distribution, and what each host must open in
 * a firewall. install.sh checks the first and prints the commands for the second (firewalld, SELinux) from here.
 */

export interface Requirement {
  /** What it is, as the message names it, e.g. 'ipset'. */
  readonly name: string;
  /** Absolute paths: present when any one is. */
  readonly paths: readonly string[];
  readonly debian: string;
  readonly rhel: string;
  /** Who needs it, for the message. */
  readonly why: string;
  /** Where other distributions put it: found there instead, install.sh names the definition setting to change. */
  readonly elsewhere?: { readonly paths: readonly string[]; readonly setting: string };
}

/** Where distributions install nginx's stream module: Debian/Ubuntu, then RHEL/CentOS/Fedora (nginx-mod-stream). */
export const STREAM_MODULE_PATHS: readonly string[] = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/lib64/nginx/modules/ngx_stream_module.so'];

interface RequirementRow extends Requirement {
  readonly on: ComponentId;
  readonly when?: (model: ClusterModel) => boolean;
}

const sbin = (name: string) => [`/usr/sbin/${name}`, `/sbin/${name}`, `/usr/bin/${name}`];

const REQUIREMENTS: readonly RequirementRow[] = [
  // kube-proxy 1.27 needs it to clear UDP conntrack entries; it no longer falls back when it is missing.
  { on: 'kube-proxy', name: 'conntrack', paths: sbin('conntrack'), debian: 'conntrack', rhel: 'conntrack-tools', why: 'kube-proxy' },
  { on: 'kube-proxy', name: 'iptables', paths: sbin('iptables'), debian: 'iptables', rhel: 'iptables-nft', why: 'kube-proxy and flanneld' },
  {
    on: 'kube-proxy', name: 'ipset', paths: sbin('ipset'), debian: 'ipset', rhel: 'ipset',
    why: 'kube-proxy in ipvs mode, which exits without it (no fallback to iptables since 1.26)', when: (m) => m.network.kubeProxyMode === 'ipvs',
  },
  {
    on: 'kubelet', name: 'mount.nfs', paths: sbin('mount.nfs'), debian: 'nfs-common', rhel: 'nfs-utils',
    why: 'the kubelet, to mount the apps\' NFS volumes', when: (m) => m.apps.some((a) => a.volumes.length > 0),
  },
  {
    on: 'cert-check', name: 'openssl', paths: ['/usr/bin/openssl', '/bin/openssl'], debian: 'openssl', rhel: 'openssl',
    why: 'the certificate expiry check (kubesmith-cert-check)', when: (m) => m.certificates.expiryCheck.enabled,
  },
];

/** What a host needs from its OS: the requirements of the components it runs. */
export function requirementsOn(host: Host, model: ClusterModel): Requirement[] {
  const rows = REQUIREMENTS.filter((r) => runsOn(componentSpec(r.on), host, model) && (r.when?.(model) ?? true));
  const lb = model.loadBalancer;
  if (lb?.loadStreamModule && runsOn(componentSpec('nginx'), host, model)) {
    rows.push({
      on: 'nginx', name: 'the nginx stream module', paths: [lb.streamModulePath], debian: 'libnginx-mod-stream',
      rhel: 'nginx-mod-stream', why: `nginx's load_module (loadBalancer.streamModulePath ${lb.streamModulePath})`,
      elsewhere: { paths: STREAM_MODULE_PATHS.filter((p) => p !== lb.streamModulePath), setting: 'loadBalancer.streamModulePath' },
    });
  }
  return rows.map(({ name, paths, debian, rhel, why, elsewhere }) => ({ name, paths, debian, rhel, why, ...(elsewhere ? { elsewhere } : {}) }));
}

export interface FirewallRule {
  /** '2379-2380/tcp', or 'vrrp' for the VRRP protocol. */
  readonly port: string;
  readonly why: string;
}

/** What a host must accept, from the components it runs and the addons that bind its ports. */
export function firewallRulesOn(host: Host, model: ClusterModel): FirewallRule[] {
  const rules: FirewallRule[] = [];
  const runs = (id: ComponentId) => runsOn(componentSpec(id), host, model);
  if (runs('etcd')) rules.push({ port: '2379-2380/tcp', why: 'etcd clients and peers' });
  if (runs('kube-apiserver')) rules.push({ port: `${model.apiServerPort}/tcp`, why: 'kube-apiserver' });
  if (runs('nginx') && model.loadBalancer) rules.push({ port: `${model.loadBalancer.port}/tcp`, why: 'the nginx L4 port' });
  if (runs('keepalived')) rules.push({ port: 'vrrp', why: 'keepalived (VRRP)' });
  if (runs('kubelet')) rules.push({ port: '10250/tcp', why: 'the kubelet (logs, exec)' });
  if (runs('flanneld') && model.network.flannelBackend === 'vxlan') rules.push({ port: '8472/udp', why: 'flannel vxlan' });
  if (runs('kube-proxy')) {
    const range = `${model.network.nodePortRange.low}-${model.network.nodePortRange.high}`;
    rules.push({ port: `${range}/tcp`, why: 'NodePort Services' }, { port: `${range}/udp`, why: 'NodePort Services' });
  }
  if (runs('kubelet') && host.has('node') && model.addons.ingressNginx.enabled) {
    rules.push({ port: '80/tcp', why: 'ingress-nginx (host network)' }, { port: '443/tcp', why: 'ingress-nginx (host network)' });
  }
  return rules;
}

/** SELinux booleans and port labels a host needs when SELinux enforces. */
export function selinuxCommandsOn(host: Host, model: ClusterModel): string[] {
  if (!runsOn(componentSpec('nginx'), host, model) || !model.loadBalancer) return [];
  return [
    // nginx proxies to the apiservers and listens on a port httpd_t may not bind otherwise.
    'setsebool -P httpd_can_network_connect 1',
    `semanage port -a -t http_port_t -p tcp ${model.loadBalancer.port} || semanage port -m -t http_port_t -p tcp ${model.loadBalancer.port}`,
    // keepalived's check_nginx.sh connects to the L4 port.
    'setsebool -P keepalived_connect_any 1',
  ];
}
