import { APP_CERT_LIST, PKI_TABLE } from '../../lib/pki';

describe('certificate table', () => {
  test('ids are unique, across the table and the per-app list', () => {
    const ids = [...PKI_TABLE, ...APP_CERT_LIST].map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('a CA is a row with no signer; every certificate names a CA of the table as its signer', () => {
    const cas = PKI_TABLE.filter((r) => r.kind === 'ca').map((r) => r.id);
    expect(cas).toEqual(['etcd-ca', 'kubernetes-ca', 'front-proxy-ca', 'ingress-ca']);
    for (const row of PKI_TABLE) {
      expect([row.id, row.kind === 'certificate' ? cas.includes(row.signer!) : row.signer === undefined]).toEqual([row.id, true]);
    }
    for (const row of APP_CERT_LIST) expect([row.id, cas.includes(row.signer)]).toEqual([row.id, true]);
    // CAs first: a certificate's signer is created before it is signed.
    const firstLeaf = PKI_TABLE.findIndex((r) => r.kind !== 'ca');
    expect(PKI_TABLE.slice(firstLeaf).some((r) => r.kind === 'ca')).toBe(false);
  });

  test('a row that shares a key names an earlier row with the same scope and the same receiving roles, so sharing never puts a key on another host', () => {
    PKI_TABLE.forEach((row, i) => {
      if (!row.sharesKeyWith) return;
      const owner = PKI_TABLE.findIndex((c) => c.id === row.sharesKeyWith);
      expect([row.id, owner >= 0 && owner < i]).toEqual([row.id, true]);
      const o = PKI_TABLE[owner];
      expect([row.id, row.perHost, [...row.keyOn].sort()]).toEqual([row.id, o.perHost, [...o.keyOn].sort()]);
    });
  });
});
