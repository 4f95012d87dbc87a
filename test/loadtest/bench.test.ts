import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BROTLI_STATIC_MODULE } from '../../loadtest/bench/baseline';
import type { Row } from '../../loadtest/bench/report';
import { FIXTURE } from '../support/fixture';
import { requireBinary } from '../support/binaries';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { runBench } from './run-bench';


describe('bench runner smoke (wrk, nginx, the built service; a few seconds)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  before(async function () {
    requireBinary(this, 'wrk', 'wrk');
    requireBinary(this, 'nginx', 'nginx');
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
  });
  after(async () => db?.drop());

  it('when run briefly on a small catalog, then it prints every scenario beside the baseline with no errors', async () => {
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-test-')), 'rows.json');
    const { code, out, err } = await runBench(['--duration', '1', '--churn', '1', '--rounds', '1', '--paths', '300', '--connections', '4', '--json', json], db.url);
    expect(code, err).to.equal(0);
    const rows = out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'));
    expect(rows.map((r) => r.split('|')[1]!.trim().split(':')[0])).to.deep.equal([
      'baseline', 'hot', 'baseline (three documents)', 'hot three documents', 'baseline (compressed)', 'hot compressed', 'baseline (styles)', 'hot styles', 'database',
      'cold', 'cold styles', 'cold styles identity', 'at rate', 'at rate', 'at rate', 'at rate', 'changes', 'changes', 'memory', 'listing', 'listing', 'listing', 'listing', 'overload', 'overload', 'overload',
    ]);
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim());
      expect(Number(cells[2]), row).to.be.greaterThan(0); // req/s
      // The open model's rows may fail their targets on this shared machine, but never unseen: they are judged.
      if (cells[1]!.startsWith('at rate')) {
        expect(cells[15], row).to.match(/^rate held \(±2 %\), p99 ≤ \d+ ms$/);
        continue;
      }
      expect(cells[8], `socket errors in ${row}`).to.equal('0');
      expect(Number(cells[10]), row).to.be.greaterThan(0); // requests
      // Overload may answer 503 (and says which statuses it saw); nothing else may fail.
      if (!cells[1]!.startsWith('overload')) expect(cells[9], `non-2xx in ${row}`).to.equal('0');
      // The cold styles rows are compared with the database's own rate too.
      if (cells[1]!.startsWith('cold styles')) expect(Number(cells[4]), row).to.be.greaterThan(0);
      // So are the listing rows, each with the same pages read by pgbench in the row before it.
      if (/^listing: pages/.test(cells[1]!)) {
        expect(Number(cells[4]), row).to.be.greaterThan(0);
        expect(cells[15], row).to.match(/^≥ 0\.\d+ of the database's rate/);
      }
      // Wire bytes per page view: the page-view mix's rows, identity and compressed, and their baselines.
      const pageViews = /^(baseline|hot|baseline \(three documents\)|hot three documents|baseline \(compressed\)|hot compressed):/.test(cells[1]!);
      expect(cells[14] !== '', `wire B/view in ${row}`).to.equal(pageViews);
      if (pageViews) expect(Number(cells[14]!.split(/[ ;]/)[0]), row).to.be.greaterThan(0);
      // The service's rows also give their document bodies' share, from its own counters.
      if (/^hot( compressed| three documents)?:/.test(cells[1]!)) expect(cells[14], row).to.match(/; documents \d+/);
    }
    // The changes scenario: a copy of the catalog changed while served; its last change set served by every worker.
    const changing = rows.filter((r) => r.startsWith('| changes:')).map((r) => r.split('|').map((c) => c.trim()));
    expect(changing[1]![1]).to.match(/, a change set of 6 products every 1 s \(\d+ sets, apply median \d+ ms, .*; idle: apply \d+ ms, CPU PostgreSQL \d+ ms \(the feed's session \d+ ms\) \+ feed \d+ ms a set\)$/);
    expect(changing[1]![15]).to.equal('≥ 0.9× without, hit ratio > 95 %, a set every 1 s, changes served by every worker');
    expect(changing[1]![16], 'the last change set reached every worker').not.to.include('changes served');
    const cell = (name: string, i: number): string => rows.find((r) => r.startsWith(`| ${name}`))!.split('|').map((c) => c.trim())[i]!;
    // The compressed baseline serves br where Debian's module is installed, else gzip (and says so).
    const coding = fs.existsSync(BROTLI_STATIC_MODULE) ? 'br' : 'gzip';
    expect(cell('baseline (compressed):', 1)).to.match(new RegExp(`^baseline \\(compressed\\): nginx static ${coding} \\(\\d+ files, each also as \\.br and \\.gz\\)$`));
    expect(cell('hot compressed:', 14)).to.match(/^\d+ \(\d+\.\d\d× hot\); documents \d+ \(\d+\.\d\d× hot\)$/);
    expect(cell('hot compressed:', 15)).to.equal("≥ 0.6× baseline, p99 ≤ 10 ms, document bytes ≤ 0.35× hot's");
    expect(cell('cold styles:', 1)).to.match(/Accept-Encoding br, gzip \(\d+\.\d\d× the identity row's rate, same services\)$/);
    expect(cell('cold styles:', 15)).to.match(/, rate ≥ 0\.95× identity's$/);
    expect(cell('cold:', 1)).to.match(/Accept-Encoding br, gzip$/);
    expect(out).to.match(/wire B\/view: bytes wrk read \(HTTP\/1\.1 response headers and bodies, as sent\) per request answered × requests a page view \(the row's path list's mean: baseline \d+\.\d\d, hot \d+\.\d\d, baseline \(three documents\) 2\.\d\d, hot three documents 2\.\d\d/);
    // The storefront fan-out asks for more than the three documents a view (the fixture's product 1 has related ids).
    expect(out).to.match(/hot: Zipf page views, storefront model \((\d+\.\d) requests a view\)/);
    expect(out).to.match(/^- at rate: hot, open model, 50 % of capacity .*: asked \d+ req\/s, sent \d+ req\/s/m);
    // --json keeps what the table shows, the new figures included.
    const saved = JSON.parse(fs.readFileSync(json, 'utf8')) as Row[];
    fs.rmSync(path.dirname(json), { recursive: true, force: true });
    expect(saved.map((r) => r.scenario)).to.deep.equal(rows.map((r) => r.split('|')[1]!.trim()));
    const compressed = saved.find((r) => r.scenario.startsWith('hot compressed'))!;
    const identity = saved.find((r) => r.scenario.startsWith('hot:'))!;
    // Every row of the JSON carries its trace and its run's context (the HTML report's data).
    for (const row of saved) {
      expect(row.run?.catalog, row.scenario).to.equal(6);
      if (!row.scenario.includes('pgbench')) expect(row.trace?.percentiles.length, row.scenario).to.be.greaterThan(10);
    }
    expect(identity.requestsPerView).to.be.greaterThan(3);
    expect(compressed.wireBytesPerView).to.be.greaterThan(0);
    expect(compressed.wireRatio).to.be.closeTo(compressed.wireBytesPerView! / identity.wireBytesPerView!, 1e-9);
    expect(compressed.documentBytesPerView).to.be.greaterThan(0);
    expect(compressed.documentRatio).to.be.closeTo(compressed.documentBytesPerView! / identity.documentBytesPerView!, 1e-9);
    // Documents are a part of what went on the wire.
    expect(compressed.documentBytesPerView).to.be.below(compressed.wireBytesPerView!);
    const tallies = out.split('\n').filter((l) => l.startsWith('- overload'));
    expect(tallies).to.have.length(3);
    for (const line of tallies) {
      const statuses = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, number>;
      expect(Object.keys(statuses).filter((code) => code !== '200' && code !== '503'), line).to.deep.equal([]);
    }
  });
});
