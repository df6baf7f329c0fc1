// One synth in a fresh process, as a user's `synth` runs: loads the library like main.ts does, synthesizes the
// definition in the JSON file, prints one JSON line of measurements. Run by bench/run.ts, never imported.
// Usage: node --require tsx/cjs bench/synth-once.ts '{"definition": "<file.json>", "outdir": "<dir>", "stateDir": "<dir>"}'
const startupMs = performance.now(); // since process start: node, the TypeScript loader, nothing of ours yet

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as { definition: string; outdir: string; stateDir: string };
  const fs = require('fs') as typeof import('fs');
  const importStart = performance.now();
  const { synthesizeCluster } = require('../lib/synth/synthesize') as typeof import('../lib/synth/synthesize');
  const importMs = performance.now() - importStart;
  const def = JSON.parse(fs.readFileSync(args.definition, 'utf8'));
  const result = await synthesizeCluster(def, { outdir: args.outdir, stateDir: args.stateDir, log: (line) => console.error(line) });
  process.stdout.write(`${JSON.stringify({
    startupMs,
    importMs,
    phases: result.phases,
    pkiPhases: result.pki.phases,
    keysGenerated: result.pki.keysGenerated,
    bundlesWritten: result.bundles.written.length,
    bundlesUnchanged: result.bundles.unchanged.length,
    elapsedMs: performance.now(),
    maxRssKiB: process.resourceUsage().maxRSS,
  })}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
