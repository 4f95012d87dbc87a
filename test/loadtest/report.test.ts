import { expect } from 'chai';
import { formatReport, judge, metText, type Row } from '../../loadtest/bench/report';

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
const line = (r: Row): string => formatReport([r], ctx).split('\n').find((l) => l.startsWith('| x |'))!;
const cells = (r: Row): string[] => line(r).split('|').map((c) => c.trim());
const met = (r: Row): string => cells(r).at(-2)!;

describe('bench report (unit)', () => {
  it('when a row passed its target with no errors, then it is met', () => {
    expect(met(row({}))).to.equal('yes');
  });

  it('when a row has socket errors, then it is not met, overload rows (which tally statuses) included', () => {
    expect(met(row({ errors: 3 }))).to.equal('NO (errors)');
    expect(met(row({ errors: 3, statuses: { '200': 900, '503': 97 } }))).to.equal('NO (errors)');
  });

  it('when a row answered non-2xx, then it is not met unless it is an overload row tallying its statuses', () => {
    expect(met(row({ non2xx: 1 }))).to.equal('NO (errors)');
    expect(met(row({ non2xx: 97, statuses: { '200': 903, '503': 97 } }))).to.equal('yes');
  });

  it('when a worker is over its RSS bound, then it is not met', () => {
    expect(met(row({ workerRssMb: 229 }))).to.equal('NO (RSS)');
    expect(met(row({ workerRssMb: 300, rssLimitMb: 356 }))).to.equal('yes');
    // The HTML report's verdict is the table's: the row's own bound first.
    expect(metText(row({ workerRssMb: 300, rssLimitMb: 356 }), 228)).to.equal('yes');
    expect(metText(row({ workerRssMb: 229 }), 228)).to.equal('NO (RSS)');
  });

  it('when a row missed a target without naming its parts, then it is plainly not met', () => {
    expect(met(row({ pass: false }))).to.equal('NO');
  });

  it('when a row is judged on several checks, then the target lists them all and the met cell names those missed', () => {
    const judged = judge([
      ['≥ 0.3× baseline', false],
      ['p99 ≤ 25 ms', true],
      ['rate ≥ 0.95× identity\'s', false],
    ]);
    expect(judged).to.deep.equal({ target: "≥ 0.3× baseline, p99 ≤ 25 ms, rate ≥ 0.95× identity's", pass: false, failed: ['≥ 0.3× baseline', "rate ≥ 0.95× identity's"] });
    expect(met(row({ ...judged, workerRssMb: 229 }))).to.equal("NO (≥ 0.3× baseline; rate ≥ 0.95× identity's; RSS)");
    expect(judge([['wire bytes ≤ 0.35× hot\'s', true]])).to.deep.equal({ target: "wire bytes ≤ 0.35× hot's", pass: true });
    expect(met(row(judge([['wire bytes ≤ 0.35× hot\'s', true]])))).to.equal('yes');
  });

  it('when rows carry wire bytes per page view, then the column shows them, the compressed one against hot, and a note says how they were computed', () => {
    const report = formatReport(
      [
        row({ wireBytesPerView: 5612.4, requestsPerView: 13.264 }),
        row({ scenario: 'y', wireBytesPerView: 1734.2, wireRatio: 0.309, requestsPerView: 2.9 }),
        row({ scenario: 'z', wireBytesPerView: 1734.2, wireRatio: 0.309, documentBytesPerView: 804.4, documentRatio: 0.2481 }),
      ],
      ctx,
    );
    const wire = (name: string): string => report.split('\n').find((l) => l.startsWith(`| ${name} |`))!.split('|').map((c) => c.trim()).at(-4)!;
    expect(report).to.match(/\| worker RSS MiB \| wire B\/view \| target \| met \|/);
    expect(wire('x')).to.equal('5612');
    expect(wire('y')).to.equal('1734 (0.31× hot)');
    expect(wire('z')).to.equal('1734 (0.31× hot); documents 804 (0.25× hot)');
    expect(report).to.include("wire B/view: bytes wrk read (HTTP/1.1 response headers and bodies, as sent) per request answered × requests a page view (the row's path list's mean: x 13.26, y 2.90);");
    expect(formatReport([row({})], ctx)).not.to.include('wire B/view:');
    expect(cells(row({})).at(-4)).to.equal('');
  });

  it('when a row was compared with the database or has unmeasured cells, then they are printed as such', () => {
    const c = cells(row({ ofDatabase: 0.456, p95Ms: NaN, generatorCores: NaN }));
    expect(c.slice(2, 8)).to.deep.equal(['1000', '', '0.46', '1.00', '-', '3.00']);
    expect(c[12]).to.equal('-');
  });
});
