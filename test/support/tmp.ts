import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const made: string[] = [];

/** A temp directory removed by cleanupTempDirs() (call it in afterAll). */
export function tempDir(prefix = 'kubesmith-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
