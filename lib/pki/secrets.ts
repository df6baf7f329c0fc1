import * as crypto from 'crypto';
import { PkiStateError } from './errors';
import { Reason } from './reasons';
import { StateStore } from './state-store';

/**
 * Generated secrets that are not certificate keys: the bootstrap token, the VRRP password and the keys that encrypt
 * Secrets at rest. They live in secrets.json beside the PKI in the state directory, read, checked and completed on
 * their own; the PKI writes them in its write step.
 */

export interface BootstrapToken {
  /** 6 characters [a-z0-9]; the Secret is bootstrap-token-<id>. */
  readonly id: string;
  /** 16 characters [a-z0-9]. */
  readonly secret: string;
  /** id.secret, as kubelets present it. */
  readonly token: string;
  /** RFC 3339 time after which the apiserver refuses it and the token cleaner deletes its Secret. */
  readonly expires: string;
}

/** A secretbox key of the apiservers' EncryptionConfiguration. */
export interface EncryptionKey {
  /** key-<yyyymmdd>-<4 random>: unique, so a rotation never reuses a name. */
  readonly name: string;
  /** 32 random bytes, base64. */
  readonly secret: string;
  /** When it was made (RFC 3339): the newest key is the one a rotation promotes. */
  readonly created: string;
}

/** A key a rotation dropped: no apiserver holds it, but Secrets in older snapshots are written with it. */
export interface RetiredEncryptionKey extends EncryptionKey {
  /** When \`encryption-key drop\` took it out (RFC 3339). */
  readonly retired: string;
}

export interface ClusterSecrets {
  readonly bootstrapToken: BootstrapToken;
  /** keepalived PASS authentication; at most 8 characters. */
  readonly keepalivedAuthPass: string;
  /**
   * Keys that encrypt Secrets in etcd: the first encrypts, every one decrypts. More than one only during a
   * rotation (npm run certs -- encryption-key add | promote | drop).
   */
  readonly encryptionKeys: readonly EncryptionKey[];
  /**
   * Keys dropped by rotations, newest first; only a restore gives them back to the apiservers, so Secrets of a
   * snapshot taken before a rotation read again. Absent until the first drop.
   */
  readonly retiredEncryptionKeys?: readonly RetiredEncryptionKey[];
}

export type SecretName = keyof ClusterSecrets;

export const SECRETS_FILE = 'secrets.json';

const ALNUM_LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = `${ALNUM_LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;
const HOUR_MS = 3_600_000;

export function randomString(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[crypto.randomInt(alphabet.length)]).join('');
}

export interface SecretsOptions {
  /** A new state: secrets are made. Otherwise each must be there, as a missing CA must. */
  readonly fresh: boolean;
  /**
   * The last synth gave the apiservers an encryption config: Secrets in etcd are encrypted, so missing keys are lost
   * data, never made anew. Otherwise keys missing from an older state are made (encryption at rest is new since).
   */
  readonly encryptionInUse?: boolean;
  readonly now: Date;
  /** Lifetime of a new bootstrap token. A stored one is replaced once less than half of this is left. */
  readonly tokenTtlHours: number;
}

export interface SecretEvent {
  readonly name: SecretName;
  readonly reason: Reason;
}

export interface LoadedSecrets {
  readonly secrets: ClusterSecrets;
  /** Secrets made on this run, and why. */
  readonly generated: readonly SecretEvent[];
  /** The file to write, when it must change. */
  readonly write?: readonly [rel: string, data: string];
}

/** A new secretbox key named after the day it was made. */
export function newEncryptionKey(now: Date): EncryptionKey {
  return {
    name: `key-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomString(4, ALNUM_LOWER)}`,
    secret: crypto.randomBytes(32).toString('base64'),
    created: now.toISOString(),
  };
}

export type EncryptionKeyStep = 'add' | 'promote' | 'drop';

/** Where each rotation step leaves the apiservers, and what the operator does next. */
export const ENCRYPTION_KEY_STEPS: Readonly<Record<EncryptionKeyStep, string>> = {
  add: 'every apiserver can now read Secrets written with the new key; they still write with the current one',
  promote: 'the apiservers write Secrets with the new key; rewrite the existing ones so none needs the old key',
  drop: 'only the new key is left',
};

/**
 * One step of a key rotation, in the order upstream gives for HA control planes: add the new key as a reader on every
 * apiserver, then make it the writer, rewrite every Secret, then drop the old key. Each step is rolled out to every
 * master before the next, or an apiserver would meet Secrets written with a key it does not have.
 */
export function rotateEncryptionKeys(keys: readonly EncryptionKey[], step: EncryptionKeyStep, now: Date): EncryptionKey[] {
  const newest = [...keys].sort((a, b) => (a.created < b.created ? 1 : -1))[0];
  switch (step) {
    case 'add':
      if (keys.length > 1) {
        throw new Error(`a rotation is under way (keys ${keys.map((k) => k.name).join(', ')}): finish it with `
          + `${keys[0] === newest ? '`encryption-key drop`' : '`encryption-key promote`'} first`);
      }
      return [...keys, newEncryptionKey(now)];
    case 'promote':
      if (keys.length < 2) throw new Error('there is no new key to promote: run `encryption-key add` first');
      if (keys[0] === newest) throw new Error(`${newest.name} is the writing key already: rewrite the Secrets, then run \`encryption-key drop\``);
      return [newest, ...keys.filter((k) => k !== newest)];
    case 'drop':
      if (keys.length < 2) throw new Error(`${keys[0].name} is the only key: nothing to drop`);
      if (keys[0] !== newest) throw new Error(`${newest.name} is not the writing key yet: run \`encryption-key promote\` first`);
      return [keys[0]];
  }
}

