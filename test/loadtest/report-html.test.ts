import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { Row } from '../../loadtest/bench/report';
import { requireBinary } from '../support/binaries';
import { launchChromium } from '../support/chromium';
import { loadCatalog } from '../support/catalog';
import { FIXTURE } from '../support/fixture';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { runBench } from './run-bench';

const ROOT = path.resolve(__dirname, '../..');
// Set (WRITE_REPORT_SCREENSHOT=1) to write the screenshot the README shows.
const SCREENSHOT = path.join(ROOT, 'docs/stress-report.png');

describe('HTML stress report (a short real bench run, opened in Debian chromium)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let browser: Browser;
  let dir: string;
  before(async function () {
    requireBinary(this, 'wrk', 'wrk');
    requireBinary(this, 'nginx', 'nginx');
    browser = await launchChromium(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-report-test-'));
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
  });
  after(async () => {
    await browser?.close();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("when a short bench run writes --report, then chromium draws every chart offline, with the JSON's numbers and legends", async () => {
    const json = path.join(dir, 'rows.json');
    const html = path.join(dir, 'report.html');
    const args = [
      '--scenarios',
      'hot,cold,at-rate',
      '--duration',
      '2',
      '--rounds',
      '1',
      '--paths',
      '300',
      '--connections',
      '4',
      '--json',
      json,
      '--report',
      html,
    ];
    const run = await runBench(args, db.url);
    expect(run.code, run.err).to.equal(0);
    const rows = JSON.parse(fs.readFileSync(json, 'utf8')) as Row[];
    expect(rows.map((r) => r.scenario.split(':')[0])).to.deep.equal([
      'baseline',
      'hot',
      'cold',
      'at rate',
      'at rate',
      'at rate',
      'at rate',
    ]);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Offline: every request but the report file itself is counted and refused.
    const requested: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url === pathToFileURL(html).href) return route.continue();
      requested.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 });
    expect(errors).to.deep.equal([]);
    expect(requested).to.deep.equal([]);

    // Every chart of every section drew lines on its canvas.
    const charts = await page.$$eval('figure[data-chart]', (figures) =>
      figures.map((f) => {
        const canvas = f.querySelector('canvas');
        if (!canvas) return { kind: f.getAttribute('data-chart'), inked: 0, legend: '' };
        const context = canvas.getContext('2d')!;
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) inked++;
        return { kind: f.getAttribute('data-chart'), inked, legend: f.querySelector('.u-legend')?.textContent ?? '' };
      }),
    );
    const sections = await page.$$eval('section.scenario', (s) => s.length);
    expect(sections).to.equal(3); // hot beside its baseline, cold beside the same baseline, the four at-rate rows together
    expect(charts.length).to.equal(4 * sections);
    for (const chart of charts) expect(chart.inked, `${chart.kind}: ${chart.legend}`).to.be.greaterThan(500);
    const legends = charts.map((c) => c.legend).join(' ');
    expect(legends).to.include('baseline');
    expect(legends).to.include('hot');
    expect(legends).to.include('(from schedule)');
    expect(legends).to.include('generator');

    // The table's numbers are the JSON's, as given and as shown.
    const cells = await page.$$eval('table.targets tbody tr', (trs) =>
      trs.map((tr) =>
        Object.fromEntries(
          [...tr.querySelectorAll('td[data-field]')].map((td) => [
            td.getAttribute('data-field'),
            { value: td.getAttribute('data-value'), text: td.textContent },
          ]),
        ),
      ),
    );
    expect(cells).to.have.length(rows.length);
    rows.forEach((row, i) => {
      const c = cells[i]!;
      expect(c.scenario!.text).to.equal(row.scenario);
      expect(Number(c.rps!.value)).to.equal(row.rps);
      expect(c.rps!.text).to.equal(row.rps.toFixed(0));
      expect(Number(c.requests!.value)).to.equal(row.requests);
      if (Number.isFinite(row.p99Ms)) expect(c.p99Ms!.text).to.equal(row.p99Ms.toFixed(2));
      if (row.openModel?.held) expect(c.p999Ms!.text).to.equal(row.openModel.p999Ms.toFixed(2));
    });
    const catalog = await page.textContent('dd[data-fact="catalog"]');
    expect(catalog).to.equal(`${rows[0]!.run!.catalog} products`);
    expect(await page.textContent('dd[data-fact="commit"]')).to.equal(rows[0]!.run!.commit);

    if (process.env.WRITE_REPORT_SCREENSHOT) {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
    await page.close();
  });
});
