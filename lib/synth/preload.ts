import * as fs from 'fs';
import * as path from 'path';
import type { ClusterModel } from '../model';

/**
 * The timing tricks of a synth, in one place. Key generation is the only expensive step and runs on libuv's thread
 * pool; everything here makes other work overlap it instead of preceding or following it.
 *
 * - ClusterPki.load starts every key before its first await, then loads node-forge while they generate.
 * - loadSynthModules runs right after that: cdk8s, the host components and the charts load while keys generate.
 * - isColdRun: when some host has no bundle yet, packing is certain, so archiver loads and the archive writer's
 *   thread starts while keys generate too; otherwise they wait for the first bundle that changed, if any.
 * - main.ts imports lib/synth/synthesize, not the library index, so none of this loads before keys start.
 * - yaml loads on first use (lib/components/kubeconfig.ts), node-forge on first signature (lib/pki/x509.ts), and
 *   archiver on first pack (lib/output/bundle-writer.ts), so a warm run loads none of them it does not need.
 */

/** Some host has no bundle yet: packing is certain. */
export function isColdRun(model: ClusterModel, outdir: string): boolean {
  return model.hosts.some((h) => !fs.existsSync(path.join(outdir, 'hosts', `${h.name}.tar.gz`)));
}

/** The modules only synthesis needs, loaded after key generation has started. */
export function loadSynthModules(packing: boolean) {
  const cdk8s = require('cdk8s') as typeof import('cdk8s');
  const { addHostComponents } = require('../../hosts/host-components') as typeof import('../../hosts/host-components');
  const { addAddonCharts, issuedAppTls } = require('../addons/addon-charts') as typeof import('../addons/addon-charts');
  require('yaml'); // kubeconfigs and component configs
  if (packing) require('archiver');
  return { App: cdk8s.App, YamlOutputType: cdk8s.YamlOutputType, addHostComponents, addAddonCharts, issuedAppTls };
}

export type SynthModules = ReturnType<typeof loadSynthModules>;
