import { PATHS } from '../model';
import { BundleFile, HostBundle } from './host-bundle';

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
 * but files a host needs only once (AddFileOptions.obsoleteWhen). A timer depends on its own unit only: the service
 * it starts reads its files afresh at every run, so nothing else needs the timer re-armed.
 * install.sh restarts a running service only when one of them changed; the change plan says the same.
 */
export function serviceDependencies(bundle: HostBundle): Map<string, Set<string>> {
  const closure = closureIn(bundle);
  return new Map(bundle.services.map((s) => {
    const unit = `${PATHS.systemdUnits}/${s.unit}`;
    if (s.unit.endsWith('.timer')) return [s.unit, new Set(bundle.hasFile(unit) ? [unit] : [])];
    return [s.unit, closure([unit, ...(s.config ?? [])])];
  }));
}

/**
 * Of a reloadable service's dependencies (ServiceSpec.reload), the files a reload applies: those reached from its
 * config and not from its unit. A change to these alone reloads the service; any other change restarts it.
 */
export function reloadDependencies(bundle: HostBundle): Map<string, Set<string>> {
  const closure = closureIn(bundle);
  return new Map(bundle.services.filter((s) => s.reload).map((s) => {
    const byUnit = closure([`${PATHS.systemdUnits}/${s.unit}`]);
    return [s.unit, new Set([...closure(s.config ?? [])].filter((p) => !byUnit.has(p)))];
  }));
}

/** Whether a running service restarts, reloads or stays, given the install paths that changed. */
export function serviceAction(
  unit: string, deps: ReadonlyMap<string, ReadonlySet<string>>, reloads: ReadonlyMap<string, ReadonlySet<string>>,
  touched: ReadonlySet<string>,
): 'restart' | 'reload' | undefined {
  const hit = [...deps.get(unit) ?? []].filter((p) => touched.has(p));
  if (hit.length === 0) return undefined;
  const reloaded = reloads.get(unit);
  return reloaded && hit.every((p) => reloaded.has(p)) ? 'reload' : 'restart';
}

/** The bundle files reached from some paths by following the paths their contents name. */
function closureIn(bundle: HostBundle): (from: readonly string[]) => Set<string> {
  let byPath: Map<string, BundleFile> | undefined;
  return (from) => {
    // A file needed only until the service writes its own (the bootstrap kubeconfig) restarts nothing.
    const files = byPath ??= new Map(bundle.files.filter((f) => !bundle.obsoleteFiles.has(f.path)).map((f) => [`/${f.path}`, f]));
    const seen = new Set<string>();
    const queue = from.filter((p) => files.has(p));
    while (queue.length > 0) {
      const p = queue.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      for (const token of pathTokensOf(files.get(p)!.content)) if (files.has(token) && !seen.has(token)) queue.push(token);
    }
    return seen;
  };
}
