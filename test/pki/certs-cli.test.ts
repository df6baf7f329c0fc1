/**
 * `npm run certs`: what it does with a typo and with a missing state. Run as the operator runs it (scripts/certs.ts
 * through the TypeScript loader), with KUBESMITH_STATE_DIR pointing into a temporary directory.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const ROOT = path.resolve(__dirname, '../..');
afterAll(cleanupTempDirs);

/** Runs certs.ts with args on the state dir; returns exit code and output. */
function certs(stateDir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--require', path.join(ROOT, 'lib/typescript-loader.js'), path.join(ROOT, 'scripts/certs.ts'), ...args],
    { cwd: path.dirname(stateDir), env: { ...process.env, KUBESMITH_STATE_DIR: stateDir }, encoding: 'utf8', timeout: 90000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every path under dir. */
function tree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('npm run certs: a typo is called a typo, and a missing state is refused with nothing made', () => {
  test('an unknown subcommand or flag is an error naming it, the nearest one and the usage; nothing is read or made', () => {
    const dir = tempDir();
    const state = path.join(dir, 'state');
    const typo = certs(state, 'renwe', 'apiserver');
    expect(typo.status).toBe(1);
    expect(typo.stderr).toMatch(/^kubesmith: "renwe" is not a subcommand of npm run certs \(a typo\?\); did you mean "renew"\?\nusage: npm run certs /);
    const flag = certs(state, '--chek');
    expect([flag.status, flag.stderr]).toEqual([1, expect.stringMatching(/^kubesmith: "--chek" is not a flag of npm run certs \(a typo\?\); did you mean "--check"\?/)]);
    expect(certs(state, 'new-secrets', '--force').stderr).toMatch(/^kubesmith: new-secrets takes no argument here \(got "--force"\)/);
    expect(certs(state, 'encryption-key', 'add', 'now').stderr).toMatch(/^kubesmith: encryption-key takes one step, add, promote, drop \(got "add" "now"\)/);
    expect(tree(dir)).toEqual([]);
  });

  test('renew with a mistyped certificate name says so, never that the state is damaged', () => {
    const dir = tempDir();
    const r = certs(path.join(dir, 'state'), 'renew', 'apiserver', 'etcd-server@k8s9');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^kubesmith: "etcd-server@k8s9" is not a certificate of cluster kubesmith \(a typo\?\); did you mean "etcd-server@k8s\d"\?\nthe certificates that can be renewed: .*apiserver/);
    expect(r.stderr).not.toMatch(/unusable|backup/);
    expect(certs(path.join(dir, 'state'), 'renew', 'kubernetes-ca').stderr).toMatch(/"kubernetes-ca" is a CA, which kubesmith does not renew/);
    // --rekey comes first and needs names; anywhere else it is refused, never taken for a name.
    expect(certs(path.join(dir, 'state'), 'renew', '--rekey').stderr).toMatch(/^kubesmith: usage: npm run certs -- renew \[--rekey\] NAME\.\.\./);
    expect(certs(path.join(dir, 'state'), 'renew', 'apiserver', '--rekey').stderr).toMatch(/^kubesmith: renew takes --rekey first, then certificate names, not "--rekey"/);
    expect(certs(path.join(dir, 'state'), 'renew', '--rekey', 'front-proxy-client').stderr).toMatch(/"front-proxy-client" has no key of its own \(it uses apiserver's\)/);
    expect(tree(dir)).toEqual([]);
  });

  test.each([['new-secrets'], ['renew', 'apiserver'], ['encryption-key', 'add']])('%s on a mistyped state directory refuses and creates nothing', (...args) => {
    const dir = tempDir();
    const r = certs(path.join(dir, 'sate'), ...args);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`kubesmith: no state of cluster kubesmith in ${path.join(dir, 'sate')}: \`npm run certs -- ${args[0]}\` changes an existing state.`);
    expect(r.stderr).toContain('Nothing was created');
    expect(tree(dir)).toEqual([]);
    // An empty directory is no state either.
    fs.mkdirSync(path.join(dir, 'empty'));
    expect(certs(path.join(dir, 'empty'), ...args).stderr).toContain('no state of cluster kubesmith');
    expect(tree(dir)).toEqual(['empty']);
  });
});
