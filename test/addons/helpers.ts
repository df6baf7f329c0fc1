/** Shared test helpers: seed model, throwaway secrets, synthesis, masking and schema validation. */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as forge from 'node-forge';
import { ClusterDefinition } from '../../lib/model/definition';
import { ClusterModel } from '../../lib/model/cluster-model';
import { AddonsProps, addAddonCharts } from '../../lib/addons';
import { SEED as SEED_DEFINITION } from '../support/clusters';

export type Manifest = Record<string, any>;

export function seedModel(overrides: Partial<ClusterDefinition> = {}): ClusterModel {
  return ClusterModel.fromDefinition({ ...SEED_DEFINITION, ...overrides });
}

/** A fresh bootstrap token; the id is fixed so snapshots stay stable (the secret is masked). */
export function throwawayToken(): { id: string; secret: string } {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const secret = Array.from(crypto.randomBytes(16), (b) => alphabet[b % alphabet.length]).join('');
  return { id: 'abcdef', secret };
}

const certCache = new Map<string, { certPem: string; keyPem: string }>();

/** A self-signed certificate for `hosts`, made in the test; never committed. */
export function selfSignedCert(...hosts: string[]): { certPem: string; keyPem: string } {
  const cacheKey = hosts.join(',');
  if (certCache.has(cacheKey)) return certCache.get(cacheKey)!;
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600 * 1000);
  const attrs = [{ name: 'commonName', value: hosts[0] }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'subjectAltName', altNames: hosts.map((value) => ({ type: 2, value })) }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  const result = { certPem: forge.pki.certificateToPem(cert), keyPem };
  certCache.set(cacheKey, result);
  return result;
}

export interface SynthResult {
  readonly charts: Chart[];
  /** Objects of each chart, by chart id, in file order. */
  readonly manifests: Map<string, Manifest[]>;
  readonly all: Manifest[];
  readonly warnings: string[];
}

/** Adds the addon charts for `def` (default: the seed) to a fresh App and synthesizes them in memory. */
export function synthAddons(def: ClusterDefinition = SEED_DEFINITION, props: Partial<AddonsProps> = {}): SynthResult {
  const warnings: string[] = [];
  const app = Testing.app();
  const model = ClusterModel.fromDefinition(def);
  const charts = addAddonCharts(app, {
    model,
    bootstrapToken: throwawayToken(),
    appTls: Object.fromEntries((def.apps ?? []).filter((a) => a.host).map((a) => [a.name, selfSignedCert(a.host!)])),
    warn: (m) => warnings.push(m),
    env: {},
    ...props,
  });
  const manifests = new Map(charts.map((c) => [c.node.id, Testing.synth(c) as Manifest[]]));
  return { charts, manifests, all: [...manifests.values()].flat(), warnings };
}

/** Synthesizes to a temporary directory like `cdk8s synth` does; returns file names and parsed docs. */
export function synthToDir(def: ClusterDefinition = SEED_DEFINITION, props: Partial<AddonsProps> = {}): { dir: string; files: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubesmith-addons-'));
  const app = new App({ outdir: dir, outputFileExtension: '.yaml' });
  addAddonCharts(app, {
    model: ClusterModel.fromDefinition(def),
    bootstrapToken: throwawayToken(),
    appTls: Object.fromEntries((def.apps ?? []).filter((a) => a.host).map((a) => [a.name, selfSignedCert(a.host!)])),
    warn: () => undefined,
    env: {},
    ...props,
  });
  app.synth();
  return { dir, files: fs.readdirSync(dir) };
}

/** Secret values replaced by a marker (keys kept), so snapshots never hold key material. */
export function maskSecrets(objects: Manifest[]): Manifest[] {
  return objects.map((o) => {
    if (o.kind !== 'Secret') return o;
    const masked = structuredClone(o);
    for (const field of ['data', 'stringData']) {
      if (masked[field]) masked[field] = Object.fromEntries(Object.keys(masked[field]).map((k) => [k, '<masked>']));
    }
    return masked;
  });
}

// --- Kubernetes 1.27 schema validation (kubernetes-models 4.3.x carries the v1.27.1 OpenAPI spec) ---

