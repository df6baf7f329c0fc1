import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { appNodeArgs } from '../bench/run';

const ROOT = path.resolve(__dirname, '..');
const runtimeDependencies = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).dependencies)
  .filter((d) => !d.startsWith('@types/'));

describe('lib/preload-dependencies.js', () => {
  it('loads every runtime dependency with Node\'s own loader, from any working directory', () => {
    // No TypeScript loader in this process: what is in require.cache afterwards came from Node's loader.
    const r = spawnSync(process.execPath, [
      '--require', path.join(ROOT, 'lib', 'preload-dependencies.js'),
      '-e', 'process.stdout.write(JSON.stringify(Object.keys(require.cache)))',
    ], { cwd: '/', encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cached: string[] = JSON.parse(r.stdout);
    for (const dep of runtimeDependencies) {
      expect(cached).toContain(require.resolve(dep, { paths: [ROOT] }));
    }
  });

  it('runs before tsx in cdk8s.yaml\'s app, and the bench runs synth with the same node options', () => {
    const args = appNodeArgs(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'));
    expect(args).toEqual(['--require', './lib/preload-dependencies.js', '--require', 'tsx/cjs']);
  });

  it('the bench refuses an app it cannot run synth-once.ts with', () => {
    expect(() => appNodeArgs('app: npx ts-node main.ts\n')).toThrow(/app is "npx ts-node main.ts"; the bench expects "node <options> main.ts"/);
    expect(() => appNodeArgs('output: dist\n')).toThrow(/cdk8s.yaml: app is ""/);
  });
});
