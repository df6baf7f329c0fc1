import { Construct } from 'constructs';
import { HostRole } from './cluster-definition';
import { ClusterModel } from './cluster-model';
import { HostBundle } from './bundle/host-bundle';
import { ClusterPki } from './pki/cluster-pki';

export interface ClusterProps {
  readonly model: ClusterModel;
  readonly pki: ClusterPki;
}

/**
 * Root of the host side: one HostBundle per host (construct id = host name, under 'hosts').
 * Components in hosts/ find the bundles of the roles they serve here.
 */
export class Cluster extends Construct {
  static of(scope: Construct): Cluster {
    const found = scope.node.scopes.find((s): s is Cluster => s instanceof Cluster);
    if (!found) throw new Error(`${scope.node.path} is not inside a Cluster`);
    return found;
  }

  readonly model: ClusterModel;
  readonly pki: ClusterPki;
  private readonly hostBundles: Map<string, HostBundle>;
  private readonly operator = new Map<string, { content: string; mode: number }>();

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    this.model = props.model;
    this.pki = props.pki;
    const hosts = new Construct(this, 'hosts');
    const contents = new Map<string, Buffer>();
    this.hostBundles = new Map(props.model.hosts.map((h) => [h.name, new HostBundle(hosts, h.name, { host: h, contents })]));
  }

  bundle(hostName: string): HostBundle {
    const b = this.hostBundles.get(hostName);
    if (!b) throw new Error(`no host named "${hostName}" in cluster "${this.model.name}"`);
    return b;
  }

  get bundles(): HostBundle[] {
    return [...this.hostBundles.values()];
  }

  /** A file for the operator, written to <outdir>/<name> (e.g. admin.kubeconfig). */
  addOperatorFile(name: string, content: string, mode = 0o600): void {
    if (!/^[a-z0-9][-a-z0-9.]*(\/[a-z0-9][-a-z0-9.]*)*$/.test(name) || name.includes("..")) throw new Error(`operator file name "${name}" must be a relative path of lowercase names, e.g. ansible/site.yml`);
    if (this.operator.has(name)) throw new Error(`operator file ${name} is added twice`);
    this.operator.set(name, { content, mode });
  }

  get operatorFiles(): { name: string; content: string; mode: number }[] {
    return [...this.operator].map(([name, f]) => ({ name, ...f })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  bundlesWithRole(...roles: HostRole[]): HostBundle[] {
    return this.bundles.filter((b) => roles.some((r) => b.host.has(r)));
  }
}
