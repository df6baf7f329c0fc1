import { parseQuantity } from '../../lib/model/quantity';

test.each([
  ['250m', 0.25], ['1', 1], ['1.5', 1.5], ['512Mi', 512 * 2 ** 20], ['1Gi', 2 ** 30], ['2k', 2000], ['1e3', 1000], ['.5', 0.5],
])('parses %s', (q, n) => {
  expect(parseQuantity(q)).toBeCloseTo(n);
});

test.each(['', '1GB', '-1', 'abc', '1 Gi', 5, undefined])('rejects %p', (q) => {
  expect(parseQuantity(q)).toBeUndefined();
});
