export * from './admin-kubeconfig';
export * from './certificates';
export * from './host-components';
export * from './kube-apiserver';
export * from './kube-controller-manager';
export * from './kube-proxy';
export * from './kube-scheduler';
export * from './kubelet';
