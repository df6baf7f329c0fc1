// Regenerates the references from real binaries:
//  - lib/versions/references/1.NN/: each Kubernetes minor's flags (flags/<component>.txt), feature gates
//    (feature-gates.txt) and config fields (fields/<type>.txt), from the minor's newest release built by
//    scripts/build-kubernetes.sh (the binaries and config-fields);
//  - test/fixtures/flags/{etcd,flanneld}.txt, from the companions scripts/build-components.sh builds (--companions).
//
//   npx tsx scripts/regenerate-references.ts 1.37 1.36   # those minors (builds them first: ~9 min each, cold)
//   npx tsx scripts/regenerate-references.ts --all        # every minor of lib/versions/kubernetes.ts
//   npx tsx scripts/regenerate-references.ts --companions # the seed's etcd and flanneld
//   npx tsx scripts/regenerate-references.ts etcd/v3.6.17 # another etcd minor (test/fixtures/flags/etcd-3.6.txt)
//   npx tsx scripts/regenerate-references.ts 1.27/feature-gates   # a minor's feature gates alone (seconds)
//
// test/cluster/references.test.ts fails when the committed files and the built binaries disagree.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { KUBERNETES_MINORS, kubernetesMinor } from '../lib/versions/kubernetes';
import {
  CONFIG_TYPES, CONFIG_TYPE_NAMES, KUBERNETES_COMPONENTS, flagReference, referenceFile, referencedMinors,
} from '../lib/versions/references';
import { componentPath, componentsDir } from '../test/support/components';
import { companionReferenceFile } from '../test/support/flag-reference';
import {
  bodyLines, fieldLines, flagLines, flagsOfBinary, gateLines,
} from '../test/support/reference-from-binaries';

const today = new Date().toISOString().slice(0, 10);

function write(file: string, header: readonly string[], body: readonly string[]): void {
  const old = fs.existsSync(file) ? bodyLines(fs.readFileSync(file, 'utf8')) : [];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${header.map((h) => `# ${h}`.trimEnd()).join('\n')}\n${body.join('\n')}\n`);
  const added = body.filter((l) => !old.includes(l));
  const removed = old.filter((l) => !body.includes(l));
  console.log(`${path.relative(process.cwd(), file)}: ${body.length} entries (+${added.length} -${removed.length})`);
  if (added.length) console.log(`  + ${added.join(', ')}`);
  if (removed.length) console.log(`  - ${removed.join(', ')}`);
}

/** Names of the same component in every committed reference (this minor's old one too): the hidden-flag candidates. */
function candidates(component: typeof KUBERNETES_COMPONENTS[number]): string[] {
  return referencedMinors().flatMap((m) => {
    try {
      return [...flagReference(m, component).valid];
    } catch {
      return [];
    }
  });
}

/** The minor's references; `gatesOnly`: its feature gates alone (config-fields builds in seconds). */
function regenerateMinor(minor: number, gatesOnly = false): void {
  const row = kubernetesMinor(minor);
  const version = `v${row.newest}`;
  const build = spawnSync('bash', [path.join(__dirname, 'build-kubernetes.sh'), version,
    ...(gatesOnly ? [] : KUBERNETES_COMPONENTS), 'config-fields'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`scripts/build-kubernetes.sh ${version} failed`);
  const bin = (name: string) => path.join(componentsDir(), name === 'config-fields' ? `config-fields-${version}` : `kubernetes-${version}`, 'bin', name);
  // Staging modules the proxy does not serve at this patch, built at an earlier one (scripts/build-kubernetes.sh).
  const subs = path.join(path.dirname(bin('config-fields')), 'SUBSTITUTIONS');
  const substituted = fs.existsSync(subs) ? bodyLines(fs.readFileSync(subs, 'utf8')).map((l) => l.replace(' ', '@')) : [];
  const note = substituted.length ? [`Built with staging modules the proxy does not serve at ${version} taken at an earlier patch: ${substituted.join(' ')}.`] : [];
  for (const component of gatesOnly ? [] : KUBERNETES_COMPONENTS) {
    const r = flagsOfBinary(component, bin(component), candidates(component));
    if (r.version !== `Kubernetes ${version}`) throw new Error(`${bin(component)} says ${r.version}, expected Kubernetes ${version}`);
    write(referenceFile(minor, 'flags', component), [
      `${component} flags of Kubernetes ${row.newest} (the reference for every 1.${minor} release), from the real binary.`,
      `Source: \`${component} --help\` of the binary scripts/build-kubernetes.sh ${version} builds; written by`,
      `  scripts/regenerate-references.ts ${generated()}. Names without leading dashes; _ and - are the same (WordSepNormalizeFunc).`,
      '"deprecated": the usage text says so, or --help hides the flag (pflag MarkDeprecated) and the parser still accepts it',
      `  (probed with \`--NAME=true --version\` for the other minors' names --help does not show: ${r.hidden.length ? r.hidden.join(' ') : 'none'}).`,
      ...note,
    ], flagLines(component, r.flags));
  }
  const fields = bin('config-fields');
  write(referenceFile(minor, 'feature-gates'), [
    `Feature gates of Kubernetes ${row.newest}: every gate its components register (one registry for all of them), with`,
    '  stage, default and whether it is locked to that default; GA and deprecated gates included, which --help leaves out.',
    `Source: config-fields feature-gates (scripts/config-fields/main.go over k8s.io/kubernetes/pkg/features ${version});`,
    `  written by scripts/regenerate-references.ts ${generated()}.`,
    ...note,
  ], gateLines(fields));
  for (const type of gatesOnly ? [] : CONFIG_TYPE_NAMES) {
    const t = CONFIG_TYPES[type];
    write(referenceFile(minor, 'fields', type), [
      `${t.kind} (${t.apiVersion}) of Kubernetes ${row.newest}.`,
      `Source: the Go types (staging modules v0.${minor}.${row.newest.split('.')[2]}) and their json tags, listed by`,
      `  config-fields (scripts/config-fields/main.go); written by scripts/regenerate-references.ts ${generated()}.`,
      'Format: dotted JSON paths to leaves; "a[].b" = field b of each element of list a; lists of scalars are leaves;',
      'a trailing " map" marks a map whose keys are user data (the checker stops descending there).',
      ...note,
    ], fieldLines(fields, type));
  }
}

