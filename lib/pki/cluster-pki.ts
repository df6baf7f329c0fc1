import * as crypto from 'crypto';
import { promisify } from 'util';
import { KeyAlgorithm } from '../cluster-definition';
import { ClusterModel } from '../cluster-model';
import {
  CA_LIST, CaId, CaSpec, CertInstance, KEY_PAIR_LIST, certInstances,
} from './cert-list';
import { StateStore } from './state-store';
import { PhaseTimes, Stopwatch } from '../stopwatch';
import {
  DistinguishedName, certificateBuilder, createCertificate, keyAlgorithmOf, subjectString, summarize,
} from './x509';

const generateKeyPair = promisify(crypto.generateKeyPair);

/** Something the PKI did on this run, for the synth report. */
export interface PkiEvent {
  readonly action: 'created' | 'issued' | 're-issued' | 'generated';
  /** CA id, certificate name ('etcd-server@k8s1'), key pair or secret name. */
  readonly name: string;
  readonly reason: string;
}

/** The PKI state cannot be used as it is; nothing was written. */
export class PkiStateError extends Error {
  constructor(stateDir: string, problems: readonly string[]) {
    super(`PKI state in ${stateDir} is unusable; nothing was written:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`
      + 'Restore the state directory from its backup. A CA is never regenerated silently: to start a new cluster '
      + 'with new CAs, move the state directory away (every host then needs new bundles).');
    this.name = 'PkiStateError';
  }
}

export interface KeyMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certificate: crypto.X509Certificate;
}

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

export interface PkiOptions {
  /** The PKI state directory. */
  readonly stateDir: string;
  /** @default the current time */
  readonly now?: Date;
  /** Re-issue leaves that expire within this many days. @default 30 */
  readonly renewWithinDays?: number;
  /** Certificate names ('apiserver', 'etcd-server@k8s1') to re-issue now, keeping their keys. CAs cannot be renewed here. @default none */
  readonly renew?: readonly string[];
  /** Progress messages during key generation. @default none */
  readonly onProgress?: (message: string) => void;
}

