import * as crypto from 'crypto';
import { promisify } from 'util';
import {
  CA_WARN_WITHIN_DAYS, CERT_RENEW_WITHIN_DAYS, ClusterModel, Host, KeyAlgorithm, closest,
} from '../model';
import {
  AppCertSpec, CaId, CertId, CertInstance, PKI_TABLE, PkiSpec, certInstances, pkiFilesOf, pkiSpec,
} from './cert-list';
import { CertificateNameError, PkiStateError } from './errors';
import { PkiEvent, Reason } from './reasons';
import { StateStore } from './state-store';
import { PhaseTimes, Stopwatch } from '../util/stopwatch';
import {
  DistinguishedName, certificateBuilder, createCertificate, hasSubject, keyAlgorithmOf, subjectString, summarize,
} from './x509';

const generateKeyPair = promisify(crypto.generateKeyPair);

export interface KeyMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certificate: crypto.X509Certificate;
}

export interface PkiOptions {
  /** The PKI state directory. */
  readonly stateDir: string;
  /** @default the current time */
  readonly now?: Date;
  /** Re-issue leaves that expire within this many days. @default CERT_RENEW_WITHIN_DAYS (30) */
  readonly renewWithinDays?: number;
  /** Certificate names ('apiserver', 'etcd-server@k8s1') to re-issue now, keeping their keys. CAs cannot be renewed here. @default none */
  readonly renew?: readonly string[];
  /** Renewed certificates get new keys (and so do those that share them). @default false: they keep theirs */
  readonly rekey?: boolean;
  /** Progress messages during key generation, and warnings (a CA close to its end). @default none */
  readonly onProgress?: (message: string) => void;
  /**
   * Files of other stores beside the PKI (secrets.json) to write in the same step: into the new state a first synth
   * publishes at once, or each atomically. @default none
   */
  readonly alsoWrite?: readonly (readonly [rel: string, data: string])[];
  /** Warn when a CA expires within this many days. @default CA_WARN_WITHIN_DAYS, or half the CA's lifetime when that is shorter */
  readonly caWarnWithinDays?: number;
}

const DAY_MS = 86_400_000;
const daysUntil = (date: Date, now: Date) => Math.floor((date.getTime() - now.getTime()) / DAY_MS);

/** How many days before its end a CA warns: CA_WARN_WITHIN_DAYS, or half its life when that is shorter. */
export function caWarnDays(ca: crypto.X509Certificate): number {
  return Math.min(CA_WARN_WITHIN_DAYS, Math.floor(daysUntil(new Date(ca.validTo), new Date(ca.validFrom)) / 2));
}
const SERVICE_ACCOUNT = pkiSpec('service-account');
/** The CA rows a cluster needs. */
const caRows = (model: ClusterModel) => PKI_TABLE.filter((r) => r.kind === 'ca' && (r.neededBy?.(model) ?? true));

/** Where the state directory keeps each file. */
export const caFile = (id: CaId) => ({ cert: `ca/${id}.crt`, key: `ca/${id}.key` });
export const certFile = (name: string) => ({ cert: `certs/${name}.crt`, key: `certs/${name}.key` });
export const keyPairFile = (id: string) => `${id}.key`;

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

// Phase 1: read and check the state, writing nothing.

interface PkiState {
  readonly fresh: boolean;
  /** CAs found in the state (a fresh state has none). */
  readonly cas: ReadonlyMap<CaId, { readonly certPem: string; readonly key: crypto.KeyObject; readonly notAfter: Date }>;
  readonly saKey?: crypto.KeyObject;
}

