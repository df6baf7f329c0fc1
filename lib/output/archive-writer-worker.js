// Compresses bundle archives and writes each to a temp file beside its place, off the main thread, which meanwhile
// packs the next ones and renames each written temp file into place (bundle-writer.ts): every rename of a synth
// happens on the main thread, in one order. Plain JavaScript with Node's built-ins only: a worker starts in ~30 ms
// without a TypeScript loader. Message in: { id, file, tar, level }; out: { id, size, tmp } or { id, error }.
// Message 'close': exit once the archives before it are written (terminating a thread inside gzipSync aborts Node 20).
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const { parentPort } = require('worker_threads');

parentPort.on('message', (message) => {
  if (message === 'close') {
    parentPort.close();
    return;
  }
  const { id, file, tar, level } = message;
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const data = zlib.gzipSync(tar, { level });
    fs.writeFileSync(tmp, data, { mode: 0o600 }); // bundles hold private keys
    fs.chmodSync(tmp, 0o600); // whatever the umask
    parentPort.postMessage({ id, size: data.length, tmp });
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
