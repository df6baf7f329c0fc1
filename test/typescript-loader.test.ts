import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { appNodeArgs } from '../bench/run';
import { cleanupTempDirs, tempDir } from './support/tmp';

const ROOT = path.resolve(__dirname, '..');
const LOADER = path.join(ROOT, 'lib', 'typescript-loader.js');

afterAll(cleanupTempDirs);

function run(code: string, cwd = ROOT) {
  return spawnSync(process.execPath, ['--require', LOADER, '-e', code], { cwd, encoding: 'utf8' });
}

describe('lib/typescript-loader.js', () => {
  it('runs the TypeScript cluster definition', () => {
    const r = run("process.stdout.write(require('./main.ts').cluster.name)");
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(require('../main').cluster.name);
  });

  it('hands files under node_modules to Node\'s own loader and the rest to tsx', () => {
    // The same ESM-syntax file twice: tsx turns it into CommonJS exports; Node's loader either returns the ES
    // module's namespace (require(esm), Node ≥ 20.19) or refuses it. Either way, not the CommonJS object.
    const dir = tempDir();
    const source = 'export const answer = 42;\n';
    fs.mkdirSync(path.join(dir, 'node_modules', 'esm-syntax'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules', 'esm-syntax', 'package.json'), '{"name": "esm-syntax", "main": "index.js"}\n');
    fs.writeFileSync(path.join(dir, 'node_modules', 'esm-syntax', 'index.js'), source);
    fs.writeFileSync(path.join(dir, 'own.js'), source);
    const kind = (request: string) => run(
      `try { const m = require(${JSON.stringify(request)}); process.stdout.write(Object.prototype.toString.call(m) + ' ' + m.answer); }`
      + ' catch (e) { process.stdout.write(\'refused \' + (e.code || e.name)); }', dir,
    ).stdout;
    expect(kind('./own.js')).toBe('[object Object] 42');
    expect(kind('esm-syntax')).toMatch(/^(\[object Module\] 42|refused .+)$/);
  });

  it('is what cdk8s.yaml\'s app uses, and the bench runs synth with the same node options', () => {
    expect(appNodeArgs(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'))).toEqual(['--require', './lib/typescript-loader.js']);
  });

  it('the bench refuses an app it cannot run synth-once.ts with', () => {
    expect(() => appNodeArgs('app: npx ts-node main.ts\n')).toThrow(/app is "npx ts-node main.ts"; the bench expects "node <options> main.ts"/);
    expect(() => appNodeArgs('output: dist\n')).toThrow(/cdk8s.yaml: app is ""/);
  });
});
