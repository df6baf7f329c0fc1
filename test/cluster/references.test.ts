/**
 * The seed minor's references (lib/versions/references/1.NN) and the companions' (test/fixtures/flags) say what the
 * real binaries of the seed's versions say (scripts/build-components.sh builds them; scripts/regenerate-references.ts
 * writes the files). A stale reference fails here, so synth and test/hosts/flags.test.ts check against the truth.
 * The other minors' references are checked when they are regenerated from their own builds.
 */
import * as fs from 'fs';
import { componentPath, requireComponents } from '../support/components';
import { referenceFile } from '../../lib/versions/references';
import {
  COMPONENTS, FIELD_REFERENCES, SEED_MINOR, companionReferenceFile, loadFlagReference, loadRemovedFlags,
} from '../support/flag-reference';
import { describeIf } from '../support/programs';
import { acceptsFlag, bodyLines, fieldLines, flagLines, flagsOfBinary, gateLines } from '../support/reference-from-binaries';

const BINARY: Record<string, string> = { flanneld: 'flanneld' };
const comp = requireComponents(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'etcd', 'flanneld', 'config-fields']);

describeIf(comp.ok)('test/fixtures match the real binaries', () => {
  jest.setTimeout(120000);

  const fileOf = (component: (typeof COMPONENTS)[number]) => (component === 'etcd' || component === 'flanneld'
    ? companionReferenceFile(component) : referenceFile(SEED_MINOR, 'flags', component));

  test.each(COMPONENTS)('the seed minor\'s %s reference is what the binary accepts', (component) => {
    const fixture = bodyLines(fs.readFileSync(fileOf(component), 'utf8'));
    const r = flagsOfBinary(component, componentPath(BINARY[component] ?? component), loadFlagReference(component).valid);
    expect(r.rejected).toEqual([]);
    expect(flagLines(component, r.flags)).toEqual(fixture);
  });

  test.each(FIELD_REFERENCES)('the seed minor\'s %s fields are those of the Go type', (name) => {
    const fixture = bodyLines(fs.readFileSync(referenceFile(SEED_MINOR, 'fields', name), 'utf8'));
    expect(fieldLines(componentPath('config-fields'), name)).toEqual(fixture);
  });

  test('the seed minor\'s feature gates are those its components register', () => {
    const fixture = bodyLines(fs.readFileSync(referenceFile(SEED_MINOR, 'feature-gates'), 'utf8'));
    expect(gateLines(componentPath('config-fields'))).toEqual(fixture);
  });

  test('every flag in flags/removed.txt is rejected by the real binary as unknown', () => {
    const accepted = loadRemovedFlags().filter((r) => acceptsFlag(componentPath(r.component), r.name, 'pflag'));
    expect(accepted.map((r) => `${r.component} --${r.name}`)).toEqual([]);
  });
});