const DAY_MS = 86_400_000;
const ALNUM_LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = `${ALNUM_LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;

function randomString(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[crypto.randomInt(alphabet.length)]).join('');
}

async function generateKey(algorithm: KeyAlgorithm): Promise<crypto.KeyObject> {
  const pair = algorithm === 'ecdsa'
    ? await generateKeyPair('ec', { namedCurve: 'prime256v1' })
    : await generateKeyPair('rsa', { modulusLength: 2048 });
  return pair.privateKey;
}

function keyPem(key: crypto.KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function samePublicKey(key: crypto.KeyObject, cert: crypto.X509Certificate): boolean {
  const a = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
  const b = cert.publicKey.export({ type: 'spki', format: 'der' });
  return a.equals(b);
}

function material(certPem: string, key: crypto.KeyObject): KeyMaterial {
  return { certPem, keyPem: keyPem(key), certificate: new crypto.X509Certificate(certPem) };
}

export const caFile = (id: CaId) => ({ cert: `ca/${id}.crt`, key: `ca/${id}.key` });
export const certFile = (name: string) => ({ cert: `certs/${name}.crt`, key: `certs/${name}.key` });
const SECRETS_FILE = 'secrets.json';

interface Pending {
  readonly name: string;
  readonly reason: string;
  readonly action: PkiEvent['action'];
  /** An existing key to keep (re-issue keeps the key), or undefined to generate one. */
  readonly key?: crypto.KeyObject;
  /** The certificate whose key this one uses (CertSpec.sharesKeyWith); it has no key file of its own. */
  readonly sharesKeyOf?: string;
}

/**
 * The cluster's CAs, certificates, service-account key pair and secrets, loaded from the
 * state directory and completed there. Reads and checks everything before it writes anything.
 */
export class ClusterPki {
  static async load(model: ClusterModel, options: PkiOptions): Promise<ClusterPki> {
    const stopwatch = new Stopwatch();
    const store = new StateStore(options.stateDir);
    const now = options.now ?? new Date();
    const algorithm = model.certificates.keyAlgorithm;
    const fresh = store.isEmpty();
    const problems: string[] = [];
    const events: PkiEvent[] = [];

    // 1. Read and check, without writing.
    const cas = new Map<CaId, { key?: crypto.KeyObject; certPem?: string }>();
    for (const ca of CA_LIST) {
      const files = caFile(ca.id);
      const certPem = store.readText(files.cert);
      const keyText = store.readText(files.key);
      if (certPem === undefined && keyText === undefined && fresh) {
        cas.set(ca.id, {});
        continue;
      }
      const problem = checkCa(ca, certPem, keyText);
      if (problem) problems.push(`${ca.id}: ${problem} (${files.cert}, ${files.key})`);
      else cas.set(ca.id, { certPem, key: crypto.createPrivateKey(keyText!) });
    }
    const saKeyText = store.readText('service-account.key');
    let saKey: crypto.KeyObject | undefined;
    if (saKeyText !== undefined) {
      try {
        saKey = crypto.createPrivateKey(saKeyText);
      } catch {
        problems.push('service-account.key: not a readable private key; service account tokens signed with it would all be invalid');
      }
    } else if (!fresh) {
      problems.push('service-account.key: missing; every service account token in the cluster was signed with it');
    }
    let secrets: Partial<ClusterSecrets> = {};
    const secretsText = store.readText(SECRETS_FILE);
    if (secretsText !== undefined) {
      try {
        secrets = JSON.parse(secretsText);
      } catch {
        problems.push(`${SECRETS_FILE}: not valid JSON`);
      }
    }
    const known = certInstances(model).map((i) => i.name);
    for (const name of options.renew ?? []) {
      if (CA_LIST.some((ca) => ca.id === name)) problems.push(`${name}: a CA cannot be renewed by kubesmith; renewing it means a new cluster identity`);
      else if (!known.includes(name)) problems.push(`${name}: no such certificate; known: ${known.join(', ')}`);
      else if (fresh) problems.push(`${name}: the state holds no certificates yet; run synth first`);
    }
    if (problems.length > 0) throw new PkiStateError(store.dir, problems);

    // 2. Plan: what must be created, issued or re-issued, and why.
    const caPending: { spec: CaSpec; key?: crypto.KeyObject }[] = CA_LIST
      .filter((ca) => cas.get(ca.id)!.certPem === undefined).map((spec) => ({ spec }));
    const leafPending: (Pending & { instance: CertInstance })[] = [];
    const leaves = new Map<string, KeyMaterial>();
    const pendingByName = new Map<string, Pending & { instance: CertInstance }>();
    for (const instance of certInstances(model)) {
      const files = certFile(instance.name);
      const certPem = store.readText(files.cert);
      const shared = instance.spec.sharesKeyWith;
      const source = shared && (instance.scope ? `${shared}@${instance.scope}` : shared);
      let key: crypto.KeyObject | undefined;
      if (source) {
        // Rows are in table order, so the key's owner was planned already.
        const owner = leaves.get(source);
        key = owner ? crypto.createPrivateKey(owner.keyPem) : pendingByName.get(source)?.key;
      } else {
        const keyText = store.readText(files.key);
        try {
          key = keyText === undefined ? undefined : crypto.createPrivateKey(keyText);
        } catch {
          key = undefined;
        }
        if (key && keyAlgorithmOf(key) !== algorithm) key = undefined;
      }
      const signer = cas.get(instance.spec.signer)!;
      let reason = certPem === undefined
        ? 'new'
        : options.renew?.includes(instance.name) && key ? 'renewal requested' : whyReissue(instance, model, certPem, key, signer.certPem, now, options.renewWithinDays ?? 30);
      if (source && reason === 'key missing or of another algorithm') reason = `${source} gets a new key`;
      if (reason === undefined) {
        leaves.set(instance.name, material(certPem!, key!));
      } else {
        const p = { name: instance.name, reason, action: certPem === undefined ? 'issued' as const : 're-issued' as const, key, instance, sharesKeyOf: source };
        leafPending.push(p);
        pendingByName.set(instance.name, p);
      }
    }

    // 3. Generate the missing keys, concurrently: RSA generation runs on libuv's thread pool.
    const ownKeyless = leafPending.filter((p) => !p.key && !p.sharesKeyOf);
    const needKeys = caPending.length + ownKeyless.length + (saKey ? 0 : 1);
    if (needKeys > 0) options.onProgress?.(`generating ${needKeys} ${algorithm === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} keys`);
    stopwatch.lap('read');
    // Each certificate is signed as soon as its key and its signer are there, while other keys still generate.
    const caKeys = caPending.map(() => generateKey(algorithm));
    const saKeyReady = saKey ? Promise.resolve(saKey) : generateKey(algorithm);
    if (caPending.length + leafPending.length > 0) certificateBuilder(); // loads node-forge while the keys generate
    const caReady = new Map<CaId, Promise<KeyMaterial>>();
    for (const [id, ca] of cas) if (ca.certPem !== undefined) caReady.set(id, Promise.resolve(material(ca.certPem, ca.key!)));
    caPending.forEach(({ spec }, i) => caReady.set(spec.id, caKeys[i].then((key) => material(createCertificate({
      subject: subjectOf(model, spec.commonName),
      publicKey: crypto.createPublicKey(key),
      isCa: true,
      usages: [],
      dnsNames: [],
      ipAddresses: [],
      notBefore: now,
      validityDays: model.certificates.caValidityDays,
    }, { selfKey: key }), key))));
    const leafKeys = new Map<string, Promise<crypto.KeyObject>>();
    for (const p of leafPending) {
      // Rows are in table order, so a shared key's owner is already in the map, or was valid and kept.
      const key = p.key ? Promise.resolve(p.key)
        : !p.sharesKeyOf ? generateKey(algorithm)
          : leafKeys.get(p.sharesKeyOf) ?? Promise.resolve(crypto.createPrivateKey(leaves.get(p.sharesKeyOf)!.keyPem));
      leafKeys.set(p.name, key);
    }
    const leafReady = leafPending.map((p) => Promise.all([leafKeys.get(p.name)!, caReady.get(p.instance.spec.signer)!])
      .then(([key, signer]) => material(createCertificate({
        ...desiredSpec(p.instance, model),
        publicKey: crypto.createPublicKey(key),
        isCa: false,
        notBefore: now,
        validityDays: model.certificates.validityDays,
      }, { certificate: signer.certificate, key: crypto.createPrivateKey(signer.keyPem) }), key)));
    const [caDone, leafDone, newSaKey] = await Promise.all([
      Promise.all(caPending.map(({ spec }) => caReady.get(spec.id)!)), Promise.all(leafReady), saKeyReady,
    ]);
    stopwatch.lap('keys');

    // 4. Collect what to write, in table order: CAs, then leaves.
    const toWrite: [string, string][] = [];
    caPending.forEach(({ spec }, i) => {
      toWrite.push([caFile(spec.id).key, caDone[i].keyPem], [caFile(spec.id).cert, caDone[i].certPem]);
      events.push({ action: 'created', name: spec.id, reason: 'new cluster' });
    });
    const caMaterial = new Map<CaId, KeyMaterial>();
    for (const [id, ready] of caReady) caMaterial.set(id, await ready); // resolved already
    leafPending.forEach((p, i) => {
      leaves.set(p.name, leafDone[i]);
      if (!p.key && !p.sharesKeyOf) toWrite.push([certFile(p.name).key, leafDone[i].keyPem]);
      toWrite.push([certFile(p.name).cert, leafDone[i].certPem]);
      events.push({ action: p.action, name: p.name, reason: p.reason });
    });
    if (!saKey) {
      toWrite.push(['service-account.key', keyPem(newSaKey)]);
      events.push({ action: 'generated', name: 'service-account', reason: 'new cluster' });
    }
    const fullSecrets: ClusterSecrets = {
      bootstrapToken: secrets.bootstrapToken ?? newBootstrapToken(),
      keepalivedAuthPass: secrets.keepalivedAuthPass ?? randomString(8, ALNUM),
    };
    for (const name of ['bootstrapToken', 'keepalivedAuthPass'] as const) {
      if (secrets[name] === undefined) events.push({ action: 'generated', name, reason: 'not in the state yet' });
    }
    if (JSON.stringify(fullSecrets) !== JSON.stringify(secrets)) {
      toWrite.push([SECRETS_FILE, `${JSON.stringify(fullSecrets, null, 2)}\n`]);
    }
    stopwatch.lap('sign');

    // 5. Write: keys before the certificates that name them, each file atomically.
    const isKey = ([rel]: [string, string]) => rel.endsWith('.key');
    await store.writeAll([toWrite.filter(isKey), toWrite.filter((f) => !isKey(f))]);
    stopwatch.lap('write');
    return new ClusterPki(model, caMaterial, leaves, newSaKey, fullSecrets, events, stopwatch.phases, needKeys);
  }

  private constructor(
    private readonly model: ClusterModel,
    private readonly cas: ReadonlyMap<CaId, KeyMaterial>,
    private readonly leaves: ReadonlyMap<string, KeyMaterial>,
    private readonly saKey: crypto.KeyObject,
    readonly secrets: ClusterSecrets,
    /** What this run created, issued, re-issued or generated; empty on a warm run with nothing changed. */
    readonly events: readonly PkiEvent[],
    /** Milliseconds this load spent in read (read, check, plan), keys (generate, and sign as keys arrive), sign (collect) and write. */
    readonly phases: PhaseTimes,
    /** Keys generated by this load: 0 on a warm run. */
    readonly keysGenerated: number,
  ) {}

  ca(id: CaId): KeyMaterial {
    return this.cas.get(id)!;
  }

  /** A certificate from the table; `scope` is the host (per-host rows) or app (per-app rows). */
  cert(id: string, scope?: string): KeyMaterial {
    const name = scope ? `${id}@${scope}` : id;
    const m = this.leaves.get(name);
    if (!m) throw new Error(`certificate "${name}" was not issued for cluster "${this.model.name}"`);
    return m;
  }

  get serviceAccount(): { readonly privatePem: string; readonly publicPem: string } {
    return {
      privatePem: keyPem(this.saKey),
      publicPem: crypto.createPublicKey(this.saKey).export({ type: 'spki', format: 'pem' }) as string,
    };
  }

  get keyPairs() {
    return KEY_PAIR_LIST;
  }

  /** Every CA and certificate with its name, for reports and snapshots. */
  list(): { name: string; certificate: crypto.X509Certificate }[] {
    return [
      ...CA_LIST.map((ca) => ({ name: ca.id, certificate: this.ca(ca.id).certificate })),
      ...certInstances(this.model).map((i) => ({ name: i.name, certificate: this.leaves.get(i.name)!.certificate })),
    ];
  }
}

function subjectOf(model: ClusterModel, commonName: string, organization?: readonly string[]): DistinguishedName {
  const s = model.certificates.subject;
  return { country: s.country, state: s.state, locality: s.locality, organization, commonName };
}

function desiredSpec(instance: CertInstance, model: ClusterModel) {
  const ctx = { model, host: instance.host, app: instance.app };
  const sans = instance.spec.sans?.(ctx) ?? { dns: [], ip: [] };
  return {
    subject: subjectOf(model, instance.spec.commonName(ctx), instance.spec.organization),
    usages: instance.spec.usages,
    dnsNames: [...new Set(sans.dns)],
    ipAddresses: [...new Set(sans.ip)],
  };
}

function checkCa(ca: CaSpec, certPem: string | undefined, keyText: string | undefined): string | undefined {
  if (certPem === undefined && keyText === undefined) return 'CA certificate and key are missing, but the state holds other files';
  if (certPem === undefined) return 'CA certificate missing';
  if (keyText === undefined) return 'CA private key missing';
  let cert: crypto.X509Certificate;
  let key: crypto.KeyObject;
  try {
    cert = new crypto.X509Certificate(certPem);
  } catch {
    return 'CA certificate is not a readable PEM certificate';
  }
  try {
    key = crypto.createPrivateKey(keyText);
  } catch {
    return 'CA private key is not a readable PEM key';
  }
  if (!cert.ca) return 'certificate is not a CA (basicConstraints CA:FALSE)';
  if (!samePublicKey(key, cert)) return 'CA private key does not match the CA certificate';
  if (!cert.verify(cert.publicKey)) return 'CA certificate is not self-signed by its key';
  if (!cert.subject.split('\n').includes(`CN=${ca.commonName}`)) return `CA certificate's subject is "${cert.subject.replace(/\n/g, ', ')}", expected CN=${ca.commonName}`;
  return undefined;
}