function readState(store: StateStore, model: ClusterModel, options: PkiOptions, now: Date): PkiState {
  store.check();
  const fresh = store.isEmpty();
  const problems: string[] = [];
  const cas = new Map<CaId, { certPem: string; key: crypto.KeyObject; notAfter: Date }>();
  for (const ca of caRows(model)) {
    const id = ca.id as CaId;
    const files = caFile(id);
    const certPem = store.readText(files.cert);
    const keyText = store.readText(files.key);
    // A new state has no CA; an existing one may lack only a CA that is new since it was made (and no host trusts).
    if (certPem === undefined && keyText === undefined && (fresh || ca.newSince)) continue;
    const problem = checkCa(ca, certPem, keyText);
    if (problem) {
      problems.push(`${id}: ${problem} (${files.cert}, ${files.key})`);
      continue;
    }
    const notAfter = new Date(new crypto.X509Certificate(certPem!).validTo);
    const days = daysUntil(notAfter, now);
    if (days < 1) {
      problems.push(`${id}: the CA ${days < 0 ? 'expired' : 'expires'} on ${notAfter.toISOString().slice(0, 10)}; every certificate it signed `
        + 'is or is about to be refused. kubesmith does not rotate CAs yet: plan a new cluster (KUBESMITH_NEW_CLUSTER) and migrate workloads to it');
      continue;
    }
    if (days < (options.caWarnWithinDays ?? caWarnDays(new crypto.X509Certificate(certPem!)))) {
      options.onProgress?.(`warning: ${id} expires in ${days} days (${notAfter.toISOString().slice(0, 10)}); certificates it signs end then too. `
        + 'kubesmith does not rotate CAs yet: plan the move to a new cluster before then');
    }
    cas.set(id, { certPem: certPem!, key: crypto.createPrivateKey(keyText!), notAfter });
  }
  const saFile = keyPairFile(SERVICE_ACCOUNT.id);
  const saKeyText = store.readText(saFile);
  let saKey: crypto.KeyObject | undefined;
  if (saKeyText !== undefined) {
    try {
      saKey = crypto.createPrivateKey(saKeyText);
    } catch {
      problems.push(`${saFile}: not a readable private key; service account tokens signed with it would all be invalid`);
    }
  } else if (!fresh) {
    problems.push(`${saFile}: missing; every service account token in the cluster was signed with it`);
  }
  for (const name of options.renew ?? []) {
    if (fresh) problems.push(`${name}: the state holds no certificates yet; run synth first`);
  }
  if (problems.length > 0) throw new PkiStateError(store.dir, problems);
  return { fresh, cas, saKey };
}

/**
 * Why each name given to renew is not one to renew: a typo (with the nearest name) or a CA. Checked before the
 * state is read: a wrong name says nothing about the state.
 */
export function renewNameProblems(model: ClusterModel, names: readonly string[], rekey = false): string[] {
  const instances = certInstances(model);
  const known = instances.map((i) => i.name);
  return names.flatMap((name) => {
    if (PKI_TABLE.some((ca) => ca.kind === 'ca' && ca.id === name)) return [`"${name}" is a CA, which kubesmith does not renew: a new CA is a new cluster identity`];
    const instance = instances.find((i) => i.name === name);
    const owner = instance?.spec.sharesKeyWith;
    if (rekey && owner) {
      const ownerName = instance!.scope ? `${owner}@${instance!.scope}` : owner;
      return [`"${name}" has no key of its own (it uses ${ownerName}'s): rekey ${ownerName}, and both get the new key`];
    }
    if (instance) return [];
    const near = closest(name, known);
    return [`"${name}" is not a certificate of cluster ${model.name} (a typo?)${near ? `; did you mean "${near}"?` : ''}`];
  });
}

// Phase 2: plan what to create, issue or re-issue, and why.

interface PendingLeaf {
  readonly instance: CertInstance;
  readonly reason: Reason;
  readonly action: 'issued' | 're-issued';
  /** An existing key to keep (re-issue keeps the key), or undefined to generate one. */
  readonly key?: crypto.KeyObject;
  /** The certificate whose key this one uses (sharesKeyWith); it has no key file of its own. */
  readonly sharesKeyOf?: string;
}

interface PkiPlan {
  readonly state: PkiState;
  /** CAs the state lacks, in table order. */
  readonly newCas: readonly PkiSpec[];
  /** Leaves that stay as they are. */
  readonly kept: ReadonlyMap<string, KeyMaterial>;
  readonly leaves: readonly PendingLeaf[];
  /** Keys to generate: new CAs, leaves without a key of their own, the service-account key. */
  readonly keysToGenerate: number;
}