/**
 * The secrets after one rotation step: a dropped key joins the retired ones (a restore of an older snapshot needs it).
 */
export function withEncryptionKeyStep(secrets: ClusterSecrets, step: EncryptionKeyStep, now: Date): ClusterSecrets {
  const keys = rotateEncryptionKeys(secrets.encryptionKeys, step, now);
  const dropped = secrets.encryptionKeys.filter((k) => !keys.includes(k)).map((k) => ({ ...k, retired: now.toISOString() }));
  const retired = [...dropped, ...(secrets.retiredEncryptionKeys ?? [])];
  return { ...secrets, encryptionKeys: keys, ...(retired.length > 0 ? { retiredEncryptionKeys: retired } : {}) };
}

/** Every key Secrets in etcd or in any snapshot may be written with: the keys in force, then the retired ones. */
export function everyEncryptionKey(secrets: ClusterSecrets): EncryptionKey[] {
  return [...secrets.encryptionKeys, ...(secrets.retiredEncryptionKeys ?? [])];
}

function newToken(now: Date, ttlHours: number): BootstrapToken {
  const id = randomString(6, ALNUM_LOWER);
  const secret = randomString(16, ALNUM_LOWER);
  return { id, secret, token: `${id}.${secret}`, expires: new Date(now.getTime() + ttlHours * HOUR_MS).toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/** What is wrong with a stored value, or undefined; a token from before expiries is fine (it is replaced). */
function checkKeyList(v: unknown, retired: boolean): string | undefined {
  if (!Array.isArray(v) || (v.length === 0 && !retired)) return `is not a non-empty list of {name, secret${retired ? ', retired' : ''}}`;
  const names = new Set<string>();
  for (const [i, k] of (v as Partial<RetiredEncryptionKey>[]).entries()) {
    if (typeof k?.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(k.name)) return `[${i}] has no name of lowercase letters, digits and '-'`;
    if (names.has(k.name)) return `[${i}] repeats the name ${k.name}`;
    names.add(k.name);
    if (typeof k.secret !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(k.secret)) return `[${i}] (${k.name}) has no secret of 32 bytes in base64`;
    if (typeof k.created !== 'string' || Number.isNaN(Date.parse(k.created))) return `[${i}] (${k.name}) has no creation time`;
    if (retired && (typeof k.retired !== 'string' || Number.isNaN(Date.parse(k.retired)))) return `[${i}] (${k.name}) has no retirement time`;
  }
  return undefined;
}

const CHECKS: { readonly [N in SecretName]-?: (v: unknown) => string | undefined } = {
  bootstrapToken: (v) => {
    const t = v as Partial<BootstrapToken> | null;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'is not an object with id, secret and token';
    if (typeof t.id !== 'string' || !/^[a-z0-9]{6}$/.test(t.id)) return 'has no id of 6 lowercase letters and digits';
    if (typeof t.secret !== 'string' || !/^[a-z0-9]{16}$/.test(t.secret)) return 'has no secret of 16 lowercase letters and digits';
    if (t.token !== `${t.id}.${t.secret}`) return 'has a token that is not id.secret';
    if (t.expires !== undefined && (typeof t.expires !== 'string' || Number.isNaN(Date.parse(t.expires)))) return 'has an expiry that is not a time';
    return undefined;
  },
  keepalivedAuthPass: (v) => (typeof v === 'string' && /^[A-Za-z0-9]{1,8}$/.test(v) ? undefined : 'is not 1 to 8 letters or digits'),
  encryptionKeys: (v) => checkKeyList(v, false),
  retiredEncryptionKeys: (v) => checkKeyList(v, true),
};

/** Why encryption keys are made for a state that has CAs already. */
const ENCRYPTION_NEW_SINCE = 'Secrets are encrypted at rest (secretbox); existing Secrets are encrypted when next written';

/**
 * Reads secrets.json, checks it, and completes it: a missing secret is made only in a new state; a bootstrap token
 * that has expired, or will within half its lifetime, is replaced. Writes nothing; throws PkiStateError, naming the
 * file and what to do, when the file is damaged or a secret is missing beside existing CAs.
 */
export function loadSecrets(store: StateStore, options: SecretsOptions): LoadedSecrets {
  const text = store.readText(SECRETS_FILE);
  const damaged = (...what: string[]): never => {
    throw new PkiStateError(store.dir, what.map((w) => `${SECRETS_FILE}: ${w}`),
      `Restore ${SECRETS_FILE} from the state's backup. To make new secrets on purpose instead, remove it and run `
      + '`npm run certs -- new-secrets` (every lb host then gets a new VRRP password at its next roll-out; encryption keys in use are never made anew).');
  };
  let stored: Record<string, unknown> = {};
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      damaged('is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) damaged(`holds ${JSON.stringify(parsed)}, not an object`);
    stored = parsed as Record<string, unknown>;
  } else if (!options.fresh) {
    damaged('is missing, but the state holds CAs: the bootstrap token and the VRRP password of this cluster are gone');
  }
  const names = Object.keys(CHECKS) as SecretName[];
  const problems: string[] = [];
  // Without their keys, Secrets the apiservers encrypted cannot be read: never made anew, not even on request.
  if (stored.encryptionKeys === undefined && options.encryptionInUse) {
    problems.push('has no encryptionKeys, but the last synth gave the apiservers an encryption config: without its keys the '
      + 'Secrets in etcd cannot be read (if they are truly lost, remove last-synth.json from the state too, then delete and '
      + 'recreate every Secret after the roll-out)');
  }
  // Other secrets missing beside existing CAs are damage; encryption keys may be missing from a state made before them.
  const missing = names.filter((n) => stored[n] === undefined && n !== 'encryptionKeys' && n !== 'retiredEncryptionKeys');
  if (!options.fresh && missing.length > 0) problems.push(`has no ${missing.join(' and no ')}`);
  for (const n of names) {
    const problem = stored[n] === undefined ? undefined : CHECKS[n](stored[n]);
    if (problem) problems.push(`${n} ${problem}`);
  }
  const retired = stored.retiredEncryptionKeys as RetiredEncryptionKey[] | undefined;
  const listed = (v: unknown) => (Array.isArray(v) ? v as Partial<EncryptionKey>[] : []);
  const current = new Set(listed(stored.encryptionKeys).map((k) => k?.name));
  const both = listed(retired).filter((k) => current.has(k?.name)).map((k) => k.name);
  if (both.length > 0) problems.push(`retiredEncryptionKeys holds ${both.join(', ')}, which encryptionKeys holds too`);
  if (problems.length > 0) damaged(...problems);

  const generated: SecretEvent[] = [];
  let token = stored.bootstrapToken as BootstrapToken | undefined;
  if (!token) {
    token = newToken(options.now, options.tokenTtlHours);
    generated.push({ name: 'bootstrapToken', reason: { kind: 'not-in-state' } });
  } else {
    const left = token.expires === undefined ? -1 : Date.parse(token.expires) - options.now.getTime();
    if (left < (options.tokenTtlHours * HOUR_MS) / 2) {
      const reason: Reason = token.expires === undefined ? { kind: 'token-without-expiry' }
        : left <= 0 ? { kind: 'token-expired', at: token.expires } : { kind: 'token-expiring', at: token.expires };
      token = newToken(options.now, options.tokenTtlHours);
      generated.push({ name: 'bootstrapToken', reason });
    }
  }
  let pass = stored.keepalivedAuthPass as string | undefined;
  if (!pass) {
    pass = randomString(8, ALNUM);
    generated.push({ name: 'keepalivedAuthPass', reason: { kind: 'not-in-state' } });
  }
  let keys = stored.encryptionKeys as EncryptionKey[] | undefined;
  if (!keys) {
    keys = [newEncryptionKey(options.now)];
    generated.push({ name: 'encryptionKeys', reason: options.fresh ? { kind: 'not-in-state' } : { kind: 'new-since', why: ENCRYPTION_NEW_SINCE } });
  }
  const secrets: ClusterSecrets = {
    bootstrapToken: token, keepalivedAuthPass: pass, encryptionKeys: keys, ...(retired ? { retiredEncryptionKeys: retired } : {}),
  };
  const changed = JSON.stringify(secrets) !== JSON.stringify(stored);
  return { secrets, generated, write: changed ? [SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`] : undefined };
}
