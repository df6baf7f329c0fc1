import * as crypto from 'crypto';
import { ClusterModel } from '../model';
import { caIds, certInstances } from './cert-list';
import { caFile, certFile } from './cluster-pki';
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

/** Reads every CA and certificate of the cluster from the state directory; writes nothing. */
export function certificateReport(model: ClusterModel, stateDir: string, now = new Date(), warnDays = 30): CertReportRow[] {
  const store = new StateStore(stateDir);
  const rows = [
    ...caIds(model).map((id) => ({ name: id, signer: 'self-signed', file: caFile(id).cert })),
    ...certInstances(model).map((i) => ({ name: i.name, signer: i.spec.signer, file: certFile(i.name).cert })),
  ];
  return rows.map(({ name, signer, file }) => {
    const pem = store.readText(file);
    if (pem === undefined) return { name, signer, sans: [], status: 'missing' as const };
    const s = summarize(new crypto.X509Certificate(pem));
    const daysLeft = Math.floor((s.notAfter.getTime() - now.getTime()) / 86_400_000);
    const status = daysLeft < 0 ? 'expired' : daysLeft < warnDays ? 'expiring' : 'ok';
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