// Capture the raw schemas as kubernetes-models registers them, to also reject unknown fields
// (kubectl 1.27 validates strictly; the OpenAPI schemas alone allow extra properties).
// Must be the instance kubernetes-models loads, hence the transitive require.
const kmValidate: { register: (id: string, schema: unknown) => void } = require('@kubernetes-models/validate');
const schemas = new Map<string, any>();
const register = kmValidate.register;
kmValidate.register = (id: string, schema: any) => {
  schemas.set(id, schema);
  register(id, schema);
};

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'IngressClass', 'PriorityClass', 'StorageClass']);

function modelClass(apiVersion: string, kind: string): any {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const mod = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  let exports: any;
  try {
    exports = require(mod);
  } catch {
    return undefined;
  }
  return exports[kind];
}

function schemaId(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const g = group === 'core' ? 'core' : group.replace(/\.k8s\.io$/, '').replace(/^rbac\.authorization$/, 'rbac');
  return `io.k8s.api.${g}.${version}.${kind}`;
}

function resolve(schema: any): any {
  if (schema?.$ref) return resolve(schemas.get(String(schema.$ref).replace(/#$/, '')));
  return schema;
}

function unknownFields(data: any, schema: any, at: string, out: string[]): void {
  schema = resolve(schema);
  if (data === null || data === undefined || !schema) return;
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    for (const branch of schema[key] ?? []) {
      const b = resolve(branch);
      if (b?.type === 'null') continue;
      if (typeof data === 'object' && (b?.properties || b?.additionalProperties || b?.items)) unknownFields(data, b, at, out);
    }
  }
  if (Array.isArray(data)) {
    if (schema.items) data.forEach((item, i) => unknownFields(item, schema.items, `${at}[${i}]`, out));
    return;
  }
  if (typeof data !== 'object') return;
  for (const [k, v] of Object.entries(data)) {
    if (schema.properties?.[k]) unknownFields(v, schema.properties[k], `${at}.${k}`, out);
    else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') unknownFields(v, schema.additionalProperties, `${at}.${k}`, out);
    else if (schema.properties && schema.additionalProperties !== true) out.push(`${at}.${k} is not a field of ${schema.type ?? 'this object'}`);
  }
}

/** Problems of one object against the Kubernetes 1.27 schema; empty when valid. */
export function k8sSchemaProblems(obj: Manifest): string[] {
  const name = `${obj?.kind}/${obj?.metadata?.name}`;
  const Model = typeof obj?.apiVersion === 'string' ? modelClass(obj.apiVersion, obj.kind) : undefined;
  if (!Model) return [`${name}: unknown apiVersion/kind ${obj?.apiVersion}/${obj?.kind}`];
  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(`${name}: ${(e as Error).message}`);
  }
  const schema = schemas.get(schemaId(obj.apiVersion, obj.kind));
  // Without it the unknown-field check would silently pass.
  if (!schema) throw new Error(`schema ${schemaId(obj.apiVersion, obj.kind)} was not captured`);
  const unknown: string[] = [];
  unknownFields(obj, schema, '', unknown);
  problems.push(...unknown.map((u) => `${name}: ${u}`));
  if (!obj.metadata?.name) problems.push(`${name}: metadata.name is required`);
  if (CLUSTER_SCOPED.has(obj.kind) && obj.metadata?.namespace) problems.push(`${name}: cluster-scoped object has a namespace`);
  if (!CLUSTER_SCOPED.has(obj.kind) && !obj.metadata?.namespace) problems.push(`${name}: namespaced object without metadata.namespace`);
  return problems;
}

export function find(objects: Manifest[], kind: string, name?: string): Manifest[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
}

export function findOne(objects: Manifest[], kind: string, name?: string): Manifest {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}

/** Registry host of an image, by docker's rule; independent of lib/addons/images.ts on purpose. */
export function registryHost(image: string): string {
  const first = image.split('/')[0];
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** Every container image in a set of objects (containers and initContainers of pod templates). */
export function imagesOf(objects: Manifest[]): string[] {
  return objects.flatMap((o) => {
    const spec = o.spec?.template?.spec ?? (o.kind === 'Pod' ? o.spec : undefined);
    return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c: Manifest) => c.image);
  });
}
