export * from './certificates';
export * from './host-components';
