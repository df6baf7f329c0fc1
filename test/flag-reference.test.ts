import { parse } from 'yaml';
import { KUBERNETES_MINORS } from '../lib/versions/kubernetes';
import { KUBERNETES_COMPONENTS, featureGates, referenceFile, referencedMinors } from '../lib/versions/references';
import {
  COMPONENTS,
  companionReferenceFile,
  FIELD_REFERENCES,
  checkFields,
  checkFlags,
  extractEnvFile,
  extractFieldPaths,
  extractFlags,
  loadFieldReference,
  loadFieldReferenceDetailed,
  loadFlagReference,
  loadRemovedFlags,
  readHeader,
} from './support/flag-reference';

describe('reference files', () => {
  const minors = referencedMinors();

  test('every minor kubesmith compiles has its references', () => {
    expect(minors).toEqual(KUBERNETES_MINORS.map((m) => m.minor));
  });

  test.each(minors.flatMap((m) => KUBERNETES_COMPONENTS.map((c) => [m, c] as const)))('1.%i %s parses, has a provenance header and a plausible size', (minor, c) => {
    const ref = loadFlagReference(c, minor);
    expect(ref.valid.size).toBeGreaterThan(25);
    for (const d of ref.deprecated) expect(ref.valid.has(d)).toBe(true);
    for (const n of ref.valid) expect(n).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    const header = readHeader(referenceFile(minor, 'flags', c)).join('\n');
    expect(header).toMatch(/Source/);
    expect(header).toMatch(new RegExp(`Kubernetes 1\\.${minor}\\.\\d+|v1\\.${minor}\\.\\d+`));
    expect(header).toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  test.each(['etcd', 'flanneld'] as const)('%s parses and has a provenance header', (c) => {
    const ref = loadFlagReference(c);
    expect(ref.valid.size).toBeGreaterThan(25);
    expect(readHeader(companionReferenceFile(c)).join('\n')).toMatch(/Source/);
  });

  test.each(minors.flatMap((m) => FIELD_REFERENCES.map((n) => [m, n] as const)))('1.%i %s parses and has a provenance header', (minor, name) => {
    const paths = loadFieldReference(name, minor);
    expect(paths.size).toBeGreaterThan(40);
    expect(paths.has('apiVersion')).toBe(true);
    expect(paths.has('kind')).toBe(true);
    expect(readHeader(referenceFile(minor, 'fields', name)).join('\n')).toMatch(/Source: .*(kubernetes\/kube[-a-z]+ config\/|Go types)/);
  });

  test.each(minors)('1.%i feature gates parse: stages, defaults, locks', (minor) => {
    const gates = featureGates(minor);
    expect(gates.size).toBeGreaterThan(100);
    const ga = [...gates.values()].filter((g) => g.stage === 'GA');
    expect(ga.length).toBeGreaterThan(10);
    // A locked gate is GA or deprecated, never alpha.
    expect([...gates.values()].filter((g) => g.locked && g.stage === 'ALPHA')).toEqual([]);
  });

  test.each(minors)('1.%i: the flags kubesmith sets are present', (minor) => {
    const has = (c: (typeof COMPONENTS)[number], names: string[]) =>
      expect(names.filter((n) => !loadFlagReference(c, minor).valid.has(n))).toEqual([]);
    has('kube-apiserver', [
      'service-account-issuer',
      'service-account-signing-key-file',
      'service-account-key-file',
      'etcd-servers',
      'etcd-cafile',
      'client-ca-file',
      'tls-cert-file',
      'enable-bootstrap-token-auth',
      'kubelet-client-certificate',
      'requestheader-client-ca-file',
      'proxy-client-cert-file',
      'authorization-mode',
      'enable-admission-plugins',
      'v',
    ]);
    has('kube-controller-manager', ['cluster-signing-duration', 'cluster-signing-cert-file', 'root-ca-file', 'leader-elect', 'master', 'kubeconfig', 'controllers']);
    has('kube-scheduler', ['config', 'leader-elect', 'master', 'authentication-kubeconfig']);
    has('kubelet', ['bootstrap-kubeconfig', 'kubeconfig', 'config', 'cert-dir', 'node-ip', 'hostname-override', 'container-runtime-endpoint']);
    has('kube-proxy', ['config', 'cluster-cidr', 'proxy-mode', 'hostname-override', 'kubeconfig']);
  });

  test('the companions\' flags kubesmith sets are present', () => {
    const has = (c: 'etcd' | 'flanneld', names: string[]) => expect(names.filter((n) => !loadFlagReference(c).valid.has(n))).toEqual([]);
    has('etcd', ['name', 'initial-cluster', 'ETCD_INITIAL_CLUSTER', 'ETCD_NAME', 'ETCD_DATA_DIR', 'ETCD_PEER_TRUSTED_CA_FILE', 'listen-peer-urls']);
    has('flanneld', ['etcd-endpoints', 'etcd-prefix', 'iface', 'FLANNELD_ETCD_ENDPOINTS', 'kube-subnet-mgr']);
  });

  test('what later minors removed is in the earlier reference and not in the later one', () => {
    const flag = (c: typeof KUBERNETES_COMPONENTS[number], name: string, minor: number) => loadFlagReference(c, minor).valid.has(name);
    expect([flag('kube-scheduler', 'lock-object-namespace', 27), flag('kube-scheduler', 'lock-object-namespace', 28)]).toEqual([true, false]);
    expect([flag('kubelet', 'pod-infra-container-image', 34), flag('kubelet', 'pod-infra-container-image', 35)]).toEqual([true, false]);
    expect([flag('kube-controller-manager', 'concurrent-service-syncs', 36), flag('kube-controller-manager', 'concurrent-service-syncs', 37)]).toEqual([true, false]);
    expect([featureGates(28).has('CronJobTimeZone'), featureGates(29).has('CronJobTimeZone')]).toEqual([true, false]);
    expect([featureGates(36).has('SidecarContainers'), featureGates(37).has('SidecarContainers')]).toEqual([true, false]);
    expect([loadFieldReference('kubelet-config.v1beta1', 30).has('failCgroupV1'), loadFieldReference('kubelet-config.v1beta1', 31).has('failCgroupV1')]).toEqual([false, true]);
  });

  test('flags removed before 1.27 are absent from 1.27', () => {
    const api = loadFlagReference('kube-apiserver', 27).valid;
    for (const n of ['insecure-port', 'insecure-bind-address', 'kubelet-https', 'logtostderr', 'log-dir', 'master-service-namespace', 'peer-ca-file']) {
      expect([n, api.has(n)]).toEqual([n, false]);
    }
    expect(loadFlagReference('kubelet', 27).valid.has('experimental-bootstrap-kubeconfig')).toBe(false);
    expect(loadFlagReference('kubelet', 27).valid.has('container-runtime')).toBe(false);
    expect(loadFlagReference('kubelet', 27).valid.has('config-dir')).toBe(false); // 1.28
    expect(loadFlagReference('kube-controller-manager', 27).valid.has('address')).toBe(false);
    expect(loadFlagReference('kube-controller-manager', 27).valid.has('experimental-cluster-signing-duration')).toBe(false);
    expect(loadFlagReference('kube-controller-manager', 27).valid.has('concurrent-job-syncs')).toBe(false); // 1.28
  });

  test('every entry of removed.txt is absent from its component list', () => {
    const removed = loadRemovedFlags();
    expect(removed.length).toBeGreaterThan(20);
    const offenders = removed.filter((r) => {
      expect(COMPONENTS as readonly string[]).toContain(r.component);
      return checkFlags(r.component as (typeof COMPONENTS)[number], [r.name], 27).length === 0;
    });
    expect(offenders).toEqual([]);
  });

  test('1.27: master still valid where the sources register it, absent elsewhere', () => {
    expect(loadFlagReference('kube-controller-manager', 27).valid.has('master')).toBe(true);
    expect(loadFlagReference('kube-scheduler', 27).valid.has('master')).toBe(true);
    expect(loadFlagReference('kube-proxy', 27).valid.has('master')).toBe(true);
    expect(loadFlagReference('kube-apiserver', 27).valid.has('master')).toBe(false);
    expect(loadFlagReference('kubelet', 27).valid.has('master')).toBe(false);
  });

  test('1.27 deprecation marks', () => {
    expect(loadFlagReference('kubelet', 27).deprecated.has('cgroup-driver')).toBe(true);
    expect(loadFlagReference('kubelet', 27).deprecated.has('provider-id')).toBe(true);
    expect(loadFlagReference('kubelet', 27).deprecated.has('v')).toBe(false);
    expect(loadFlagReference('kubelet', 27).deprecated.has('bootstrap-kubeconfig')).toBe(false);
    expect(loadFlagReference('kube-scheduler', 27).deprecated.has('lock-object-name')).toBe(true);
    expect(loadFlagReference('kube-apiserver', 27).deprecated.has('enable-logs-handler')).toBe(true);
    expect(loadFlagReference('kube-apiserver', 27).deprecated.has('etcd-servers')).toBe(false);
    expect(loadFlagReference('etcd', 27).deprecated.has('enable-v2')).toBe(true);
    expect(loadFlagReference('etcd', 27).deprecated.has('ETCD_ENABLE_V2')).toBe(true);
    expect(loadFieldReferenceDetailed('kubelet-config.v1beta1', 27).maps.has('featureGates')).toBe(true);
    expect(loadFieldReferenceDetailed('kubelet-config.v1beta1', 27).maps.has('evictionHard')).toBe(true);
    expect(loadFieldReferenceDetailed('kube-proxy-config.v1alpha1', 27).maps.has('featureGates')).toBe(true);
  });

  test('field lists contain nested paths', () => {
    const k = loadFieldReference('kubelet-config.v1beta1', 27);
    for (const p of ['authentication.webhook.enabled', 'authentication.x509.clientCAFile', 'authorization.mode', 'cgroupDriver', 'clusterDNS', 'containerRuntimeEndpoint', 'registerWithTaints[].effect', 'logging.format']) {
      expect([p, k.has(p)]).toEqual([p, true]);
    }
    const p = loadFieldReference('kube-proxy-config.v1alpha1', 27);
    for (const f of ['clusterCIDR', 'ipvs.scheduler', 'mode', 'clientConnection.kubeconfig', 'conntrack.maxPerCore', 'iptables.masqueradeAll']) {
      expect([f, p.has(f)]).toEqual([f, true]);
    }
    expect(p.has('logging.format')).toBe(false); // 1.28
  });
});

describe('extractors', () => {
  test('systemd ExecStart with continuations', () => {
    const unit = [
      '[Unit]',
      'Description=Kubernetes API Server',
      '[Service]',
      'EnvironmentFile=-/etc/kubernetes/kube-apiserver.env',
      'ExecStart=/usr/local/bin/kube-apiserver \\',
      '  --advertise-address=10.0.0.11 \\',
      '  --etcd-servers=https://10.0.0.11:2379,https://10.0.0.12:2379 \\',
      "  --tls-cipher-suites='TLS_A, TLS_B' \\",
      '  --allow-privileged \\',
      '  $KUBE_EXTRA_OPTS',
      'Restart=on-failure',
    ].join('\n');
    expect(extractFlags(unit)).toEqual([
      { name: 'advertise-address', value: '10.0.0.11' },
      { name: 'etcd-servers', value: 'https://10.0.0.11:2379,https://10.0.0.12:2379' },
      { name: 'tls-cipher-suites', value: 'TLS_A, TLS_B' },
      { name: 'allow-privileged' },
    ]);
  });

  test('EnvironmentFile with one quoted, continued variable', () => {
    const env = ['# generated', 'KUBE_APISERVER_OPTS="--a=b \\', '  --c \\', "  --d='x y'\"", ''].join('\n');
    expect(extractFlags(env)).toEqual([{ name: 'a', value: 'b' }, { name: 'c' }, { name: 'd', value: 'x y' }]);
  });

  test('a non-flag token after a flag is not taken as its value', () => {
    expect(extractFlags('kube-proxy --config /etc/kp.yaml --v=2')).toEqual([{ name: 'config' }, { name: 'v', value: '2' }]);
  });

  test('extractEnvFile reads etcd-style files', () => {
    const env = extractEnvFile(['# etcd', '', 'ETCD_NAME="etcd-1"', "ETCD_DATA_DIR='/var/lib/etcd'", 'ETCD_INITIAL_CLUSTER=a=https://1.1.1.1:2380,b=https://1.1.1.2:2380'].join('\n'));
    expect([...env.entries()]).toEqual([
      ['ETCD_NAME', 'etcd-1'],
      ['ETCD_DATA_DIR', '/var/lib/etcd'],
      ['ETCD_INITIAL_CLUSTER', 'a=https://1.1.1.1:2380,b=https://1.1.1.2:2380'],
    ]);
    expect(() => extractEnvFile('not an assignment')).toThrow(/KEY=VALUE/);
  });

  test('extractFieldPaths walks objects, lists and stops at map fields', () => {
    const doc = {
      kind: 'KubeletConfiguration',
      authentication: { webhook: { enabled: true }, x509: {} },
      clusterDNS: ['10.96.0.10'],
      registerWithTaints: [{ key: 'k', effect: 'NoSchedule' }],
      featureGates: { SomeGate: true },
    };
    expect(extractFieldPaths(doc, ['featureGates']).sort()).toEqual(
      ['authentication.webhook.enabled', 'authentication.x509', 'clusterDNS', 'featureGates', 'kind', 'registerWithTaints[].effect', 'registerWithTaints[].key'].sort(),
    );
    expect(extractFieldPaths(doc)).toContain('featureGates.SomeGate');
  });
});

describe('checkers', () => {
  const optionFile = [
    'KUBE_APISERVER_OPTS="--advertise-address=10.0.0.11 \\',
    '  --etcd-servers=https://10.0.0.11:2379 \\',
    '  --service-account-issuer=https://kubernetes.default.svc \\',
    '  --insecure-port=0 \\',
    '  --enable-logs-handler=false \\',
    '  --v=2"',
  ].join('\n');

  test('unknown and deprecated flags in an option file are reported (1.27)', () => {
    const problems = checkFlags('kube-apiserver', extractFlags(optionFile), 27);
    expect(problems.map((p) => [p.kind, p.name])).toEqual([
      ['unknown', 'insecure-port'],
      ['deprecated', 'enable-logs-handler'],
    ]);
    expect(problems[0].message).toMatch(/kube-apiserver: unknown --insecure-port/);
    expect(problems[0].message).toMatch(/removed: .*1\.24/);
    expect(problems[1].message).toMatch(/--enable-logs-handler is deprecated/);
  });

  test('a clean option file has no problems', () => {
    const clean = 'KUBELET_OPTS="--bootstrap-kubeconfig=/etc/k/b.kubeconfig --kubeconfig=/etc/k/kubelet.kubeconfig --config=/etc/k/kubelet.yaml --cert-dir=/var/lib/kubelet/pki --v=2"';
    expect(checkFlags('kubelet', extractFlags(clean))).toEqual([]);
  });

  test('underscore/dash equivalence only for Kubernetes components', () => {
    expect(checkFlags('kube-controller-manager', ['--concurrent_rc_syncs', '--concurrent-rc-syncs'])).toEqual([]);
    expect(checkFlags('kube-proxy', ['--cluster-cidr', '--cluster_cidr'])).toEqual([]);
    expect(checkFlags('flanneld', ['--log_backtrace_at'])).toEqual([]);
    expect(checkFlags('flanneld', ['--log-backtrace-at']).map((p) => p.kind)).toEqual(['unknown']);
  });

  test('etcd EnvironmentFile names are checked (etcd 3.5, paired with 1.27)', () => {
    const env = extractEnvFile('ETCD_NAME=etcd-1\nETCD_INITIAL_CLUSTER_STATE=new\nETCD_ENABLE_V2=true\nETCD_INITIAL_CLUSTER_NAME=x\n');
    const problems = checkFlags('etcd', env.keys(), 27);
    expect(problems.map((p) => [p.kind, p.name])).toEqual([
      ['deprecated', 'ETCD_ENABLE_V2'],
      ['unknown', 'ETCD_INITIAL_CLUSTER_NAME'],
    ]);
    expect(problems[1].message).toMatch(/etcd: unknown ETCD_INITIAL_CLUSTER_NAME/);
  });

  test('unknown field in a KubeletConfiguration is reported, valid ones are not', () => {
    const yaml = [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      'authentication:',
      '  anonymous:',
      '    enabled: false',
      '  webhook:',
      '    enabeld: true',
      '  x509:',
      '    clientCAFile: /etc/kubernetes/pki/ca.pem',
      'authorization:',
      '  mode: Webhook',
      'cgroupDriver: systemd',
      'clusterDNS: ["10.96.0.10"]',
      'evictionHard:',
      '  memory.available: 100Mi',
      'featureGates:',
      '  GracefulNodeShutdown: true',
      'registerWithTaints:',
      '  - key: node-role.kubernetes.io/control-plane',
      '    effect: NoSchedule',
      'failSwapOn: false',
      'podCidr: 10.244.0.0/24',
    ].join('\n');
    const ref = loadFieldReferenceDetailed('kubelet-config.v1beta1');
    const problems = checkFields('kubelet-config.v1beta1', extractFieldPaths(parse(yaml), ref.maps));
    expect(problems.map((p) => p.name)).toEqual(['authentication.webhook.enabeld', 'podCidr']);
    expect(problems[0].message).toMatch(/kubelet-config\.v1beta1: unknown field authentication\.webhook\.enabeld/);
    // Without stopping at maps, keys below map fields are still accepted.
    expect(checkFields('kubelet-config.v1beta1', extractFieldPaths(parse(yaml))).map((p) => p.name)).toEqual(['authentication.webhook.enabeld', 'podCidr']);
  });

  test('unknown field in a KubeProxyConfiguration is reported', () => {
    const doc = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'ipvs', ipvs: { scheduler: 'rr', strictArp: true }, clusterCIDR: '10.244.0.0/16' };
    expect(checkFields('kube-proxy-config.v1alpha1', extractFieldPaths(doc)).map((p) => p.name)).toEqual(['ipvs.strictArp']);
  });
});
