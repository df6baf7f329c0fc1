// Loads every runtime dependency (package.json "dependencies") with Node's own CommonJS loader, before tsx
// registers. tsx lexes each CommonJS file it loads for ESM syntax, which doubles or triples the load time of
// cdk8s-plus-27, archiver and node-forge (about 0.3 s of every synth); required later, they come from the cache.
// Plain JavaScript on purpose: it runs before any TypeScript loader. Used by cdk8s.yaml's app and the benchmark:
//   node --require ./lib/preload-dependencies.js --require tsx/cjs main.ts
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..');
const { dependencies = {} } = require(path.join(root, 'package.json'));
for (const name of Object.keys(dependencies).sort()) {
  if (name.startsWith('@types/')) continue; // declarations only
  require(require.resolve(name, { paths: [root] }));
}
