import { expect } from 'chai';
import pg from 'pg';
import { recordEtlSummary } from '../../../db/etl/summary';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';

describe("the ETL's per-file summary (writer, real PostgreSQL)", () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 1 });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('when a schema name carries SQL, then it stays one quoted name: PostgreSQL finds no such schema and nothing is run or written', async () => {
    await pool.query('CREATE TABLE public.x (id int)');
    const client = await pool.connect();
    try {
      let error: unknown;
      await recordEtlSummary(client, 'catalog; DROP TABLE x', []).catch((e: unknown) => (error = e));
      // 3F000 invalid_schema_name: the whole text was taken as a schema's name.
      expect((error as { code?: string } | undefined)?.code).to.equal('3F000');
      expect(String(error)).to.contain('schema "catalog; DROP TABLE x" does not exist');
    } finally {
      client.release();
    }
    const present = await pool.query<{ x: boolean; summary: boolean }>(
      "SELECT to_regclass('public.x') IS NOT NULL AS x, to_regclass('catalog.etl_load_summary') IS NOT NULL AS summary",
    );
    expect(present.rows).to.deep.equal([{ x: true, summary: false }]);
  });
});
