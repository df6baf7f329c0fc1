import * as crypto from 'crypto';
import { PkiStateError } from './errors';
import { StateStore } from './state-store';

/**
 * Generated secrets that are not keys: the bootstrap token and the VRRP password. They live in secrets.json
 * beside the PKI in the state directory, read and completed on their own.
 */

export interface BootstrapToken {
  /** 6 characters [a-z0-9]; the Secret is bootstrap-token-<id>. */
  readonly id: string;
  /** 16 characters [a-z0-9]. */
  readonly secret: string;
  /** id.secret, as kubelets present it. */
  readonly token: string;
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

export function randomString(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[crypto.randomInt(alphabet.length)]).join('');
}

/** How each secret is made when the state has none. */
const GENERATORS: { readonly [N in SecretName]: () => ClusterSecrets[N] } = {
  bootstrapToken: () => {
    const id = randomString(6, ALNUM_LOWER);
    const secret = randomString(16, ALNUM_LOWER);
    return { id, secret, token: `${id}.${secret}` };
  },
  keepalivedAuthPass: () => randomString(8, ALNUM),
};

export interface LoadedSecrets {
  readonly secrets: ClusterSecrets;
  /** Secrets generated on this run (not in the state yet). */
  readonly generated: readonly SecretName[];
  /** The file to write, when it must change. */
  readonly write?: readonly [rel: string, data: string];
}

/** Reads secrets.json and generates what it lacks; writes nothing. Throws PkiStateError when the file is damaged. */
export function loadSecrets(store: StateStore): LoadedSecrets {
  let stored: Partial<ClusterSecrets> = {};
  const text = store.readText(SECRETS_FILE);
  if (text !== undefined) {
    try {
      stored = JSON.parse(text);
    } catch {
      throw new PkiStateError(store.dir, [`${SECRETS_FILE}: not valid JSON`]);
    }
  }
  const generated = (Object.keys(GENERATORS) as SecretName[]).filter((name) => stored[name] === undefined);
  const secrets: ClusterSecrets = {
    bootstrapToken: stored.bootstrapToken ?? GENERATORS.bootstrapToken(),
    keepalivedAuthPass: stored.keepalivedAuthPass ?? GENERATORS.keepalivedAuthPass(),
  };
  const changed = JSON.stringify(secrets) !== JSON.stringify(stored);
  return { secrets, generated, write: changed ? [SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`] : undefined };
}
