// The PKI layer: the certificate table, the state directory, issuance, the generated secrets and the report.
export * from './cert-list';
export * from './cert-report';
export * from './cluster-pki';
export * from './errors';
export * from './reasons';
export * from './secrets';
export * from './state-store';
export * from './x509';
