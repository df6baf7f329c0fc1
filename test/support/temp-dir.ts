/**
 * Temporary directories for tests that run real programs.
 *
 * Every directory is made under os.tmpdir() with the prefix `ks-test-`, is
 * remembered, and is removed by `removeTempDirs()` (call it in afterAll) and,
 * as a backstop, when the process exits. Set KS_KEEP_TMP=1 to keep them for
 * debugging; their paths are then printed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const made = new Set<string>();
let exitHookInstalled = false;

/** Creates a fresh, empty directory `<tmpdir>/ks-test-<label>-XXXXXX` (mode 0700). */
export function makeTempDir(label = 'tmp'): string {
  const safe = label.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ks-test-${safe}-`));
  made.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => removeTempDirs());
  }
  return dir;
}

/** Removes every directory made by makeTempDir. Safe to call more than once. */
export function removeTempDirs(): void {
  for (const dir of [...made]) {
    if (process.env.KS_KEEP_TMP === '1') {
      console.warn(`KS_KEEP_TMP=1: keeping ${dir}`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    }
    made.delete(dir);
  }
}
