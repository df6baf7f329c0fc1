// A synth in a process of its own, for tests that kill it: node --require lib/typescript-loader.js
// test/support/synth-driver.ts <definition.json> <outdir> <stateDir>. Exits 0, or 1 with kubesmith's message.
import * as fs from 'fs';
import { synthesize } from '../../lib';

const [defFile, outdir, stateDir] = process.argv.slice(2);
synthesize(JSON.parse(fs.readFileSync(defFile, 'utf8')), { outdir, stateDir });
