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

  it('when a schema name is not a plain identifier, then nothing is written', async () => {
    const client = await pool.connect();
    try {
      let error: unknown;
      await recordEtlSummary(client, 'catalog; DROP TABLE x', []).catch((e: unknown) => (error = e));
      expect(String(error)).to.contain('not a plain schema name');
    } finally {
      client.release();
    }
  });
});
