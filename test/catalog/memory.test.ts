import { expect } from 'chai';
import { documentBytes, workerHeapFlags } from '../../src/catalog/memory';

describe('worker memory plan (unit)', () => {
  it('when the budget is the default 128 MiB, then documents get 3/5 of it (76.8 MiB) and the heap 152 MiB', () => {
    expect(documentBytes(128 * 2 ** 20)).to.equal(80_530_636);
    expect(workerHeapFlags(128 * 2 ** 20)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=152']);
  });

  it('when the budget is tiny (1 KiB, as in the bench listing and overload scenarios), then the heap is still 40 MiB (a 25 MiB heap left listing pages 10x slower)', () => {
    expect(workerHeapFlags(1024)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=40']);
    expect(workerHeapFlags(16 * 2 ** 20)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=40']);
    expect(workerHeapFlags(17 * 2 ** 20)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=41']);
  });

  it('when the budget is not a whole number of MiB, then the heap limit rounds up and leaves 2/5 of it plus 24 MiB beside the documents', () => {
    for (const budget of [1024, 1.5 * 2 ** 20, 100 * 2 ** 20 + 1, 3 * 2 ** 30 + 1]) {
      const oldSpaceMib = Number(/=(\d+)$/.exec(workerHeapFlags(budget)[1]!)![1]);
      expect(oldSpaceMib * 2 ** 20, String(budget)).to.be.at.least(budget + 24 * 2 ** 20);
      expect(oldSpaceMib * 2 ** 20 - documentBytes(budget), String(budget)).to.be.at.least(budget * 0.4 + 24 * 2 ** 20);
    }
  });
});
