// Regenerates test/fixtures/flags/<component>.txt and test/fixtures/fields/<config>.txt from the real
// programs scripts/build-components.sh built (Kubernetes v1.27.16, etcd 3.5, flannel 0.22).
//
//   bash scripts/build-components.sh && npx tsx scripts/regenerate-references.ts
//
// test/cluster/references.test.ts fails when the committed files and the binaries disagree.
import * as fs from 'fs';
import * as path from 'path';
import { componentPath, COMPONENT_DIRS } from '../test/support/components';
import { COMPONENTS, Component, FIELD_REFERENCES, FieldReferenceName, FIXTURES_DIR, loadFlagReference } from '../test/support/flag-reference';
import { bodyLines, fieldLines, flagLines, flagsOfBinary } from '../test/support/reference-from-binaries';

const today = new Date().toISOString().slice(0, 10);

const BINARY: Record<Component, string> = {
  'kube-apiserver': 'kube-apiserver', 'kube-controller-manager': 'kube-controller-manager', 'kube-scheduler': 'kube-scheduler',
  kubelet: 'kubelet', 'kube-proxy': 'kube-proxy', etcd: 'etcd', flanneld: 'flanneld',
};

const FIELD_TYPES: Record<FieldReferenceName, string> = {
  'kubelet-config.v1beta1': 'KubeletConfiguration (kubelet.config.k8s.io/v1beta1): kubernetes/kubelet config/v1beta1 types (k8s.io/kubelet v0.27.16)',
  'kube-proxy-config.v1alpha1': 'KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1): kubernetes/kube-proxy config/v1alpha1 types (k8s.io/kube-proxy v0.27.16)',
  'kube-scheduler-config.v1': 'KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): kubernetes/kube-scheduler config/v1 types (k8s.io/kube-scheduler v0.27.16)',
};

function previousNames(component: Component): string[] {
  try {
    return [...loadFlagReference(component).valid];
  } catch {
    return [];
  }
}

function write(rel: string, header: string[], body: string[]): void {
  const file = path.join(FIXTURES_DIR, rel);
  const old = fs.existsSync(file) ? bodyLines(fs.readFileSync(file, 'utf8')) : [];
  fs.writeFileSync(file, `${header.map((h) => `# ${h}`.trimEnd()).join('\n')}\n${body.join('\n')}\n`);
  const added = body.filter((l) => !old.includes(l));
  const removed = old.filter((l) => !body.includes(l));
  console.log(`${rel}: ${body.length} entries (+${added.length} -${removed.length})`);
  if (added.length) console.log(`  + ${added.join(', ')}`);
  if (removed.length) console.log(`  - ${removed.join(', ')}`);
}

for (const component of COMPONENTS) {
  const binary = componentPath(BINARY[component]);
  const r = flagsOfBinary(component, binary, previousNames(component));
  const env = component === 'etcd' ? 'ETCD_' : component === 'flanneld' ? 'FLANNELD_' : undefined;
  const header = [
    `${component} flags${env ? ` and their ${env}* environment variables` : ''}, from the real binary: ${r.version}.`,
    `Source: \`${BINARY[component]} --help\` of the binary scripts/build-components.sh builds (${path.basename(path.dirname(path.dirname(binary)))}),`,
    '  written by scripts/regenerate-references.ts; test/cluster/references.test.ts checks it still matches. ' + `Generated ${today}.`,
    env
      ? `  Environment names as the program derives them: ${env} + upper-case name with - as _ (pkg/flags FlagToEnv; a . stays).`
      : '  Names without leading dashes; the checker treats _ and - alike (WordSepNormalizeFunc).',
    '"deprecated": the usage text says so, or --help hides the flag (pflag MarkDeprecated) and the parser still accepts it',
    `  (probed with \`--NAME=true --version\` for each name of the previous list that --help does not show: ${r.hidden.length ? r.hidden.join(' ') : 'none'}).`,
    ...(r.rejected.length ? [`Names of the previous (hand-made) list that this binary rejects as unknown, dropped: ${r.rejected.join(' ')}.`] : []),
  ];
  write(`flags/${component}.txt`, header, flagLines(component, r.flags));
}

const configFields = componentPath('config-fields');
for (const name of FIELD_REFERENCES) {
  const header = [
    `${FIELD_TYPES[name].split(':')[0]}, Kubernetes v1.27.16.`,
    `Source: ${FIELD_TYPES[name].split(': ')[1]}, listed by reflection over the Go types and their json tags:`,
    `  scripts/config-fields/main.go, built by scripts/build-components.sh (${COMPONENT_DIRS.configFields}) in the v1.27.16 module;`,
    `  written by scripts/regenerate-references.ts. Generated ${today}.`,
    'Format: dotted JSON paths to leaves; "a[].b" = field b of each element of list a; lists of scalars are leaves;',
    'a trailing " map" marks a map whose keys are user data (the checker stops descending there).',
  ];
  write(`fields/${name}.txt`, header, fieldLines(configFields, name));
}
