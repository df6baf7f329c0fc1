import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ADMIN_KUBECONFIG, ETCD_FILES, KUBE_APISERVER, KUBELET } from '../../hosts';
import { HostBundle } from '../../lib/components';
import { summarize } from '../../lib/pki';
import { LARGE, SEED } from '../support/clusters';
import { decodeBase64, ecdsa, parseKubeconfig, parseOptionFile, synth, Synthesized } from '../support/host-files';
import { cleanupTempDirs } from '../support/tmp';

afterAll(cleanupTempDirs);

/** Paths components create at run time, so no bundle holds them. */
const WRITTEN_AT_RUNTIME = new Set<string>([KUBELET.kubeconfig, KUBE_APISERVER.auditLog, ETCD_FILES.rejoin]);

/** Flags gone from (or deprecated in favour of config files in) Kubernetes 1.27, that the 1.12 tutorial used. */
const REMOVED_FLAGS = [
  'logtostderr', 'alsologtostderr', 'log-dir', 'log-file', 'insecure-port', 'insecure-bind-address', 'kubelet-https',
  'experimental-bootstrap-kubeconfig', 'address', 'port', 'experimental-cluster-signing-duration', 'master',
  'container-runtime', 'network-plugin', 'cni-bin-dir', 'cni-conf-dir', 'cni-cache-dir', 'pod-infra-container-image',
  'service-account-api-audiences', 'enable-swagger-ui', 'basic-auth-file', 'token-auth-file', 'repair-malformed-updates',
  'tls-ca-file', 'cluster-dns', 'cluster-domain', 'fail-swap-on', 'anonymous-auth', 'cgroup-driver', 'container-runtime-endpoint',
  'proxy-mode', 'cluster-cidr', 'healthz-bind-address', 'metrics-bind-address', 'feature-gates',
];
/** Flags of that list that are current for one component: the controller-manager allocates podCIDRs from --cluster-cidr. */
const CURRENT_FOR: Readonly<Record<string, string>> = { 'cluster-cidr': 'KUBE_CONTROLLER_MANAGER_OPTS' };

const textOf = (b: HostBundle) => new Map(b.files.map((f) => [`/${f.path}`, f.content.toString('utf8')]));
const isOptionFile = (text: string) => /^[A-Z][A-Z_]*_OPTS="--/.test(text);
const COMPONENT_CONFIG_KINDS = ['KubeletConfiguration', 'KubeProxyConfiguration', 'KubeSchedulerConfiguration'];

/** Every absolute file path a flag, component config field, kubeconfig or unit of the bundle refers to. */
function referencedPaths(files: Map<string, string>): { from: string; ref: string }[] {
  const refs: { from: string; ref: string }[] = [];
  const walk = (from: string, v: unknown): void => {
    if (typeof v === 'string' && v.startsWith('/')) refs.push({ from, ref: v });
    else if (Array.isArray(v)) v.forEach((x) => walk(from, x));
    else if (v && typeof v === 'object') Object.values(v).forEach((x) => walk(from, x));
  };
  for (const [file, text] of files) {
    if (isOptionFile(text)) {
      for (const [name, value] of parseOptionFile(text).flags) walk(`${file} --${name}`, value);
    } else if (file.endsWith('.kubeconfig')) {
      for (const u of parseKubeconfig(text).users) walk(`${file} user ${u.name}`, u.user);
    } else if (file.endsWith('.yaml') && COMPONENT_CONFIG_KINDS.includes(parse(text)?.kind)) {
      walk(file, parse(text));
    } else if (file.endsWith('.service')) {
      for (const m of text.matchAll(/^EnvironmentFile=-?(\S+)$/gm)) walk(`${file} EnvironmentFile`, m[1]);
    }
  }
  return refs;
}

