// How synth runs TypeScript (cdk8s.yaml's app, the benchmark): tsx for our files, Node's own loader for
// dependencies. tsx lexes every CommonJS file it loads for ESM syntax, which doubles or triples the load time of
// cdk8s-plus-27, archiver and node-forge (about 0.3 s of every synth); routed past it, they load as fast as
// without tsx, and still on demand: a cold run starts its keys first, a warm run loads neither archiver nor
// node-forge. Plain JavaScript: it runs before any TypeScript loader.
//   node --require ./lib/typescript-loader.js main.ts
'use strict';
const Module = require('module');
const path = require('path');

const nodeLoader = Module._extensions['.js'];
require('tsx/cjs');
const tsxLoader = Module._extensions['.js'];
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

Module._extensions['.js'] = function loadJs(module, filename) {
  return (filename.includes(NODE_MODULES) ? nodeLoader : tsxLoader).call(this, module, filename);
};
