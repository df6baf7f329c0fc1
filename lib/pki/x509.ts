import * as crypto from 'crypto';
import type * as forge from 'node-forge';
import { KeyAlgorithm } from '../model';

function loadForge() {
  const lib = require('node-forge') as typeof forge;
  return {
    util: lib.util,
    pki: lib.pki,
    // @types/node-forge lacks these members of forge's API.
    asn1: lib.asn1 as typeof lib.asn1 & {
      fromDer(bytes: forge.util.ByteStringBuffer, options: { decodeBitStrings: boolean }): forge.asn1.Asn1;
      copy(obj: forge.asn1.Asn1): forge.asn1.Asn1;
    },
    getTBSCertificate: (lib.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate,
    /** A stand-in RSA key so forge's TBS builder runs; its SubjectPublicKeyInfo is replaced before signing. */
    placeholderKey: lib.pki.setRsaPublicKey(new lib.jsbn.BigInteger('3'), new lib.jsbn.BigInteger('3')),
  };
}
let loaded: ReturnType<typeof loadForge> | undefined;

/**
 * node-forge, which builds certificate structures. Loaded on first use, so runs that sign nothing do not pay for
 * it, and synth can load it while keys generate.
 */
export function certificateBuilder(): ReturnType<typeof loadForge> {
  loaded ??= loadForge();
  return loaded;
}

/** Distinguished name, in the order cfssl writes it: C, ST, L, O, OU, CN. */
export interface DistinguishedName {
  readonly country?: string;
  readonly state?: string;
  readonly locality?: string;
  readonly organization?: readonly string[];
  readonly commonName: string;
}

export type ExtendedKeyUsage = 'server' | 'client';

export interface CertificateRequest {
  readonly subject: DistinguishedName;
  readonly publicKey: crypto.KeyObject;
  readonly isCa: boolean;
  readonly usages: readonly ExtendedKeyUsage[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Validity starts CERT_BACKDATE_MS before it and lasts validityDays from it. */
  readonly issuedAt: Date;
  readonly validityDays: number;
  /** Ends validity earlier than validityDays would, e.g. at the issuing CA's own notAfter. @default none */
  readonly notAfterAtMost?: Date;
}

export interface Issuer {
  readonly certificate: crypto.X509Certificate;
  readonly key: crypto.KeyObject;
}

const SIGNATURE_OIDS: Record<KeyAlgorithm, string> = {
  rsa: '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  ecdsa: '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
};

const DAY_MS = 24 * 60 * 60 * 1000;

/** As kubeadm (CertificateBackdate): a host whose clock lags by up to this accepts a certificate issued just now. */
export const CERT_BACKDATE_MS = 5 * 60 * 1000;

export function keyAlgorithmOf(key: crypto.KeyObject): KeyAlgorithm {
  return key.asymmetricKeyType === 'ec' ? 'ecdsa' : 'rsa';
}

function spkiDer(key: crypto.KeyObject): Buffer {
  const pub = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
export function subjectKeyIdentifier(key: crypto.KeyObject): Buffer {
  const { asn1, util } = certificateBuilder();
  const spki = asn1.fromDer(util.createBuffer(spkiDer(key).toString('binary')), { decodeBitStrings: false });
  const bits = (spki.value as forge.asn1.Asn1[])[1].value as string;
  return crypto.createHash('sha1').update(Buffer.from(bits.slice(1), 'binary')).digest();
}

/** X.680's PrintableString alphabet; any other value is stored as a UTF8String (RFC 5280 4.1.2.4). */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function dnAttributes(dn: DistinguishedName): forge.pki.CertificateField[] {
  const attrs: { shortName: string; value: string }[] = [];
  if (dn.country) attrs.push({ shortName: 'C', value: dn.country });
  if (dn.state) attrs.push({ shortName: 'ST', value: dn.state });
  if (dn.locality) attrs.push({ shortName: 'L', value: dn.locality });
  for (const o of dn.organization ?? []) attrs.push({ shortName: 'O', value: o });
  attrs.push({ shortName: 'CN', value: dn.commonName });
  return attrs.map((a) => (PRINTABLE.test(a.value) ? a : { ...a, valueTagClass: 12 /* UTF8String */ as forge.asn1.Class }));
}

/** The DER of a distinguished name as createCertificate encodes it, to compare with an issued certificate's. */
export function subjectDer(dn: DistinguishedName): Buffer {
  const { asn1, pki } = certificateBuilder();
  const cert = pki.createCertificate();
  cert.setSubject(dnAttributes(dn));
  const toAsn1 = (pki as unknown as { distinguishedNameToAsn1(d: unknown): forge.asn1.Asn1 }).distinguishedNameToAsn1;
  return Buffer.from(asn1.toDer(toAsn1(cert.subject)).getBytes(), 'binary');
}

/** The DER of a certificate's subject, exactly as issued. */
export function issuedSubjectDer(cert: crypto.X509Certificate): Buffer {
  return Buffer.from(certificateBuilder().asn1.toDer(encodedSubject(cert, 5)).getBytes(), 'binary');
}

/**
 * Whether a certificate names exactly this subject. Node escapes some characters when it prints a name (',', '+',
 * '"', a leading space, ...), so a printed mismatch is settled on the encoded bytes; node-forge loads only then.
 */
export function hasSubject(cert: crypto.X509Certificate, dn: DistinguishedName): boolean {
  if (cert.subject.split('\n').join(', ') === subjectString(dn)) return true;
  return issuedSubjectDer(cert).equals(subjectDer(dn));
}

function octetString(bytes: Buffer): forge.asn1.Asn1 {
  const { asn1 } = certificateBuilder();
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));
}

/**
 * Builds the certificate structure with node-forge and signs it with Node's crypto.
 * With no issuer the certificate is self-signed with `selfKey`.
 */
export function createCertificate(req: CertificateRequest, issuer: Issuer | { selfKey: crypto.KeyObject }): string {
  const {
    asn1, pki, util, getTBSCertificate, placeholderKey,
  } = certificateBuilder();
  const signingKey = 'selfKey' in issuer ? issuer.selfKey : issuer.key;
  const algorithm = keyAlgorithmOf(signingKey);
  const ski = subjectKeyIdentifier(req.publicKey);
  const aki = 'selfKey' in issuer ? ski : subjectKeyIdentifier(issuer.certificate.publicKey);

  const cert = pki.createCertificate();
  cert.publicKey = placeholderKey;
  // Positive 128-bit serial: clear the top bit so DER needs no sign byte.
  const serial = crypto.randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(req.issuedAt.getTime() - CERT_BACKDATE_MS);
  const notAfter = new Date(req.issuedAt.getTime() + req.validityDays * DAY_MS);
  cert.validity.notAfter = req.notAfterAtMost && req.notAfterAtMost < notAfter ? req.notAfterAtMost : notAfter;
  cert.setSubject(dnAttributes(req.subject));
  cert.setIssuer(dnAttributes(req.subject)); // replaced below by the issuer's own encoded subject
  const keyUsage: Record<string, boolean> = { digitalSignature: true, critical: true };
  if (req.isCa) Object.assign(keyUsage, { keyCertSign: true, cRLSign: true });
  else if (keyAlgorithmOf(req.publicKey) === 'rsa') keyUsage.keyEncipherment = true;
  const extensions: object[] = [
    { name: 'basicConstraints', cA: req.isCa, critical: true },
    { name: 'keyUsage', ...keyUsage },
  ];
  if (req.usages.length > 0) {
    extensions.push({ name: 'extKeyUsage', serverAuth: req.usages.includes('server'), clientAuth: req.usages.includes('client') });
  }
  extensions.push({ name: 'subjectKeyIdentifier', value: octetString(ski) });
  if (!req.isCa) {
    extensions.push({
      name: 'authorityKeyIdentifier',
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, aki.toString('binary')),
      ]),
    });
  }
  const altNames = [
    ...req.dnsNames.map((value) => ({ type: 2, value })),
    ...req.ipAddresses.map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions as never);
  cert.siginfo.algorithmOid = SIGNATURE_OIDS[algorithm]; // replaced below; forge needs a value to build the TBS

  const algorithmId = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SIGNATURE_OIDS[algorithm]).getBytes()),
    // RSA algorithm identifiers carry NULL parameters; ECDSA ones carry none (RFC 5758).
    ...(algorithm === 'rsa' ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')] : []),
  ]);
  const tbs = getTBSCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[2] = algorithmId;
  // Copy the issuer's subject as encoded, so chain building matches byte for byte.
  if (!('selfKey' in issuer)) fields[3] = encodedSubject(issuer.certificate);
  fields[6] = asn1.fromDer(util.createBuffer(spkiDer(req.publicKey).toString('binary')));

  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = crypto.sign('sha256', tbsDer, signingKey);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    asn1.copy(algorithmId),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  const der = Buffer.from(asn1.toDer(certificate).getBytes(), 'binary');
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** A name of a certificate as encoded: field 5 of its TBS is the subject (3 the issuer). */
function encodedSubject(cert: crypto.X509Certificate, field = 5): forge.asn1.Asn1 {
  const { asn1, util } = certificateBuilder();
  const parsed = asn1.fromDer(util.createBuffer(cert.raw.toString('binary')), { decodeBitStrings: false });
  const tbs = (parsed.value as forge.asn1.Asn1[])[0];
  return (tbs.value as forge.asn1.Asn1[])[field];
}

const EKU_NAMES: Record<string, ExtendedKeyUsage> = {
  '1.3.6.1.5.5.7.3.1': 'server',
  '1.3.6.1.5.5.7.3.2': 'client',
};

/** What a certificate says, in the terms of the certificate table; no key or PEM bytes. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
  readonly usages: string[];
  readonly isCa: boolean;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly validityDays: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export function summarize(cert: crypto.X509Certificate): CertificateSummary {
  const sans = (cert.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', '),
    dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    ipAddresses: sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11)),
    usages: (cert.keyUsage ?? []).map((oid) => EKU_NAMES[oid] ?? oid).sort(),
    isCa: cert.ca,
    keyAlgorithm: keyAlgorithmOf(cert.publicKey),
    validityDays: Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

/** The subject string Node's X509Certificate reports for a name, to compare specs with issued certs. */
export function subjectString(dn: DistinguishedName): string {
  return dnAttributes(dn).map((a) => `${a.shortName}=${a.value}`).join(', ');
}
