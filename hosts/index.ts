export * from './certificates';
export * from './containerd';
export * from './etcd';
export * from './flannel';
export * from './host-components';
export * from './prerequisites';
