import { PATHS } from '../model';
import { HostBundle } from './host-bundle';

const PATH_TOKEN = /\/[A-Za-z0-9_.@/-]+/g;
/** Path-like tokens per file content (hosts share one Buffer per distinct text, so each is scanned once). */
const pathTokens = new WeakMap<Buffer, readonly string[]>();
function pathTokensOf(content: Buffer): readonly string[] {
  let tokens = pathTokens.get(content);
  if (!tokens) {
    tokens = content.toString('utf8').match(PATH_TOKEN) ?? [];
    pathTokens.set(content, tokens);
  }
  return tokens;
}

/**
 * Files each service depends on: its unit, its declared config, and every bundle file those name, transitively,
 * but files a host needs only once (AddFileOptions.obsoleteWhen).
 * install.sh restarts a running service only when one of them changed; the change plan says the same.
 */
export function serviceDependencies(bundle: HostBundle): Map<string, Set<string>> {
  // A file needed only until the service writes its own (the bootstrap kubeconfig) restarts nothing.
  const byPath = new Map(bundle.files.filter((f) => !bundle.obsoleteFiles.has(f.path)).map((f) => [`/${f.path}`, f]));
  const deps = new Map<string, Set<string>>();
  for (const service of bundle.services) {
    const seen = new Set<string>();
    const queue = [`${PATHS.systemdUnits}/${service.unit}`, ...(service.config ?? [])].filter((p) => byPath.has(p));
    while (queue.length > 0) {
      const p = queue.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      for (const token of pathTokensOf(byPath.get(p)!.content)) if (byPath.has(token) && !seen.has(token)) queue.push(token);
    }
    deps.set(service.unit, seen);
  }
  return deps;
}
