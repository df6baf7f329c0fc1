/**
 * The kubelet sets machine-wide kernel settings when it starts (protectKernelDefaults is false in the
 * emitted KubeletConfiguration, as on a real node): vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10,
 * kernel.panic_on_oops=1, kernel.keys.root_maxkeys and root_maxbytes (pkg/kubelet/cm setupKernelTunables).
 * They are not namespaced, so on this shared machine the suite records them before the kubelets start and
 * writes them back afterwards (also on process exit).
 */
import * as fs from 'fs';

export const KUBELET_TUNABLES = [
  'vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes',
] as const;

let saved: Map<string, string> | undefined;
let hookInstalled = false;

/** Records the current values (once per process). */
export function saveKernelTunables(): void {
  if (saved) return;
  saved = new Map(KUBELET_TUNABLES.map((t) => [t, fs.readFileSync(`/proc/sys/${t}`, 'utf8').trim()]));
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => restoreKernelTunables());
  }
}

/** Writes the recorded values back; returns the settings that had changed. */
export function restoreKernelTunables(): string[] {
  if (!saved) return [];
  const changed: string[] = [];
  for (const [t, value] of saved) {
    const now = fs.readFileSync(`/proc/sys/${t}`, 'utf8').trim();
    if (now === value) continue;
    changed.push(`${t.replace(/\//g, '.')} ${now} → ${value}`);
    try {
      fs.writeFileSync(`/proc/sys/${t}`, value);
    } catch (e) {
      console.error(`could not restore ${t} to ${value}: ${(e as Error).message}`);
    }
  }
  saved = undefined;
  return changed;
}
