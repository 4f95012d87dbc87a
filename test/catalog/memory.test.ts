import { expect } from 'chai';
import { documentBytes, workerHeapFlags } from '../../src/catalog/memory';

describe('worker memory plan (unit)', () => {
  it('when the budget is the default 128 MiB, then documents get 96 MiB and the heap 168 MiB', () => {
    expect(documentBytes(128 * 2 ** 20)).to.equal(96 * 2 ** 20);
    expect(workerHeapFlags(128 * 2 ** 20)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=168']);
  });

  it('when the budget is tiny (1 KiB, as in the bench listing and overload scenarios), then the heap still has 40 MiB beside it (a 25 MiB heap left listing pages 10x slower)', () => {
    expect(workerHeapFlags(1024)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=41']);
  });

  it('when the budget is not a whole number of MiB, then the heap limit rounds up and leaves a quarter of it plus 40 MiB beside the documents', () => {
    for (const budget of [1024, 1.5 * 2 ** 20, 3 * 2 ** 30 + 1]) {
      const oldSpaceMib = Number(/=(\d+)$/.exec(workerHeapFlags(budget)[1]!)![1]);
      expect(oldSpaceMib * 2 ** 20, String(budget)).to.be.at.least(budget + 40 * 2 ** 20);
      expect(oldSpaceMib * 2 ** 20 - documentBytes(budget), String(budget)).to.be.at.least(budget / 4 + 40 * 2 ** 20);
    }
  });
});
