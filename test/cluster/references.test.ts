/**
 * The flag and field references in test/fixtures say what the real v1.27.16 / etcd 3.5 / flannel 0.22
 * binaries say (scripts/build-components.sh builds them; scripts/regenerate-references.ts writes the
 * files). A stale reference fails here, so test/hosts/flags.test.ts checks the emitted command lines
 * and configs against the truth.
 */
import * as fs from 'fs';
import * as path from 'path';
import { componentPath, requireComponents } from '../support/components';
import { COMPONENTS, FIELD_REFERENCES, FIXTURES_DIR, loadFlagReference, loadRemovedFlags } from '../support/flag-reference';
import { describeIf } from '../support/programs';
import { acceptsFlag, bodyLines, fieldLines, flagLines, flagsOfBinary } from '../support/reference-from-binaries';

const BINARY: Record<string, string> = { flanneld: 'flanneld' };
const comp = requireComponents(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'etcd', 'flanneld', 'config-fields']);

describeIf(comp.ok)('test/fixtures match the real binaries', () => {
  jest.setTimeout(120000);

  test.each(COMPONENTS)('flags/%s.txt is what the binary accepts', (component) => {
    const fixture = bodyLines(fs.readFileSync(path.join(FIXTURES_DIR, 'flags', `${component}.txt`), 'utf8'));
    const r = flagsOfBinary(component, componentPath(BINARY[component] ?? component), loadFlagReference(component).valid);
    expect(r.rejected).toEqual([]);
    expect(flagLines(component, r.flags)).toEqual(fixture);
  });

  test.each(FIELD_REFERENCES)('fields/%s.txt lists the fields of the Go type', (name) => {
    const fixture = bodyLines(fs.readFileSync(path.join(FIXTURES_DIR, 'fields', `${name}.txt`), 'utf8'));
    expect(fieldLines(componentPath('config-fields'), name)).toEqual(fixture);
  });

  test('every flag in flags/removed.txt is rejected by the real binary as unknown', () => {
    const accepted = loadRemovedFlags().filter((r) => acceptsFlag(componentPath(r.component), r.name, 'pflag'));
    expect(accepted.map((r) => `${r.component} --${r.name}`)).toEqual([]);
  });
});
