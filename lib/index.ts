// kubesmith's public API: the cluster definition, synthesis, and what the certificate report and the bench need.
// Everything else is internal; docs/architecture.md says where it lives.
export * from './model/definition';
export { DEFAULTS } from './model/defaults';
export { KUBERNETES_MINORS, KubernetesMinor, SUPPORTED_MINORS } from './versions/kubernetes';
export { ClusterModel } from './model/cluster-model';
export { ClusterDefinitionError, DefinitionIssue, validateDefinition } from './model/validation';
export { ClusterPki, PkiOptions } from './pki/cluster-pki';
export { PkiStateError } from './pki/errors';
export { PkiEvent, formatEvent } from './pki/reasons';
export { CertReportRow, certificateReport, formatReport } from './pki/cert-report';
export {
  SynthesisResult, SynthesizeOptions, defaultStateDir, synthesize, synthesizeCluster,
} from './synth/synthesize';
