export * from './addon-charts';
export * from './app';
export * from './coredns';
export * from './dashboard';
export * from './ingress-nginx';
export * from './namespaces';
export * from './rbac';
export * from './registry-auth';
