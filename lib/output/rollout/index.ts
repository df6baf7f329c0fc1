export * from './ansible';
export * from './deploy-script';
export * from './runtime-steps';
export * from './fetch-script';
export * from './health';
export * from './upgrade-commands';
