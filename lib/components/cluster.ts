import { Construct } from 'constructs';
import { ClusterModel, Host } from '../model';
import { ClusterPki, ClusterSecrets } from '../pki';
import { ComponentId, componentSpec, runsOn, serviceOf } from './component-list';
import { kubeconfigFor } from './kubeconfig';
import { HostBundle } from './host-bundle';
import { MembershipRecord, membershipOf } from './membership';

export interface ClusterProps {
  readonly model: ClusterModel;
  readonly pki: ClusterPki;
  readonly secrets: ClusterSecrets;
  /** etcd members' states and retired hosts, against the last synth. @default a new cluster: every member 'new' */
  readonly membership?: MembershipRecord;
}

/**
 * Root of the host side: one HostBundle per host (construct id 'host-<name>', under 'hosts'). Components in hosts/
 * find here the bundles of the hosts the component table places them on.
 */
export class Cluster extends Construct {
  static of(scope: Construct): Cluster {
    const found = scope.node.scopes.find((s): s is Cluster => s instanceof Cluster);
    if (!found) throw new Error(`${scope.node.path} is not inside a Cluster`);
    return found;
  }

  readonly model: ClusterModel;
  readonly pki: ClusterPki;
  readonly secrets: ClusterSecrets;
  readonly membership: MembershipRecord;
  private readonly hostBundles: Map<string, HostBundle>;
  private readonly operator = new Map<string, { content: string; mode: number }>();

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    this.model = props.model;
    this.pki = props.pki;
    this.secrets = props.secrets;
    this.membership = props.membership ?? membershipOf(props.model);
    const hosts = new Construct(this, 'hosts');
    const contents = new Map<string, Buffer>();
    // Construct ids are prefixed: constructs keeps children in a plain object, where 'constructor' is taken.
    this.hostBundles = new Map(props.model.hosts.map((h) => [h.name, new HostBundle(hosts, `host-${h.name}`, { host: h, contents })]));
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
    if (!/^[a-z0-9][-a-z0-9.]*(\/[a-z0-9][-a-z0-9.]*)*$/.test(name) || name.includes('..')) {
      throw new Error(`operator file name "${name}" must be a relative path of lowercase names, e.g. ansible/site.yml`);
    }
    if (this.operator.has(name)) throw new Error(`operator file ${name} is added twice`);
    this.operator.set(name, { content, mode });
  }

  get operatorFiles(): { name: string; content: string; mode: number }[] {
    return [...this.operator].map(([name, f]) => ({ name, ...f })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** The kubeconfig a component dials the apiserver with, as its row says: path and content. */
  kubeconfigOf(id: ComponentId): { readonly path: string; readonly content: string } {
    const spec = componentSpec(id).kubeconfig;
    if (!spec) throw new Error(`component ${id} has no kubeconfig in the component table`);
    return { path: spec.path, content: kubeconfigFor(this.model, this.pki.ca('kubernetes-ca').certPem, spec) };
  }

  /** Whether the component table places the component on the host. */
  runs(host: Host, id: ComponentId): boolean {
    return runsOn(componentSpec(id), host, this.model);
  }

  /**
   * Registers the component's service (its row of the component table) on every host the table places it on, for
   * install.sh; returns those hosts' bundles, for the component's files.
   */
  placeComponent(id: ComponentId): HostBundle[] {
    const service = serviceOf(id, this.model);
    const bundles = this.bundlesRunning(id);
    for (const b of bundles) b.addService(service);
    return bundles;
  }

  /** The bundles of the hosts the component table places the component on. */
  bundlesRunning(id: ComponentId): HostBundle[] {
    const component = componentSpec(id);
    return this.bundles.filter((b) => runsOn(component, b.host, this.model));
  }
}