describe.each([['seed', SEED], ['large', LARGE]])('%s cluster', (_name, def) => {
  let s: Synthesized;
  let kubeconfigs: { where: string; text: string }[];
  beforeAll(async () => {
    s = await synth(ecdsa(def));
    kubeconfigs = [
      ...s.result.cluster.bundles.flatMap((b) => [...textOf(b)]
        .filter(([p]) => p.endsWith('.kubeconfig')).map(([p, text]) => ({ where: `${b.host.name}:${p}`, text }))),
      { where: `dist/${ADMIN_KUBECONFIG.operatorFile}`, text: fs.readFileSync(path.join(s.dir, 'dist', ADMIN_KUBECONFIG.operatorFile), 'utf8') },
    ];
  });

  test('there are kubeconfigs on masters and nodes', () => {
    const { model } = s.result;
    // Masters: admin, controller-manager, scheduler; masters and nodes: kubelet bootstrap, kube-proxy, flanneld; dist/admin.kubeconfig.
    const kubeletHosts = model.hosts.filter((h) => h.has('master') || h.has('node')).length;
    expect(kubeconfigs.length).toBe(model.masters.length * 3 + kubeletHosts * 3 + 1);
  });

  test("every kubeconfig's server is a name or address of the apiserver certificate, at the port serving it, trusting the cluster CA", () => {
    const { model, pki } = s.result;
    const sans = summarize(pki.cert('apiserver').certificate);
    const lb = model.loadBalancer;
    for (const { where, text } of kubeconfigs) {
      const kc = parseKubeconfig(text);
      expect([where, kc.clusters.length]).toEqual([where, 1]);
      const url = new URL(kc.clusters[0].cluster.server);
      expect([where, url.protocol]).toEqual([where, 'https:']);
      expect([where, [...sans.dnsNames, ...sans.ipAddresses]]).toEqual([where, expect.arrayContaining([url.hostname])]);
      const port = Number(url.port);
      const expectedPort = lb && url.hostname === lb.vip ? lb.port : model.apiServerPort;
      expect([where, port]).toEqual([where, expectedPort]);
      expect([where, decodeBase64(kc.clusters[0].cluster['certificate-authority-data']!)]).toEqual([where, pki.ca('kubernetes-ca').certPem]);
      expect([where, kc['current-context']]).toEqual([where, kc.contexts[0].name]);
    }
  });

  test('each certificate-file kubeconfig user is the common name of the certificate it points at', () => {
    for (const b of s.result.cluster.bundles) {
      const files = textOf(b);
      for (const [p, text] of files) {
        if (!p.endsWith('.kubeconfig')) continue;
        for (const u of parseKubeconfig(text).users) {
          if (!u.user['client-certificate']) continue;
          const cert = new crypto.X509Certificate(files.get(u.user['client-certificate'])!);
          expect([p, summarize(cert).subject.split(', ')]).toEqual([p, expect.arrayContaining([`CN=${u.name}`])]);
        }
      }
    }
  });

  test('every file a flag, config field, kubeconfig or unit refers to is in the same host bundle', () => {
    let checked = 0;
    for (const b of s.result.cluster.bundles) {
      const files = textOf(b);
      for (const { from, ref } of referencedPaths(files)) {
        if (WRITTEN_AT_RUNTIME.has(ref)) continue;
        // A directory (--cert-dir) is fine when the bundle fills it.
        const present = files.has(ref) || [...files.keys()].some((f) => f.startsWith(`${ref}/`));
        expect(`${b.host.name}: ${from} -> ${ref} ${present ? 'present' : 'MISSING'}`).toBe(`${b.host.name}: ${from} -> ${ref} present`);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  test('no flag removed in (or deprecated for a config field by) 1.27 appears in any option file', () => {
    for (const b of s.result.cluster.bundles) {
      for (const [p, text] of textOf(b)) {
        if (!isOptionFile(text)) continue;
        const variable = /^([A-Z_]+)=/.exec(text)![1];
        const names = parseOptionFile(text).flags.map(([n]) => n);
        expect([b.host.name, p, names.filter((n) => REMOVED_FLAGS.includes(n) && CURRENT_FOR[n] !== variable)]).toEqual([b.host.name, p, []]);
      }
    }
  });
});

test('the generic reference check finds a missing file', () => {
  const files = new Map([
    ['/opt/kubernetes/cfg/x', 'X_OPTS="--kubeconfig=/opt/kubernetes/cfg/x.kubeconfig \\\n--v=2"\n'],
    ['/usr/lib/systemd/system/x.service', '[Service]\nEnvironmentFile=/opt/kubernetes/cfg/x\n'],
  ]);
  expect(referencedPaths(files).map((r) => r.ref)).toEqual(['/opt/kubernetes/cfg/x.kubeconfig', '/opt/kubernetes/cfg/x']);
});
