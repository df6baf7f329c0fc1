export * from './cert-list';
export * from './cluster-pki';
export * from './state-store';
export * from './x509';
export * from './cert-report';