function plan(state: PkiState, store: StateStore, model: ClusterModel, options: PkiOptions, now: Date): PkiPlan {
  const algorithm = model.certificates.keyAlgorithm;
  const newCas = caRows(model).filter((ca) => !state.cas.has(ca.id as CaId));
  const kept = new Map<string, KeyMaterial>();
  const leaves: PendingLeaf[] = [];
  const pendingByName = new Map<string, PendingLeaf>();
  for (const instance of certInstances(model)) {
    const files = certFile(instance.name);
    const certPem = store.readText(files.cert);
    const shared = instance.spec.sharesKeyWith;
    const source = shared && (instance.scope ? `${shared}@${instance.scope}` : shared);
    const renew = options.renew?.includes(instance.name);
    // A certificate with a shared key moves with its owner's (renewNameProblems refuses to rekey it alone).
    const rekey = renew && options.rekey && !source;
    let key: crypto.KeyObject | undefined;
    if (source) {
      // Rows are in table order, so the key's owner was planned already.
      const owner = kept.get(source);
      key = owner ? crypto.createPrivateKey(owner.keyPem) : pendingByName.get(source)?.key;
    } else if (!rekey) {
      key = readKey(store.readText(files.key), algorithm);
    }
    let reason: Reason | undefined;
    if (certPem === undefined) reason = { kind: 'new' };
    else if (rekey) reason = { kind: 'rekey-requested' };
    else if (renew && key) reason = { kind: 'renewal-requested' };
    else reason = whyReissue(instance, model, certPem, key, state.cas.get(instance.spec.signer), now, options.renewWithinDays ?? CERT_RENEW_WITHIN_DAYS);
    if (source && reason?.kind === 'key-missing') reason = { kind: 'shared-key-replaced', owner: source };
    if (reason === undefined) {
      kept.set(instance.name, material(certPem!, key!));
    } else {
      const p: PendingLeaf = { instance, reason, action: certPem === undefined ? 'issued' : 're-issued', key, sharesKeyOf: source };
      leaves.push(p);
      pendingByName.set(instance.name, p);
    }
  }
  const ownKeyless = leaves.filter((p) => !p.key && !p.sharesKeyOf).length;
  return { state, newCas, kept, leaves, keysToGenerate: newCas.length + ownKeyless + (state.saKey ? 0 : 1) };
}

function readKey(text: string | undefined, algorithm: KeyAlgorithm): crypto.KeyObject | undefined {
  if (text === undefined) return undefined;
  try {
    const key = crypto.createPrivateKey(text);
    return keyAlgorithmOf(key) === algorithm ? key : undefined;
  } catch {
    return undefined;
  }
}

// Phase 3: generate keys and sign, concurrently (RSA generation runs on libuv's thread pool).

interface Issued {
  readonly cas: ReadonlyMap<CaId, KeyMaterial>;
  readonly leaves: ReadonlyMap<string, KeyMaterial>;
  readonly saKey: crypto.KeyObject;
  readonly events: readonly PkiEvent[];
  /** State files to write: [relative path, content]. */
  readonly files: readonly (readonly [string, string])[];
}

/** Starts every key before its first await, so synth's module loading overlaps key generation. */
async function generateAndSign(p: PkiPlan, model: ClusterModel, now: Date): Promise<Issued> {
  const algorithm = model.certificates.keyAlgorithm;
  // Each certificate is signed as soon as its key and its signer are there, while other keys still generate.
  const caKeys = p.newCas.map(() => generateKey(algorithm));
  const saKeyReady = p.state.saKey ? Promise.resolve(p.state.saKey) : generateKey(algorithm);
  if (p.newCas.length + p.leaves.length > 0) certificateBuilder(); // loads node-forge while the keys generate
  const caReady = new Map<CaId, Promise<KeyMaterial>>();
  for (const [id, ca] of p.state.cas) caReady.set(id, Promise.resolve(material(ca.certPem, ca.key)));
  p.newCas.forEach((spec, i) => caReady.set(spec.id as CaId, caKeys[i].then((key) => material(createCertificate({
    subject: subjectOf(model, spec.commonName!({ model })),
    publicKey: crypto.createPublicKey(key),
    isCa: true,
    usages: [],
    dnsNames: [],
    ipAddresses: [],
    issuedAt: now,
    validityDays: model.certificates.caValidityDays,
  }, { selfKey: key }), key))));
  const leafKeys = new Map<string, Promise<crypto.KeyObject>>();
  for (const leaf of p.leaves) {
    // Rows are in table order, so a shared key's owner is already in the map, or was valid and kept.
    const key = leaf.key ? Promise.resolve(leaf.key)
      : !leaf.sharesKeyOf ? generateKey(algorithm)
        : leafKeys.get(leaf.sharesKeyOf) ?? Promise.resolve(crypto.createPrivateKey(p.kept.get(leaf.sharesKeyOf)!.keyPem));
    leafKeys.set(leaf.instance.name, key);
  }
  const leafReady = p.leaves.map((leaf) => Promise.all([leafKeys.get(leaf.instance.name)!, caReady.get(leaf.instance.spec.signer)!])
    .then(([key, signer]) => material(createCertificate({
      ...desiredSpec(leaf.instance, model),
      publicKey: crypto.createPublicKey(key),
      isCa: false,
      issuedAt: now,
      validityDays: model.certificates.validityDays,
      // No leaf outlives its CA.
      notAfterAtMost: new Date(signer.certificate.validTo),
    }, { certificate: signer.certificate, key: crypto.createPrivateKey(signer.keyPem) }), key)));
  const [newCas, newLeaves, saKey] = await Promise.all([
    Promise.all(p.newCas.map((spec) => caReady.get(spec.id as CaId)!)), Promise.all(leafReady), saKeyReady,
  ]);

  // In table order: CAs, then leaves, then the key pair.
  const files: [string, string][] = [];
  const events: PkiEvent[] = [];
  p.newCas.forEach((spec, i) => {
    const f = caFile(spec.id as CaId);
    files.push([f.key, newCas[i].keyPem], [f.cert, newCas[i].certPem]);
    events.push({ action: 'created', name: spec.id, reason: p.state.fresh || !spec.newSince ? { kind: 'new-cluster' } : { kind: 'new-since', why: spec.newSince } });
  });
  const cas = new Map<CaId, KeyMaterial>();
  for (const [id, ready] of caReady) cas.set(id, await ready); // resolved already
  const leaves = new Map(p.kept);
  p.leaves.forEach((leaf, i) => {
    leaves.set(leaf.instance.name, newLeaves[i]);
    if (!leaf.key && !leaf.sharesKeyOf) files.push([certFile(leaf.instance.name).key, newLeaves[i].keyPem]);
    files.push([certFile(leaf.instance.name).cert, newLeaves[i].certPem]);
    events.push({ action: leaf.action, name: leaf.instance.name, reason: leaf.reason });
  });
  if (!p.state.saKey) {
    files.push([keyPairFile(SERVICE_ACCOUNT.id), keyPem(saKey)]);
    events.push({ action: 'generated', name: SERVICE_ACCOUNT.id, reason: { kind: 'new-cluster' } });
  }
  return { cas, leaves, saKey, events, files };
}

