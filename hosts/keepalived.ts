import { Construct } from 'constructs';
import { Cluster } from '../lib/components';
import { ClusterModel, Host, PATHS } from '../lib/model';

export const KEEPALIVED_CONF = PATHS.keepalivedConf;
export const CHECK_NGINX_SCRIPT = '/etc/keepalived/check_nginx.sh';

/** check_nginx.sh runs every 2 s; 2 failures in a row give up the VIP, 2 passes may take it back. */
const CHECK = { interval: 2, fall: 2, rise: 2 } as const;

/**
 * VRRP priorities of the lb hosts in definition order: 100, 90, 80, ... (a smaller step past
 * ten hosts), so the first host holds the VIP whenever its nginx answers.
 */
export function vrrpPriorities(count: number): number[] {
  if (count > 100) throw new Error(`keepalived: ${count} lb hosts; VRRP priorities allow at most 100 here`);
  const step = count <= 10 ? 10 : Math.floor(99 / (count - 1));
  return Array.from({ length: count }, (_, i) => 100 - i * step);
}

/**
 * Exits non-zero unless something accepts TCP connections on the local L4 port. Replaces the
 * tutorial's `ps | grep nginx` + `systemctl stop keepalived`: the instance goes to FAULT instead,
 * so the VIP moves and comes back once nginx answers again. Needs only bash and coreutils' timeout.
 */
export function renderCheckScript(port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`keepalived: ${port} is not a port`);
  return [
    '#!/bin/bash',
    `# kubesmith: keepalived's check_nginx. Fails when nothing accepts connections on 127.0.0.1:${port} (nginx L4),`,
    '# which puts this host in FAULT: it gives up the VIP until the port answers again.',
    `exec timeout 2 bash -c '</dev/tcp/127.0.0.1/${port}' 2>/dev/null`,
    '',
  ].join('\n');
}

/** keepalived.conf for one lb host: MASTER with priority 100 on the first, BACKUP with lower priorities on the others. */
export function renderKeepalivedConf(model: ClusterModel, host: Host, authPass: string): string {
  const lb = model.loadBalancer;
  if (!lb) throw new Error('keepalived: the cluster has no loadBalancer');
  const index = model.lbHosts.findIndex((h) => h.name === host.name);
  if (index < 0) throw new Error(`keepalived: ${host.name} has no lb role`);
  if (!/^[A-Za-z0-9]{1,8}$/.test(authPass)) throw new Error('keepalived: auth_pass must be 1 to 8 letters or digits');
  const interval = CHECK.interval;
  const priority = vrrpPriorities(model.lbHosts.length)[index];
  return `${[
    `! kubesmith: keepalived on ${host.name}. Holds VIP ${lb.vip} for the nginx L4 port ${lb.port}. Generated: edit the cluster definition instead.`,
    'global_defs {',
    `    router_id ${host.name}`,
    '    script_user root',
    '    enable_script_security',
    '}',
    '',
    'vrrp_script check_nginx {',
    `    script "${CHECK_NGINX_SCRIPT}"`,
    `    interval ${interval}`,
    `    timeout ${interval + 1}`,
    `    fall ${CHECK.fall}`,
    `    rise ${CHECK.rise}`,
    '    ! no weight: a failing check puts the instance in FAULT, whatever the priorities',
    '}',
    '',
    'vrrp_instance VI_1 {',
    `    state ${index === 0 ? 'MASTER' : 'BACKUP'}`,
    `    interface ${host.interface}`,
    `    virtual_router_id ${lb.virtualRouterId}`,
    `    priority ${priority}`,
    '    advert_int 1',
    '    authentication {',
    '        auth_type PASS',
    `        auth_pass ${authPass}`,
    '    }',
    '    virtual_ipaddress {',
    `        ${lb.vip}/${lb.prefix} dev ${host.interface}`,
    '    }',
    '    track_script {',
    '        check_nginx',
    '    }',
    '}',
  ].join('\n')}\n`;
}

/** keepalived from the OS package on the lb hosts: keepalived.conf and the nginx check script. */
export class Keepalived extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model, secrets } = cluster;
    const bundles = cluster.placeComponent('keepalived');
    if (!model.loadBalancer) return;
    const check = renderCheckScript(model.loadBalancer.port);
    for (const bundle of bundles) {
      // 0600: holds the VRRP password.
      bundle.addFile(KEEPALIVED_CONF, renderKeepalivedConf(model, bundle.host, secrets.keepalivedAuthPass), { mode: 0o600 });
      bundle.addFile(CHECK_NGINX_SCRIPT, check, { mode: 0o755 });
    }
  }
}
