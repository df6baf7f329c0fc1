export * from './certificates';
export * from './host-components';
export * from './install-script';
export * from './keepalived';
export * from './nginx';