// Phase 4: write. A new state is published at once; later, keys before the certificates that name them, each
// file atomically.

async function writeState(store: StateStore, fresh: boolean, files: readonly (readonly [string, string])[]): Promise<void> {
  if (fresh) {
    store.publish(files);
    return;
  }
  const isKey = ([rel]: readonly [string, string]) => rel.endsWith('.key');
  await store.writeAll([files.filter(isKey), files.filter((f) => !isKey(f))]);
}

/**
 * The cluster's CAs, certificates and service-account key pair, loaded from the state directory and completed
 * there: read → plan → generate and sign → write. Reads and checks everything before it writes anything.
 */
export class ClusterPki {
  static async load(model: ClusterModel, options: PkiOptions): Promise<ClusterPki> {
    const wrong = renewNameProblems(model, options.renew ?? [], options.rekey);
    if (wrong.length > 0) throw new CertificateNameError(wrong, certInstances(model).map((i) => i.name));
    const stopwatch = new Stopwatch();
    const store = new StateStore(options.stateDir);
    const now = options.now ?? new Date();
    const p = plan(readState(store, model, options, now), store, model, options, now);
    if (p.keysToGenerate > 0) {
      options.onProgress?.(`generating ${p.keysToGenerate} ${model.certificates.keyAlgorithm === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} keys`);
    }
    stopwatch.lap('read');
    const issued = await generateAndSign(p, model, now);
    stopwatch.lap('keys');
    stopwatch.lap('sign');
    await writeState(store, p.state.fresh, [...issued.files, ...(options.alsoWrite ?? [])]);
    stopwatch.lap('write');
    return new ClusterPki(model, issued, stopwatch.phases, p.keysToGenerate);
  }

  private readonly cas: ReadonlyMap<CaId, KeyMaterial>;
  private readonly leaves: ReadonlyMap<string, KeyMaterial>;
  private readonly saKey: crypto.KeyObject;
  /** What this run created, issued, re-issued or generated; empty on a warm run with nothing changed. */
  readonly events: readonly PkiEvent[];

  private constructor(
    private readonly model: ClusterModel,
    issued: Issued,
    /** Milliseconds this load spent in read (read, check, plan), keys (generate, and sign as keys arrive), sign and write. */
    readonly phases: PhaseTimes,
    /** Keys generated by this load: 0 on a warm run. */
    readonly keysGenerated: number,
  ) {
    this.cas = issued.cas;
    this.leaves = issued.leaves;
    this.saKey = issued.saKey;
    this.events = issued.events;
  }

