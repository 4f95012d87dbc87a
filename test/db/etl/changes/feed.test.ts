import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { FEED_APPLICATION, feedPaths, runChangeFeed } from '../../../../db/etl/change-feed';
import { reloadCatalog } from '../../../../db/etl/reload-catalog';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../support/postgres';
import { runTool } from '../../support/run-tool';
import { eventually } from '../../../support/wait';
import { catalogTables, generation, smallCatalog, writeExport } from './model';

describe('Change feed (npm run etl -- --changes-feed DIR)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let tmp: string;
  let spool: string;
  let stop: AbortController;
  let running: Promise<number> | undefined;
  const logs: string[] = [];
  const price = async (id: number): Promise<string> => String((await queryRows(db.url, 'SELECT default_price::text FROM catalog.product WHERE id = $1', [id]))[0]![0]);
  const feedPids = async (): Promise<number[]> => (await queryRows(db.url, 'SELECT pid FROM pg_stat_activity WHERE application_name = $1', [FEED_APPLICATION])).map((r) => Number(r[0]));

  /** Writes a change set beside the queue and moves it in whole, as producers do. */
  function enqueue(name: string, write: (dir: string) => void): void {
    const staging = path.join(spool, 'incoming', `.${name}`);
    write(staging);
    fs.renameSync(staging, path.join(spool, 'incoming', name));
  }
  const applied = (name: string): Promise<void> =>
    eventually(() => fs.existsSync(path.join(feedPaths(spool).applied, name, 'summary.json')), 20_000, `${name} applied`);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-changes-feed-'));
    writeExport(path.join(tmp, 'base'), catalogTables(smallCatalog()));
  });
  beforeEach(async () => {
    db = await createTestDatabase();
    await reloadCatalog({ url: db.url, dir: path.join(tmp, 'base'), rejectsPath: path.join(tmp, 'r-base.csv') });
    spool = fs.mkdtempSync(path.join(tmp, 'spool-'));
    fs.mkdirSync(path.join(spool, 'incoming'));
    stop = new AbortController();
    logs.length = 0;
    running = runChangeFeed({ url: db.url, dir: spool, signal: stop.signal, pollMs: 50, log: (l) => logs.push(l) });
  });
  afterEach(async () => {
    stop.abort();
    await running;
    await db.drop();
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('when change sets arrive, then each is applied in name order on one session and moved to applied/ with its summary', async () => {
    // Queued together before the feed looks: name order decides, the later set wins.
    enqueue('002', (d) => generation(d, 5, 22));
    enqueue('001', (d) => generation(d, 5, 11));
    await applied('002');
    expect(await price(5)).to.equal('22.00');
    const pids = await feedPids();
    expect(pids).to.have.length(1);
    enqueue('003', (d) => generation(d, 6, 33));
    await applied('003');
    expect(await feedPids(), 'the same session').to.deep.equal(pids);
    type Summary = { version: number; products: number; timings: { totalMs: number; steps: Record<string, number> } };
    const summaries = ['001', '002', '003'].map((n) => JSON.parse(fs.readFileSync(path.join(spool, 'applied', n, 'summary.json'), 'utf8')) as Summary);
    expect(summaries.map((s) => s.version)).to.deep.equal([2, 3, 4]);
    expect(summaries.every((s) => s.products === 1)).to.equal(true);
    // Where each set's time went, step by step as the command logs them, within its total.
    const { steps, totalMs } = summaries[2]!.timings;
    expect(Object.keys(steps)).to.include.members(['products touched, before', 'skus rows written', 'styles_doc rebuilt', 'committed']);
    expect(Object.values(steps).reduce((a, b) => a + b, 0)).to.be.at.most(totalMs);
    expect(fs.readdirSync(path.join(spool, 'incoming'))).to.deep.equal([]);
    expect(fs.existsSync(path.join(spool, 'applied', '003', 'rejects.csv'))).to.equal(true);
    // No lock stays with the session between sets: full loads and other appliers may go on.
    expect(await queryRows(db.url, "SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory'")).to.deep.equal([[0]]);
  });

  it('when a set is refused, then it moves to failed/ with the reason, the catalog is unchanged and the next set is applied', async () => {
    enqueue('001', (d) => {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'product.csv'), 'id,title\n1,x\n');
    });
    enqueue('002', (d) => generation(d, 7, 44));
    await applied('002');
    const error = fs.readFileSync(path.join(spool, 'failed', '001', 'error.txt'), 'utf8');
    expect(error).to.equal(`bad input in ${path.join(spool, 'incoming', '001')}: product.csv: header is "id,title", expected "id,name,slogan,description,category,default_price"\nThe live catalog is unchanged.\n`);
    expect(await price(7)).to.equal('44.00');
    expect(await price(1)).to.equal('10.00');
  });

  it('when a set is still being written under a dot name, then it is not read until it is moved in', async () => {
    const staging = path.join(spool, 'incoming', '.001');
    generation(staging, 8, 55);
    enqueue('000', (d) => generation(d, 9, 66));
    await applied('000');
    expect(await price(8)).to.equal('10.00');
    expect(fs.existsSync(staging)).to.equal(true);
    fs.renameSync(staging, path.join(spool, 'incoming', '001'));
    await applied('001');
    expect(await price(8)).to.equal('55.00');
  });

  it('when its session is terminated in the middle of a set, then the set stays queued, is retried on a new session and applied once', async () => {
    enqueue('001', (d) => generation(d, 10, 12));
    await applied('001');
    const [first] = await feedPids();
    // Holds the overlay: the next set waits inside its transaction until its session is killed.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE catalog.doc_overlay IN EXCLUSIVE MODE');
    try {
      enqueue('002', (d) => generation(d, 10, 13));
      await eventually(
        async () => (await queryRows(db.url, "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [FEED_APPLICATION])).length === 1,
        20_000,
        'the set waiting inside its transaction',
      );
      await queryRows(db.url, 'SELECT pg_terminate_backend($1)', [first]);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await applied('002');
    expect(await price(10)).to.equal('13.00');
    expect(await feedPids()).to.have.length(1).and.not.include(first);
    expect(logs.some((l) => l.startsWith('002: the database is not reachable'))).to.equal(true);
    const versions = await queryRows(db.url, "SELECT count(*)::int FROM catalog.catalog_info WHERE kind = 'changes'");
    expect(versions).to.deep.equal([[2]]);
    expect(fs.existsSync(path.join(spool, 'failed', '002'))).to.equal(false);
  });

  it('when the command gets SIGTERM, then it stops with exit 0 and says how many sets it applied', async () => {
    stop.abort();
    await running;
    const own = fs.mkdtempSync(path.join(tmp, 'cli-'));
    const run = runTool('db/etl.ts', ['--changes-feed', own], { DATABASE_URL: db.url });
    let err = '';
    run.child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const staging = path.join(own, '.001');
    generation(staging, 11, 77);
    await eventually(() => err.includes('applying change sets as they arrive'), 30_000, 'the feed to start');
    fs.renameSync(staging, path.join(own, 'incoming', '001'));
    await eventually(() => fs.existsSync(path.join(own, 'applied', '001', 'summary.json')), 20_000, '001 applied');
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.done;
    expect(code).to.equal(0);
    expect(stdout).to.equal('change feed stopped: 1 change sets applied\n');
    expect(await price(11)).to.equal('77.00');
  });
});
