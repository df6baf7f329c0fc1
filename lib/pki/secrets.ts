import * as crypto from 'crypto';
import { PkiStateError } from './errors';
import { Reason } from './reasons';
import { StateStore } from './state-store';

/**
 * Generated secrets that are not keys: the bootstrap token and the VRRP password. They live in secrets.json beside
 * the PKI in the state directory, read, checked and completed on their own; the PKI writes them in its write step.
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

export interface ClusterSecrets {
  readonly bootstrapToken: BootstrapToken;
  /** keepalived PASS authentication; at most 8 characters. */
  readonly keepalivedAuthPass: string;
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

function newToken(now: Date, ttlHours: number): BootstrapToken {
  const id = randomString(6, ALNUM_LOWER);
  const secret = randomString(16, ALNUM_LOWER);
  return { id, secret, token: `${id}.${secret}`, expires: new Date(now.getTime() + ttlHours * HOUR_MS).toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/** What is wrong with a stored value, or undefined; a token from before expiries is fine (it is replaced). */
const CHECKS: { readonly [N in SecretName]: (v: unknown) => string | undefined } = {
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
};

/**
 * Reads secrets.json, checks it, and completes it: a missing secret is made only in a new state; a bootstrap token
 * that has expired, or will within half its lifetime, is replaced. Writes nothing; throws PkiStateError, naming the
 * file and what to do, when the file is damaged or a secret is missing beside existing CAs.
 */
export function loadSecrets(store: StateStore, options: SecretsOptions): LoadedSecrets {
  const text = store.readText(SECRETS_FILE);
  const damaged = (what: string): never => {
    throw new PkiStateError(store.dir, [`${SECRETS_FILE}: ${what}`],
      `Restore ${SECRETS_FILE} from the state's backup. To make new secrets on purpose instead, remove it and run `
      + '`npm run certs -- new-secrets` (every lb host then gets a new VRRP password at its next roll-out).');
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
  const missing = names.filter((n) => stored[n] === undefined);
  if (!options.fresh && missing.length > 0) damaged(`has no ${missing.join(' and no ')}`);
  for (const n of names) {
    const problem = stored[n] === undefined ? undefined : CHECKS[n](stored[n]);
    if (problem) damaged(`${n} ${problem}`);
  }

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
  const secrets: ClusterSecrets = { bootstrapToken: token, keepalivedAuthPass: pass };
  const changed = JSON.stringify(secrets) !== JSON.stringify(stored);
  return { secrets, generated, write: changed ? [SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`] : undefined };
}