  ca(id: CaId): KeyMaterial {
    return this.cas.get(id)!;
  }

  /** A certificate of the table; `scope` is the host (per-host rows) or the app (the per-app list). */
  cert(id: CertId | AppCertSpec['id'], scope?: string): KeyMaterial {
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

  /** The PKI files a host receives, as the table says: install path and PEM. */
  hostFiles(host: Host): { readonly path: string; readonly pem: string }[] {
    return pkiFilesOf(host).map((f) => {
      const spec = pkiSpec(f.id);
      let m: { readonly certPem: string; readonly keyPem: string };
      if (spec.kind === 'ca') m = this.ca(f.id as CaId);
      else if (spec.kind === 'certificate') m = this.leaves.get(f.name)!;
      else m = { certPem: this.serviceAccount.publicPem, keyPem: this.serviceAccount.privatePem };
      return { path: f.path, pem: f.part === 'cert' ? m.certPem : m.keyPem };
    });
  }

  /** Every CA and certificate with its name, for reports and snapshots. */
  list(): { name: string; certificate: crypto.X509Certificate }[] {
    return [
      ...caRows(this.model).map((ca) => ({ name: ca.id, certificate: this.ca(ca.id as CaId).certificate })),
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

function checkCa(ca: PkiSpec, certPem: string | undefined, keyText: string | undefined): string | undefined {
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
  const commonName = ca.commonName!({} as never);
  if (!cert.ca) return 'certificate is not a CA (basicConstraints CA:FALSE)';
  if (!samePublicKey(key, cert)) return 'CA private key does not match the CA certificate';
  if (!cert.verify(cert.publicKey)) return 'CA certificate is not self-signed by its key';
  if (!cert.subject.split('\n').includes(`CN=${commonName}`)) return `CA certificate's subject is "${cert.subject.replace(/\n/g, ', ')}", expected CN=${commonName}`;
  return undefined;
}

/** Why an existing certificate must be re-issued, or undefined when it still matches its spec. */
function whyReissue(
  instance: CertInstance, model: ClusterModel, certPem: string, key: crypto.KeyObject | undefined,
  signer: { readonly certPem: string; readonly notAfter: Date } | undefined, now: Date, renewWithinDays: number,
): Reason | undefined {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(certPem);
  } catch {
    return { kind: 'unreadable' };
  }
  if (!key) return { kind: 'key-missing' };
  if (!samePublicKey(key, cert)) return { kind: 'key-mismatch' };
  if (!signer || !cert.verify(new crypto.X509Certificate(signer.certPem).publicKey)) {
    return { kind: 'signer-changed', signer: instance.spec.signer };
  }
  const want = desiredSpec(instance, model);
  const have = summarize(cert);
  if (!hasSubject(cert, want.subject)) return { kind: 'subject-changed', from: have.subject, to: subjectString(want.subject) };
  const diff = (a: readonly string[], b: readonly string[]) => ({ added: b.filter((x) => !a.includes(x)), removed: a.filter((x) => !b.includes(x)) });
  const sans = diff([...have.dnsNames, ...have.ipAddresses], [...want.dnsNames, ...want.ipAddresses]);
  if (sans.added.length + sans.removed.length > 0) return { kind: 'sans-changed', ...sans };
  const usages = diff(have.usages, [...want.usages].sort());
  if (usages.added.length + usages.removed.length > 0) return { kind: 'usages-changed', ...usages };
  // Issued for validityDays, or cut at the CA's end: either is as the spec says.
  const cut = have.notAfter.getTime() >= signer.notAfter.getTime() - 1000;
  if (have.validityDays !== model.certificates.validityDays && !(cut && have.validityDays < model.certificates.validityDays)) {
    return { kind: 'validity-changed', from: have.validityDays, to: model.certificates.validityDays };
  }
  if (have.notAfter.getTime() > signer.notAfter.getTime() + 1000) return { kind: 'outlives-ca', caNotAfter: signer.notAfter };
  const daysLeft = Math.floor((have.notAfter.getTime() - now.getTime()) / DAY_MS);
  // A leaf cut at its CA's end cannot be renewed past it: the CA's warning says so instead.
  if (daysLeft < renewWithinDays && !cut) return daysLeft < 0 ? { kind: 'expired' } : { kind: 'expiring', daysLeft };
  return undefined;
}
