import { expect } from 'chai';
import { formatReport, type Row } from '../../loadtest/bench/report';

const ctx = { machine: 'test', catalog: 10, workers: 2, cacheMb: 128, rssLimitMb: 228, runs: '1 × 1 s' };
const row = (over: Partial<Row>): Row => ({
  scenario: 'x',
  rps: 1000,
  p50Ms: 1,
  p95Ms: 2,
  p99Ms: 3,
  errors: 0,
  non2xx: 0,
  requests: 1000,
  serverCores: 1,
  generatorCores: 0.2,
  pass: true,
  ...over,
});
const met = (r: Row): string => formatReport([r], ctx).split('\n').find((l) => l.startsWith('| x |'))!.split('|').at(-2)!.trim();

describe('bench report (unit)', () => {
  it('when a row passed its target with no errors, then it is met', () => {
    expect(met(row({}))).to.equal('yes');
  });

  it('when a row has socket errors, then it is not met, overload rows (which tally statuses) included', () => {
    expect(met(row({ errors: 3 }))).to.equal('NO');
    expect(met(row({ errors: 3, statuses: { '200': 900, '503': 97 } }))).to.equal('NO');
  });

  it('when a row answered non-2xx, then it is not met unless it is an overload row tallying its statuses', () => {
    expect(met(row({ non2xx: 1 }))).to.equal('NO');
    expect(met(row({ non2xx: 97, statuses: { '200': 903, '503': 97 } }))).to.equal('yes');
  });

  it('when a worker is over its RSS bound, then it is not met', () => {
    expect(met(row({ workerRssMb: 229 }))).to.equal('NO');
    expect(met(row({ workerRssMb: 300, rssLimitMb: 356 }))).to.equal('yes');
  });

  it('when a row was compared with the database or has unmeasured cells, then they are printed as such', () => {
    const line = formatReport([row({ ofDatabase: 0.456, p95Ms: NaN, generatorCores: NaN })], ctx).split('\n').find((l) => l.startsWith('| x |'))!;
    const cells = line.split('|').map((c) => c.trim());
    expect(cells.slice(2, 8)).to.deep.equal(['1000', '', '0.46', '1.00', '-', '3.00']);
    expect(cells[12]).to.equal('-');
  });
});
