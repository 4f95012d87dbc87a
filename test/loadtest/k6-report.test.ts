import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { k6Time } from '../../loadtest/bench/html/k6-json';
import type { ReportData } from '../../loadtest/bench/html/data';
import { launchChromium } from '../support/chromium';
import { runTsScript } from './run-bench';

const ROOT = path.resolve(__dirname, '../..');
// Written to k6's documented --out json format: Metric lines, then Point lines of
// http_reqs, http_req_duration and http_req_failed with k6's tags: 30 requests over 3 s of the
// smoke scenario, one of 180.25 ms, a 404 (an unknown id: expected), one without answer (status 0).
const FIXTURE = path.join(__dirname, 'fixtures/k6-smoke.json');

/** `npm run bench:report -- ARGS` as a process. */
const benchReport = (args: string[]) => runTsScript('loadtest/bench/report-main.ts', args);

describe('bench:report of a k6 --out json file', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-k6-report-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when k6 times carry nanoseconds and an offset, then they are read to the millisecond', () => {
    expect(k6Time('2026-12-05T10:00:01.407123456+01:00')).to.equal(Date.UTC(2026, 11, 5, 9, 0, 1, 407));
    expect(() => k6Time('yesterday')).to.throw(/unreadable time/);
  });

  it('when given the k6 fixture, then one row per k6 scenario with its counts, percentiles and SLO verdict, drawn by chromium offline', async function () {
    const html = path.join(dir, 'k6.html');
    const run = await benchReport([FIXTURE, '--out', html]);
    expect(run.code, run.err).to.equal(0);
    expect(run.out).to.equal(`${html}: 1 rows, 1 sections\n`);
    const page = fs.readFileSync(html, 'utf8');
    const embedded = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(page)![1]!;
    const data = JSON.parse(embedded) as ReportData;
    expect(data.source).to.equal('k6');
    const [row] = data.rows;
    expect(row!.scenario).to.equal('k6 smoke: 30 requests');
    expect(row!.requests).to.equal(30);
    expect(row!.rps).to.equal(10);
    expect(row!.errors).to.equal(1);
    expect(row!.non2xx).to.equal(1);
    expect(row!.statuses).to.deep.equal({ '200': 28, '404': 1, '0': 1 });
    // HdrHistogram with 3 significant digits: within 0.1 % of the exact values.
    expect(row!.p95Ms).to.be.closeTo(180.25, 0.2);
    expect(row!.p99Ms).to.be.closeTo(5000, 5);
    expect(row!.trace!.responses).to.deep.equal([10, 10, 9]);
    expect(row!.trace!.errors).to.deep.equal([0, 0, 1]);
    expect(row!.trace!.non2xx).to.deep.equal([0, 0, 1]);
    // Judged on scenarios.json's SLO: the 180 ms request and the one without answer miss it.
    expect(row!.target).to.equal('p95 < 10 ms, p99 < 25 ms, failed < 1 %');
    expect(row!.failed).to.deep.equal(['p95 < 10 ms', 'p99 < 25 ms', 'failed < 1 %']);
    // The k6 scenario's definition comes from the one file the k6 script reads.
    const scenarios = JSON.parse(fs.readFileSync(path.join(ROOT, 'loadtest/scenarios.json'), 'utf8')) as {
      scenarios: Record<string, unknown>;
    };
    expect(data.definitions.k6Scenarios).to.deep.equal({ smoke: scenarios.scenarios.smoke });

    const browser = await launchChromium(this);
    try {
      const tab = await browser.newPage();
      const requested: string[] = [];
      await tab.route('**/*', (route) =>
        route.request().url() === pathToFileURL(html).href
          ? route.continue()
          : (requested.push(route.request().url()), route.abort()),
      );
      await tab.goto(pathToFileURL(html).href);
      await tab.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 });
      expect(requested).to.deep.equal([]);
      // k6 gives no CPU figures: three charts drawn, the CPU one says so.
      expect(await tab.$$eval('figure[data-chart] canvas', (c) => c.length)).to.equal(3);
      expect(await tab.textContent('figure[data-chart="cpu"]')).to.include('not measured');
      expect(await tab.textContent('figure[data-chart="percentiles"] .u-legend')).to.include('k6 smoke');
      expect(await tab.textContent('td[data-field="met"]')).to.equal(
        'NO (p95 < 10 ms; p99 < 25 ms; failed < 1 %; errors)',
      );
    } finally {
      await browser.close();
    }
  });

  it('when the input is neither a bench file nor k6 points, then it fails saying so', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"type":"Metric","data":{"name":"vus"},"metric":"vus"}\n');
    const run = await benchReport([bad]);
    expect(run.code).to.equal(1);
    expect(run.err).to.match(/no http_req_duration points/);
  });
});
