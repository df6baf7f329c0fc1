export * from './ansible';
export * from './deploy-script';
export * from './etcdctl';
export * from './fetch-script';
