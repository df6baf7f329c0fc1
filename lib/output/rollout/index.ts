export * from './ansible';
export * from './deploy-script';
export * from './etcdctl';
