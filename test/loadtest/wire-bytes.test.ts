import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchFile } from '../../loadtest/bench/context';
import { wireBytesPerView, wireRatioCheck } from '../../loadtest/bench/wire-bytes';

const file = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../loadtest/scenarios.json'), 'utf8')) as BenchFile;

describe('bench wire bytes per page view (unit)', () => {
  it('when runs read bytes, then bytes per page view are their bytes over their requests, times requests per view', () => {
    // 1,000 requests of 500 B and 3,000 of 300 B: 350 B a request, 1,015 B a view of 2.9 requests.
    expect(wireBytesPerView([{ bytes: 500_000, requests: 1000 }, { bytes: 900_000, requests: 3000 }], 2.9)).to.be.closeTo(1015, 1e-9);
    expect(Number.isNaN(wireBytesPerView([], 2.9))).to.equal(true);
    expect(Number.isNaN(wireBytesPerView([{ bytes: 0, requests: 0 }], 2.9))).to.equal(true);
  });

  it('when the compressed page views read at most 0.35 of the identity ones, then the wire target is met, else not', () => {
    expect(file.bench.targets.hotCompressedWireRatio).to.equal(0.35);
    expect(wireRatioCheck(1750, 5000, 0.35)).to.deep.equal({ ratio: 0.35, check: ["wire bytes ≤ 0.35× hot's", true] });
    expect(wireRatioCheck(1000, 5000, 0.35, 'document bytes').check).to.deep.equal(["document bytes ≤ 0.35× hot's", true]);
    const missed = wireRatioCheck(2000, 5000, 0.35);
    expect(missed.ratio).to.be.closeTo(0.4, 1e-12);
    expect(missed.check).to.deep.equal(["wire bytes ≤ 0.35× hot's", false]);
  });

  it('when there is no identity figure or either figure is not a positive number, then the wire target is not met and no ratio is given', () => {
    for (const [compressed, identity] of [[1000, undefined], [1000, 0], [NaN, 5000], [0, 5000], [1000, NaN]] as const) {
      expect(wireRatioCheck(compressed, identity, 0.35), `${compressed} / ${identity}`).to.deep.equal({ check: ["wire bytes ≤ 0.35× hot's (no identity figure)", false] });
    }
  });
});
