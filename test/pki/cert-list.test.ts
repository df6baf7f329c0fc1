import { CERT_LIST } from '../../lib';

describe('certificate table', () => {
  test('ids are unique', () => {
    const ids = CERT_LIST.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('a row that shares a key names an earlier row with the same scope and the same receiving roles, so sharing never puts a key on another host', () => {
    CERT_LIST.forEach((row, i) => {
      if (!row.sharesKeyWith) return;
      const owner = CERT_LIST.findIndex((c) => c.id === row.sharesKeyWith);
      expect([row.id, owner >= 0 && owner < i]).toEqual([row.id, true]);
      const o = CERT_LIST[owner];
      expect([row.id, row.perHost, row.perApp, [...row.on].sort()]).toEqual([row.id, o.perHost, o.perApp, [...o.on].sort()]);
    });
  });
});
