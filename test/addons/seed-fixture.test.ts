import { SEED_DEFINITION } from '../fixtures/seed-cluster';

// main.ts runs synthesize() on import; capture its argument instead.
const mockSynthesize = jest.fn();
jest.mock('../../lib', () => ({ synthesize: mockSynthesize }), { virtual: true });

test('the shared fixture is the definition main.ts synthesizes', () => {
  jest.isolateModules(() => {
    require('../../main');
  });
  expect(mockSynthesize).toHaveBeenCalledTimes(1);
  expect(mockSynthesize.mock.calls[0][0]).toEqual(SEED_DEFINITION);
});