/** Why an existing certificate must be re-issued, or undefined when it still matches its spec. */
function whyReissue(
  instance: CertInstance, model: ClusterModel, certPem: string, key: crypto.KeyObject | undefined,
  signerPem: string | undefined, now: Date, renewWithinDays: number,
): string | undefined {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(certPem);
  } catch {
    return 'stored certificate is unreadable';
  }
  if (!key) return 'key missing or of another algorithm';
  if (!samePublicKey(key, cert)) return 'key does not match the certificate';
  if (!signerPem || !cert.verify(new crypto.X509Certificate(signerPem).publicKey)) {
    return `not signed by the current ${instance.spec.signer}`;
  }
  const want = desiredSpec(instance, model);
  const have = summarize(cert);
  if (have.subject !== subjectString(want.subject)) return `subject changed: ${have.subject} → ${subjectString(want.subject)}`;
  const diff = (label: string, a: readonly string[], b: readonly string[]) => {
    const added = b.filter((x) => !a.includes(x));
    const removed = a.filter((x) => !b.includes(x));
    return added.length || removed.length
      ? `${label} changed: ${[...added.map((x) => `+${x}`), ...removed.map((x) => `-${x}`)].join(' ')}` : undefined;
  };
  const sanChange = diff('SANs', [...have.dnsNames, ...have.ipAddresses], [...want.dnsNames, ...want.ipAddresses]);
  if (sanChange) return sanChange;
  const usageChange = diff('usages', have.usages, [...want.usages].sort());
  if (usageChange) return usageChange;
  if (have.validityDays !== model.certificates.validityDays) {
    return `validity changed: ${have.validityDays} → ${model.certificates.validityDays} days`;
  }
  const daysLeft = Math.floor((have.notAfter.getTime() - now.getTime()) / DAY_MS);
  if (daysLeft < renewWithinDays) return daysLeft < 0 ? 'expired' : `expires in ${daysLeft} days`;
  return undefined;
}

function newBootstrapToken(): BootstrapToken {
  const id = randomString(6, ALNUM_LOWER);
  const secret = randomString(16, ALNUM_LOWER);
  return { id, secret, token: `${id}.${secret}` };
}
