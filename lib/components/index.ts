// The component layer: the component table, the Cluster and HostBundle constructs every host component adds to,
// and the renderers they share (units, option and environment files, kubeconfigs, the services' file dependencies).
export * from './cluster';
export * from './component-list';
export * from './component-settings';
export * from './environment-file';
export * from './etcd-files';
export * from './host-bundle';
export * from './kubeconfig';
export * from './membership';
export * from './prerequisites';
export * from './service-dependencies';
export * from './systemd-unit';
