// The names most tests use for temp-dir.ts: a temp directory, and its cleanup for afterAll.
export { makeTempDir as tempDir, removeTempDirs as cleanupTempDirs } from './temp-dir';
