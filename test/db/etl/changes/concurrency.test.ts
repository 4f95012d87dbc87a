import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { applyChanges } from '../../../../db/etl/apply-changes';
import { EtlError } from '../../../../db/etl/errors';
import { reloadCatalog } from '../../../../db/etl/reload-catalog';
import { DOCUMENTS_STATEMENT } from '../../../../src/catalog/documents';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../support/postgres';
import { eventually, sleep } from '../../../support/wait';
import { catalogTables, generation, smallCatalog, writeExport } from './model';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const ETL = path.join(ROOT, 'dist', 'db', 'etl.js');

describe('Change sets: atomic, serialised, refused when stale', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let tmp: string;
  let n = 0;
  const dir = (): string => path.join(tmp, `set-${++n}`);
  const rejects = (): string => path.join(tmp, `rejects-${n}.csv`);
  const version = async (): Promise<number> => Number((await queryRows(db.url, 'SELECT max(version) FROM catalog.catalog_info'))[0]![0]);

  /** Product `id`'s product and styles documents, read by the service's batch statement (one snapshot). */
  async function readPair(client: pg.Client, id: number): Promise<{ price: string; style: string; quantity: number }> {
    const { rows } = await client.query<[string, string]>({ text: DOCUMENTS_STATEMENT, values: [[id], [id], []], rowMode: 'array' });
    const docs = new Map(rows);
    const product = JSON.parse(docs.get(`p${id}`)!) as { default_price: string };
    const styles = JSON.parse(docs.get(`s${id}`)!) as { results: Array<{ original_price: string; skus: Record<string, { quantity: number }> }> };
    const style = styles.results[0]!;
    return { price: product.default_price, style: style.original_price, quantity: style.skus[String(2 * id)]!.quantity };
  }

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-changes-cc-'));
    writeExport(path.join(tmp, 'base'), catalogTables(smallCatalog()));
  });
  beforeEach(async () => {
    db = await createTestDatabase();
    await reloadCatalog({ url: db.url, dir: path.join(tmp, 'base'), rejectsPath: path.join(tmp, 'r-base.csv') });
  });
  afterEach(async () => db.drop());
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('when readers read during change sets, then each read sees one generation in all of a product\'s documents', async () => {
    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    let stop = false;
    const seen = new Set<number>();
    const reads = (async () => {
      let count = 0;
      while (!stop) {
        const { price, style, quantity } = await readPair(reader, 7);
        const g = Number.parseFloat(price);
        expect([Number.parseFloat(style), quantity], `read ${count}`).to.deep.equal([g, g === 10 ? 1 : g]);
        seen.add(g);
        count++;
      }
      return count;
    })();
    try {
      for (let g = 2; g <= 6; g++) {
        // Commits 50 ms after the documents are rebuilt: readers meanwhile must still see g - 1.
        await applyChanges({ url: db.url, dir: generation(dir(), 7, g), rejectsPath: rejects(), beforeCommit: () => sleep(50) });
      }
    } finally {
      stop = true;
    }
    const count = await reads.finally(() => reader.end());
    expect(count).to.be.greaterThan(20);
    expect([...seen]).to.include.members([10, 6]);
  });

  it('when the change set\'s process is SIGKILLed inside its transaction, then the catalog is untouched', async function () {
    if (!fs.existsSync(ETL)) throw new Error(`${ETL} is missing: run npm run build first`);
    const v = await version();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const before = await readPair(client, 9);
    // Holds the overlay: the change set's transaction, rows already changed, waits here for it.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE catalog.doc_overlay IN EXCLUSIVE MODE');
    const child = spawn(process.execPath, [ETL, '--changes', generation(dir(), 9, 42), '--rejects', rejects()], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await eventually(
        async () =>
          (await queryRows(db.url, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'atelier-products etl changes' AND wait_event_type = 'Lock'")).length === 1,
        20_000,
        'the change set waiting inside its transaction',
      );
      child.kill('SIGKILL');
      await exited;
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await eventually(
      async () => (await queryRows(db.url, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'atelier-products etl changes'")).length === 0,
      10_000,
      'the killed change set\'s session to end',
    );
    expect(await version()).to.equal(v);
    expect(await readPair(client, 9)).to.deep.equal(before);
    expect(await queryRows(db.url, 'SELECT default_price::text FROM catalog.product WHERE id = 9')).to.deep.equal([['10.00']]);
    await client.end();
  });

  it('when two change sets start together, then one waits for the other and both are applied, in turn', async () => {
    const v = await version();
    const logs: string[] = [];
    const [a, b] = await Promise.all([
      applyChanges({ url: db.url, dir: generation(dir(), 11, 5), rejectsPath: rejects(), beforeCommit: () => sleep(300), log: (l) => logs.push(l) }),
      sleep(50).then(() => applyChanges({ url: db.url, dir: generation(dir(), 12, 6), rejectsPath: rejects(), log: (l) => logs.push(l) })),
    ]);
    expect(logs.some((l) => l.includes('waiting for it to finish'))).to.equal(true);
    expect([a.version, b.version].sort()).to.deep.equal([v + 1, v + 2]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    expect((await readPair(client, 11)).price).to.equal('5.00');
    expect((await readPair(client, 12)).price).to.equal('6.00');
    await client.end();
  });

  it('when a change set was prepared against another catalog version, then it is refused and nothing changes', async () => {
    const v = await version();
    let err: unknown;
    await applyChanges({ url: db.url, dir: generation(dir(), 13, 7), rejectsPath: rejects(), baseVersion: v - 1 }).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(EtlError);
    expect((err as Error).message).to.equal(`the change set was prepared against catalog version ${v - 1}, but version ${v} is live`);
    expect(await version()).to.equal(v);
    expect(await queryRows(db.url, 'SELECT default_price::text FROM catalog.product WHERE id = 13')).to.deep.equal([['10.00']]);
  });
});
