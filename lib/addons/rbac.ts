import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { userOf } from '../pki';
import { CHART_PROPS, roleRef } from './common';

/** The user of the apiserver's kubelet client certificate (--kubelet-client-certificate): its CN in the table. */
export const APISERVER_KUBELET_CLIENT_USER = userOf('apiserver-kubelet-client');

/** The user of flanneld's certificate. */
export const FLANNEL_USER = userOf('flanneld');

export interface BootstrapTokenSecret {
  /** 6 characters [a-z0-9]. */
  readonly id: string;
  /** 16 characters [a-z0-9]. */
  readonly secret: string;
  /**
   * RFC 3339 time after which the token controller deletes the token.
   * @default never expires
   */
  readonly expiration?: string;
}

export interface RbacChartProps {
  readonly clusterName: string;
  readonly bootstrapToken: BootstrapTokenSecret;
  readonly extraGroups: readonly string[];
}

const BOOTSTRAPPERS = 'system:bootstrappers';

/**
 * `10-rbac`: TLS bootstrapping (token Secret, bootstrap and CSR auto-approval bindings) and
 * apiserver → kubelet access. Binds nothing to system:anonymous or system:unauthenticated.
 */
export class RbacChart extends Chart {
  static readonly ID = '10-rbac';

  constructor(scope: Construct, props: RbacChartProps) {
    super(scope, RbacChart.ID, CHART_PROPS);
    const token = props.bootstrapToken;
    checkBootstrapToken(token);

    new k8s.KubeSecret(this, 'bootstrap-token', {
      metadata: { name: `bootstrap-token-${token.id}`, namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        'description': `kubesmith TLS bootstrap token for cluster ${props.clusterName}`,
        'token-id': token.id,
        'token-secret': token.secret,
        'usage-bootstrap-authentication': 'true',
        'usage-bootstrap-signing': 'true',
        ...(props.extraGroups.length > 0 ? { 'auth-extra-groups': props.extraGroups.join(',') } : {}),
        ...(token.expiration ? { expiration: token.expiration } : {}),
      },
    });

    const bind = (id: string, name: string, clusterRole: string, subject: k8s.Subject) =>
      new k8s.KubeClusterRoleBinding(this, id, {
        metadata: { name },
        roleRef: roleRef('ClusterRole', clusterRole),
        subjects: [subject],
      });
    const group = (name: string): k8s.Subject => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name });

    // Lets a bootstrap-token kubelet create its client CSR...
    bind('kubelet-bootstrap', 'kubesmith:kubelet-bootstrap', 'system:node-bootstrapper', group(BOOTSTRAPPERS));
    // ...which the csrapproving controller then approves,
    bind('node-autoapprove-bootstrap', 'kubesmith:node-autoapprove-bootstrap',
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient', group(BOOTSTRAPPERS));
    // and so its renewals once it is a node.
    bind('node-autoapprove-certificate-rotation', 'kubesmith:node-autoapprove-certificate-rotation',
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', group('system:nodes'));
    // kubectl logs/exec/port-forward: the apiserver calls kubelets as this user.
    bind('apiserver-kubelet-client', 'kubesmith:apiserver-kubelet-client', 'system:kubelet-api-admin',
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: APISERVER_KUBELET_CLIENT_USER });

    // flanneld's Kubernetes subnet manager, as in flannel's own manifest: its Node's podCIDR, its annotations.
    new k8s.KubeClusterRole(this, 'flannel-role', {
      metadata: { name: 'kubesmith:flannel' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
      ],
    });
    bind('flannel', 'kubesmith:flannel', 'kubesmith:flannel', { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: FLANNEL_USER });
  }
}

/** Bootstrap token format of the apiserver's authenticator; anything else never authenticates. */
export function checkBootstrapToken(token: BootstrapTokenSecret): void {
  const problems: string[] = [];
  if (!/^[a-z0-9]{6}$/.test(token?.id ?? '')) problems.push('id must be 6 characters of [a-z0-9]');
  if (!/^[a-z0-9]{16}$/.test(token?.secret ?? '')) problems.push('secret must be 16 characters of [a-z0-9]');
  if (token?.expiration !== undefined
    && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(token.expiration)) {
    problems.push('expiration must be an RFC 3339 time, e.g. 2030-01-01T00:00:00Z');
  }
  if (problems.length > 0) throw new Error(`invalid bootstrap token: ${problems.join('; ')}`);
}
