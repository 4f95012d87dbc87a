import { expect } from 'chai';
import { pageKey, pageOfKey, stalePages } from '../../src/catalog/listing-pages';

describe('listing pages and changed positions (unit)', () => {
  it('when a page key is made, then it reads back as its page and count', () => {
    expect(pageKey(3, 25)).to.equal('l3:25');
    expect(pageOfKey('l3:25')).to.deep.equal({ page: 3, count: 25 });
  });

  it('when positions changed, then exactly the pages holding one of them are stale', () => {
    // Unsorted, overlapping and adjacent ranges: merged before the search.
    const stale = stalePages([
      { from: 40, to: 40 },
      { from: 6, to: 6 },
      { from: 1000, to: 1200 },
      { from: 38, to: 41 },
      { from: 42, to: 45 },
    ]);
    const pagesOf5 = Array.from({ length: 260 }, (_, i) => pageKey(i + 1, 5)).filter(stale);
    // Position 6 is page 2; 38–45 pages 8 and 9; 1000–1200 pages 200 to 240.
    expect(pagesOf5).to.deep.equal([
      'l2:5',
      'l8:5',
      'l9:5',
      ...Array.from({ length: 41 }, (_, i) => pageKey(200 + i, 5)),
    ]);
    expect(stale(pageKey(1, 1))).to.equal(false);
    expect(stale(pageKey(6, 1))).to.equal(true);
    expect(stale(pageKey(1, 5))).to.equal(false);
    expect(stale(pageKey(1, 100))).to.equal(true);
    expect(stale(pageKey(11, 100))).to.equal(true);
    expect(stale(pageKey(13, 100))).to.equal(false);
    // Beyond every range, and with nothing changed.
    expect(stale(pageKey(1000, 5))).to.equal(false);
    expect(stalePages([])(pageKey(1, 5))).to.equal(false);
  });
});
