export * from './cluster-definition';
export * from './cluster-model';
export * from './validation';
export * from './cluster';
export * from './synthesize';
export * from './bundle/host-bundle';
export * from './bundle/bundle-writer';
export * from './pki';
