import { expect } from 'chai';
import { documentBytes, workerHeapFlags } from '../../src/catalog/memory';

describe('worker memory plan (unit)', () => {
  it('when the budget is the default 128 MiB, then documents get 96 MiB and the heap 152 MiB', () => {
    expect(documentBytes(128 * 2 ** 20)).to.equal(96 * 2 ** 20);
    expect(workerHeapFlags(128 * 2 ** 20)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=152']);
  });

  it('when the budget is tiny (1 KiB, as in the bench listing and overload scenarios), then the collector still gets 16 MiB beside the documents (a 41 MiB heap), not a quarter of nothing', () => {
    expect(workerHeapFlags(1024)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=41']);
    // From 64 MiB on, a quarter of the budget is the larger room: the floor changes nothing.
    expect(workerHeapFlags(64 * 2 ** 20)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=88']);
  });

  it('when the budget is not a whole number of MiB, then the heap limit rounds up and leaves a quarter of it (at least 16 MiB) plus 24 MiB beside the documents', () => {
    for (const budget of [1024, 1.5 * 2 ** 20, 3 * 2 ** 30 + 1]) {
      const oldSpaceMib = Number(/=(\d+)$/.exec(workerHeapFlags(budget)[1]!)![1]);
      expect(oldSpaceMib * 2 ** 20, String(budget)).to.be.at.least(budget + 24 * 2 ** 20);
      expect(oldSpaceMib * 2 ** 20 - documentBytes(budget), String(budget)).to.be.at.least(Math.max(budget / 4, 16 * 2 ** 20) + 24 * 2 ** 20);
    }
  });
});
