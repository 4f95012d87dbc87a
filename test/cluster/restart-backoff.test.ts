import { expect } from 'chai';
import { createRestartBackoff } from '../../src/cluster/restart-backoff';

describe('restart backoff (unit)', () => {
  // The cluster primary's parameters: workers.
  const workers = () => createRestartBackoff({ healthyAfterMs: 5_000, afterHealthyMs: 0, baseDelayMs: 100, maxDelayMs: 30_000 });
  // The fleet's parameters: whole instances.
  const instances = () => createRestartBackoff({ healthyAfterMs: 10_000, afterHealthyMs: 1_000, baseDelayMs: 1_000, maxDelayMs: 30_000 });

  it('when a process keeps dying quickly, then the delay doubles from the base up to the cap', () => {
    const w = workers();
    expect(Array.from({ length: 11 }, () => w.died(10))).to.deep.equal([100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
    expect(w.quickDeaths()).to.equal(11);
    const i = instances();
    expect(Array.from({ length: 7 }, () => i.died(10))).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('when a process dies after a healthy run, then the count starts over and the healthy delay applies', () => {
    const w = workers();
    expect(w.quickDeaths()).to.equal(0);
    w.died(1);
    w.died(1);
    w.died(1);
    expect(w.quickDeaths()).to.equal(3);
    expect(w.died(5_000)).to.equal(0);
    expect(w.quickDeaths()).to.equal(0);
    expect(w.died(4_999)).to.equal(100);
    const i = instances();
    expect(i.died(60_000)).to.equal(1000);
    expect(i.died(9_999)).to.equal(1000);
    expect(i.died(9_999)).to.equal(2000);
    expect(i.died(10_000)).to.equal(1000);
    expect(i.quickDeaths()).to.equal(0);
  });

  it('when a cap is below the doubled delay, then the cap wins and very long loops do not overflow', () => {
    const b = createRestartBackoff({ healthyAfterMs: 1, afterHealthyMs: 0, baseDelayMs: 100, maxDelayMs: 250 });
    b.died(0);
    b.died(0);
    expect(b.died(0)).to.equal(250);
    for (let k = 0; k < 2000; k++) b.died(0);
    expect(b.died(0)).to.equal(250);
  });
});
