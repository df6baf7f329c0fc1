/** Why the PKI or the secrets store did something on this run: data, printed by formatReason alone. */
export type Reason =
  | { readonly kind: 'new-cluster' }
  | { readonly kind: 'new-since'; readonly why: string }
  | { readonly kind: 'new' }
  | { readonly kind: 'not-in-state' }
  | { readonly kind: 'renewal-requested' }
  | { readonly kind: 'rekey-requested' }
  | { readonly kind: 'unreadable' }
  | { readonly kind: 'key-missing' }
  | { readonly kind: 'shared-key-replaced'; readonly owner: string }
  | { readonly kind: 'key-mismatch' }
  | { readonly kind: 'signer-changed'; readonly signer: string }
  | { readonly kind: 'subject-changed'; readonly from: string; readonly to: string }
  | { readonly kind: 'sans-changed'; readonly added: readonly string[]; readonly removed: readonly string[] }
  | { readonly kind: 'usages-changed'; readonly added: readonly string[]; readonly removed: readonly string[] }
  | { readonly kind: 'validity-changed'; readonly from: number; readonly to: number }
  | { readonly kind: 'outlives-ca'; readonly caNotAfter: Date }
  | { readonly kind: 'expired' }
  | { readonly kind: 'token-without-expiry' }
  | { readonly kind: 'token-expired'; readonly at: string }
  | { readonly kind: 'token-expiring'; readonly at: string }
  | { readonly kind: 'expiring'; readonly daysLeft: number };

/** Something the PKI or the secrets store did on this run, for the synth report. */
export interface PkiEvent {
  readonly action: 'created' | 'issued' | 're-issued' | 'generated';
  /** CA id, certificate name ('etcd-server@k8s1'), key pair or secret name. */
  readonly name: string;
  readonly reason: Reason;
}

const changes = (added: readonly string[], removed: readonly string[]) => [...added.map((x) => `+${x}`), ...removed.map((x) => `-${x}`)].join(' ');

export function formatReason(r: Reason): string {
  switch (r.kind) {
    case 'new-cluster': return 'new cluster';
    case 'new-since': return `new since this state was made: ${r.why}`;
    case 'new': return 'new';
    case 'not-in-state': return 'not in the state yet';
    case 'renewal-requested': return 'renewal requested';
    case 'rekey-requested': return 'renewal with a new key requested';
    case 'unreadable': return 'stored certificate is unreadable';
    case 'key-missing': return 'key missing or of another algorithm';
    case 'shared-key-replaced': return `${r.owner} gets a new key`;
    case 'key-mismatch': return 'key does not match the certificate';
    case 'signer-changed': return `not signed by the current ${r.signer}`;
    case 'subject-changed': return `subject changed: ${r.from} → ${r.to}`;
    case 'sans-changed': return `SANs changed: ${changes(r.added, r.removed)}`;
    case 'usages-changed': return `usages changed: ${changes(r.added, r.removed)}`;
    case 'validity-changed': return `validity changed: ${r.from} → ${r.to} days`;
    case 'outlives-ca': return `valid past its CA (${r.caNotAfter.toISOString().slice(0, 10)})`;
    case 'expired': return 'expired';
    case 'token-without-expiry': return 'the old token never expired; a new one does (nodes that joined keep running)';
    case 'token-expired': return `the old token expired at ${r.at} (nodes that joined keep running)`;
    case 'token-expiring': return `the old token expires at ${r.at}, in less than half its lifetime (nodes that joined keep running)`;
    case 'expiring': return `expires in ${r.daysLeft} days`;
  }
}

/** One line of the report: 're-issued apiserver: SANs changed: +k8s5'. */
export function formatEvent(e: PkiEvent): string {
  return `${e.action} ${e.name}: ${formatReason(e.reason)}`;
}
