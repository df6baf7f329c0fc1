// The last synth's record in the state directory: the baseline of the next synth's change plan and upgrade.
import * as path from 'path';
import { PATHS } from '../model';
import { PkiStateError, StateStore } from '../pki';
import { SynthRecord } from './change-plan';

/** The record's file in the state directory. */
export const RECORD_FILE = 'last-synth.json';

/** The last synth gave some host the apiservers' encryption config (Secrets in etcd may be encrypted). */
export function encryptionInUse(record: SynthRecord | undefined): boolean {
  const rel = PATHS.encryptionConfig.replace(/^\//, '');
  return Object.values(record?.hosts ?? {}).some((h) => h.files[rel] !== undefined);
}

/** The previous synth's record; damaged, it stops the synth with what to do (it is only the plan's baseline). */
export function readRecord(store: StateStore): SynthRecord | undefined {
  const text = store.readText(RECORD_FILE);
  if (text === undefined) return undefined;
  const problem = (() => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 'is not valid JSON';
    }
    const hosts = (parsed as { hosts?: unknown } | null)?.hosts;
    if (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)) return 'has no "hosts" object';
    for (const [name, h] of Object.entries(hosts)) {
      const host = h as { roles?: unknown; files?: unknown } | null;
      if (!Array.isArray(host?.roles) || typeof host?.files !== 'object' || host.files === null
        || Object.values(host.files).some((v) => typeof v !== 'string')) return `has a malformed entry for host "${name}"`;
    }
    return undefined;
  })();
  if (problem) {
    throw new PkiStateError(store.dir, [`${RECORD_FILE} ${problem}`],
      `${RECORD_FILE} only records the last synth, for the change plan: remove ${path.join(store.dir, RECORD_FILE)} and synth again `
      + '(that plan then lists every host as new).');
  }
  return JSON.parse(text) as SynthRecord;
}
