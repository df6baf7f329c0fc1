import { CERT_RENEW_WITHIN_DAYS } from '../constants';
import { DEFAULTS } from '../defaults';
import { KEY_ALGORITHMS } from '../definition';
import { DefinitionIssue, Issues } from './issue';
import { checkSchedule } from './calendar';
import { checkBoolean, isPositiveInt } from './values';

/** A hundred years: past that, notAfter dates leave what X.509 and OpenSSL handle well. */
const MAX_VALIDITY_DAYS = 36500;
import { DefinitionView } from './view';

/** certificates: validities (a leaf never outlives its CA), key algorithm, subject fields. */
export function certificateRules({ d }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  const c = d.certificates ?? {};
  if (c.caValidityDays !== undefined && !(isPositiveInt(c.caValidityDays) && c.caValidityDays <= MAX_VALIDITY_DAYS)) {
    issues.add('certificates.caValidityDays', c.caValidityDays, `must be a whole number of days from 1 to ${MAX_VALIDITY_DAYS}, e.g. ${DEFAULTS.certificates.caValidityDays}`);
  }
  if (c.validityDays !== undefined && !isPositiveInt(c.validityDays)) {
    issues.add('certificates.validityDays', c.validityDays, `must be a positive whole number of days, e.g. ${DEFAULTS.certificates.validityDays}`);
  } else if (c.validityDays !== undefined && c.validityDays <= CERT_RENEW_WITHIN_DAYS) {
    issues.add('certificates.validityDays', c.validityDays, `is within the renewal window (a certificate is re-issued once it expires within ${CERT_RENEW_WITHIN_DAYS} days), so every synth would re-issue every certificate and restart every service; use more than ${CERT_RENEW_WITHIN_DAYS} days, e.g. ${DEFAULTS.certificates.validityDays}`);
  }
  const caDays = c.caValidityDays ?? DEFAULTS.certificates.caValidityDays;
  const days = c.validityDays ?? DEFAULTS.certificates.validityDays;
  if (isPositiveInt(caDays) && isPositiveInt(days) && days > caDays) {
    issues.add('certificates.validityDays', c.validityDays, `exceeds certificates.caValidityDays (${caDays}); a leaf cannot outlive its CA, so use at most ${caDays}, e.g. ${Math.min(caDays, DEFAULTS.certificates.validityDays)}`);
  }
  if (c.keyAlgorithm !== undefined && !KEY_ALGORITHMS.includes(c.keyAlgorithm)) {
    issues.add('certificates.keyAlgorithm', c.keyAlgorithm, `is not supported; use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  if (c.subject?.country !== undefined && !/^[A-Z]{2}$/.test(String(c.subject.country))) {
    issues.add('certificates.subject.country', c.subject.country, 'is not a country code; use two capital letters (ISO 3166), e.g. "CN"');
  }
  for (const f of ['state', 'locality'] as const) {
    const v = c.subject?.[f];
    // X.520's upper bound; any language's letters (stored as UTF8String), but no control characters.
    if (v !== undefined && (typeof v !== 'string' || v.trim().length === 0 || [...v].length > 128 || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(v))) {
      issues.add(`certificates.subject.${f}`, v, `must be a name of 1 to 128 characters without control characters, e.g. "${f === 'state' ? 'Beijing' : '北京'}"`);
    }
  }
  const check = c.expiryCheck ?? {};
  checkBoolean(issues, 'certificates.expiryCheck.enabled', check.enabled);
  checkSchedule(issues, 'certificates.expiryCheck.schedule', check.schedule, DEFAULTS.certificates.expiryCheck.schedule);
  const dir = check.textfileDirectory;
  // A word of the check's config and a path in its metric file: plain characters only.
  if (dir !== undefined && (typeof dir !== 'string' || !/^(\/[A-Za-z0-9._-]+)+$/.test(dir) || dir.split('/').some((p) => p === '.' || p === '..'))) {
    issues.add('certificates.expiryCheck.textfileDirectory', dir, `is not an absolute directory of letters, digits, ".", "_" and "-"; use node-exporter's --collector.textfile.directory, e.g. "${DEFAULTS.certificates.expiryCheck.textfileDirectory}"`);
  }
  return issues.list;
}