function generated(): string {
  return `on ${today}`;
}

/** A companion's reference: the seed's etcd and flanneld, or the etcd release `etcdVersion` (built first). */
function regenerateCompanion(component: 'etcd' | 'flanneld', etcdVersion?: string): void {
  let binary = componentPath(component);
  let file = companionReferenceFile(component);
  if (etcdVersion) {
    const build = spawnSync('bash', [path.join(__dirname, 'build-etcd.sh'), etcdVersion], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`scripts/build-etcd.sh ${etcdVersion} failed`);
    binary = path.join(componentsDir(), `etcd-${etcdVersion}`, 'bin', 'etcd');
    file = path.join(path.dirname(file), `etcd-${etcdVersion.slice(1).split('.').slice(0, 2).join('.')}.txt`);
  }
  // Hidden-flag candidates: every name of this component's references (etcd: of every etcd minor).
  const dir = path.dirname(file);
  const previous = fs.readdirSync(dir).filter((f) => f === `${component}.txt` || f.startsWith(`${component}-`))
    .flatMap((f) => bodyLines(fs.readFileSync(path.join(dir, f), 'utf8')).map((l) => l.split(/\s+/)[0]))
    .filter((n) => !/^[A-Z]/.test(n));
  const r = flagsOfBinary(component, binary, previous);
  const env = component === 'etcd' ? 'ETCD_' : 'FLANNELD_';
  write(file, [
    `${component} flags and their ${env}* environment variables, from the real binary: ${r.version}.`,
    `Source: \`${component} --help\` of the binary ${etcdVersion ? `scripts/build-etcd.sh ${etcdVersion}` : 'scripts/build-components.sh'} builds (${path.basename(path.dirname(path.dirname(binary)))}),`,
    `  written by scripts/regenerate-references.ts ${generated()}.`,
    `  Environment names as the program derives them: ${env} + upper-case name with - as _ (pkg/flags FlagToEnv; a . stays).`,
    '"deprecated": the usage text says so, or --help hides the flag and the parser still accepts it',
    `  (probed with \`--NAME=true --version\` for the names of its other references --help does not show: ${r.hidden.length ? r.hidden.join(' ') : 'none'}).`,
  ], flagLines(component, r.flags));
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: regenerate-references.ts 1.NN[/feature-gates]... | etcd/v3.N.P | --all | --companions');
  process.exit(2);
}
for (const a of args) {
  if (a === '--companions') (['etcd', 'flanneld'] as const).forEach((c) => regenerateCompanion(c));
  else if (/^etcd\/v3\.\d+\.\d+$/.test(a)) regenerateCompanion('etcd', a.slice(5));
  else if (a === '--all') KUBERNETES_MINORS.forEach((m) => regenerateMinor(m.minor));
  else if (/^1\.\d+$/.test(a)) regenerateMinor(Number(a.split('.')[1]));
  else if (/^1\.\d+\/feature-gates$/.test(a)) regenerateMinor(Number(a.split(/[./]/)[1]), true);
  else {
    console.error(`regenerate-references.ts: "${a}" is not a minor like 1.37, 1.37/feature-gates, etcd/v3.6.17, --all or --companions`);
    process.exit(2);
  }
}
