export * from './ansible';
export * from './deploy-script';
