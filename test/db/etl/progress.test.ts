import { expect } from 'chai';
import { createProgress } from '../../../db/etl/progress';

function capture(): { out: { write(s: string): void }; text: () => string; clock: { t: number } } {
  let text = '';
  const clock = { t: 1_000_000 };
  return { out: { write: (s: string) => void (text += s) }, text: () => text, clock };
}

describe('Load progress', () => {
  it('when not on a terminal, then it prints a plain line with percent, rows/s and ETA once per period', () => {
    const { out, text, clock } = capture();
    const p = createProgress({ out, tty: false, totalBytes: 1000, intervalMs: 5000, now: () => clock.t });
    p.setLabel('skus.csv');
    clock.t += 1000;
    p.advance(100, 5000);
    expect(text()).to.equal('');
    clock.t += 4000;
    p.advance(150, 7500);
    p.stop();
    expect(text()).to.equal('load 25.0%, 0 kB/1 kB, 12,500 rows, 2,500 rows/s, ETA 15s (skus.csv)\n');
  });

  it('when on a terminal, then it redraws one bar line in place and prints log lines above it', () => {
    const { out, text, clock } = capture();
    const p = createProgress({ out, tty: true, totalBytes: 2000, columns: 100, intervalMs: 250, now: () => clock.t });
    clock.t += 2000;
    p.advance(1000, 10_000);
    p.log('product.csv: done');
    p.stop();
    const bar = '[##########..........] 50.0%  1 kB/2 kB  10,000 rows  5,000 rows/s  ETA 2s';
    expect(text()).to.equal(`\r\x1b[K${bar}\r\x1b[Kproduct.csv: done\n\r\x1b[K${bar}\r\x1b[K`);
  });

  it('when a phase has no byte count, then it shows the time elapsed in it', () => {
    const { out, text, clock } = capture();
    const p = createProgress({ out, tty: false, totalBytes: 1, intervalMs: 5000, now: () => clock.t });
    p.phase('document views');
    clock.t += 65_000;
    p.advance(0, 0);
    p.stop();
    expect(text()).to.equal('document views: 1m05s elapsed\n');
  });
});
