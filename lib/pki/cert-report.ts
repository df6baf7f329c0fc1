import * as crypto from 'crypto';
import { CERT_RENEW_WITHIN_DAYS, ClusterModel } from '../model';
import { caIds, certInstances } from './cert-list';
import { ClusterPki, caFile, caWarnDays, certFile } from './cluster-pki';
import { StateStore } from './state-store';
import { summarize } from './x509';

export interface CertReportRow {
  readonly name: string;
  readonly signer: string;
  readonly subject?: string;
  readonly sans: string[];
  readonly notAfter?: Date;
  readonly daysLeft?: number;
  /** 'ok', 'expiring' (under warnDays), 'expired' or 'missing' (not issued yet). */
  readonly status: 'ok' | 'expiring' | 'expired' | 'missing';
}

/** Reads every CA and certificate of the cluster from the state directory; writes nothing. Leaves warn under warnDays. */
export function certificateReport(model: ClusterModel, stateDir: string, now = new Date(), warnDays = 30): CertReportRow[] {
  const store = new StateStore(stateDir);
  const rows = [
    ...caIds(model).map((id) => ({ name: id, signer: 'self-signed', file: caFile(id).cert })),
    ...certInstances(model).map((i) => ({ name: i.name, signer: i.spec.signer, file: certFile(i.name).cert })),
  ];
  return rows.map(({ name, signer, file }) => {
    const pem = store.readText(file);
    if (pem === undefined) return { name, signer, sans: [], status: 'missing' as const };
    const certificate = new crypto.X509Certificate(pem);
    const s = summarize(certificate);
    const daysLeft = Math.floor((s.notAfter.getTime() - now.getTime()) / 86_400_000);
    // A CA warns earlier: its rotation takes three roll-outs.
    const status = daysLeft < 0 ? 'expired' : daysLeft < (s.isCa ? caWarnDays(certificate) : warnDays) ? 'expiring' : 'ok';
    return { name, signer, subject: s.subject, sans: [...s.dnsNames, ...s.ipAddresses], notAfter: s.notAfter, daysLeft, status };
  });
}

export function formatReport(rows: readonly CertReportRow[]): string {
  const table = rows.map((r) => [
    r.name, r.subject ?? '-', r.sans.join(',') || '-', r.signer,
    r.notAfter?.toISOString().slice(0, 10) ?? '-', r.daysLeft === undefined ? '-' : String(r.daysLeft),
    r.status === 'ok' ? '' : r.status.toUpperCase(),
  ]);
  const header = ['NAME', 'SUBJECT', 'SANS', 'SIGNER', 'NOT AFTER', 'DAYS LEFT', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  return [header, ...table].map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

const DAY_MS = 86_400_000;
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * When the next synth re-issues leaves (CERT_RENEW_WITHIN_DAYS before the first ends) and when the first CA starts
 * to warn: the plan's line on renewal. The kubelets renew their own certificates and are not counted.
 */
export function renewalOutlook(pki: ClusterPki): string {
  const all = pki.list().map(({ name, certificate }) => ({ name, certificate, isCa: certificate.ca, notAfter: new Date(certificate.validTo) }));
  const first = (rows: typeof all) => rows.reduce((a, b) => (b.notAfter < a.notAfter ? b : a));
  const leaves = all.filter((c) => !c.isCa);
  const cas = all.filter((c) => c.isCa);
  const parts: string[] = [];
  if (leaves.length > 0) {
    const end = first(leaves).notAfter;
    const due = leaves.filter((c) => day(c.notAfter) === day(end)).length;
    parts.push(`the next renewal is due from ${day(new Date(end.getTime() - CERT_RENEW_WITHIN_DAYS * DAY_MS))}, when a synth `
      + `re-issues the ${due} certificate(s) that end on ${day(end)}`);
  }
  if (cas.length > 0) {
    const ca = first(cas);
    parts.push(`${ca.name} is the first CA to end, on ${day(ca.notAfter)}; it warns from `
      + `${day(new Date(ca.notAfter.getTime() - caWarnDays(ca.certificate) * DAY_MS))}, as its rotation takes three roll-outs`);
  }
  return `certificates: ${parts.join('; ')}`;
}
