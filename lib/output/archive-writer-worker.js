// Compresses bundle archives and writes them atomically, off the main thread, which meanwhile packs the next
// ones (bundle-writer.ts). Plain JavaScript with Node's built-ins only: a worker starts in ~30 ms without a
// TypeScript loader. Message in: { id, file, tar, level }; out: { id, size } or { id, error }. Message 'close':
// exit once the archives before it are written (terminating a thread inside gzipSync aborts Node 20).
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
    fs.renameSync(tmp, file);
    parentPort.postMessage({ id, size: data.length });
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
