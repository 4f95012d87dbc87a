import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { migrate, migrationFiles } from '../../src/postgres/migrate';
import { dbDir } from '../../src/project-paths';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { EXPECTED, FIXTURE } from '../support/fixture';

/** Applies the migrations before `stop` the way migrate() records them: a catalog as an older release left it. */
async function migrateUntil(url: string, stop: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE public.schema_migrations (schema_name text, name text, applied_at timestamptz DEFAULT now(), PRIMARY KEY (schema_name, name))`);
    await client.query('CREATE SCHEMA catalog');
    for (const file of migrationFiles().filter((f) => f < stop)) {
      await client.query('SET search_path TO catalog');
      await client.query(fs.readFileSync(path.join(dbDir(), 'migrations', file), 'utf8'));
      await client.query("INSERT INTO public.schema_migrations (schema_name, name) VALUES ('catalog', $1)", [file]);
    }
  } finally {
    await client.end();
  }
}

describe('migrations (real PostgreSQL)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  after(async () => db?.drop());

  it('when a live catalog built before campus existed is migrated, then its documents carry the default campus, the rest unchanged', async () => {
    await migrateUntil(db.url, '005_campus.sql');
    await loadCatalog(db.url, FIXTURE);
    const before = await queryRows(db.url, 'SELECT body FROM catalog.product_doc WHERE id = 1');
    expect(JSON.parse(before[0]![0] as string)).to.not.have.property('campus');

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await migrate(client)).applied).to.deep.equal(['005_campus.sql', '006_live_changes.sql', '007_room_for_updates.sql', '008_load_keys.sql', '009_refresh_versions.sql']);
    } finally {
      await client.end();
    }
    expect(await queryRows(db.url, 'SELECT body FROM catalog.product_doc WHERE id = 1')).to.deep.equal([[JSON.stringify(EXPECTED.product1)]]);
    const list = await queryRows(db.url, 'SELECT body FROM catalog.product_list_doc ORDER BY pos');
    expect(list.map((row) => row[0])).to.deep.equal(EXPECTED.list.map((item) => JSON.stringify(item)));
    expect(await queryRows(db.url, 'SELECT body FROM catalog.styles_doc WHERE id = 1')).to.deep.equal([[JSON.stringify(EXPECTED.styles1)]]);
  });

  it('when someone writes a campus the ETL would refuse, then PostgreSQL refuses it too', async () => {
    for (const bad of ['', 'x'.repeat(65), 'hr rfp', 'hr\u0007rfp']) {
      let caught: unknown;
      try {
        await queryRows(db.url, 'UPDATE catalog.catalog_campus SET campus = $1', [bad]);
      } catch (err) {
        caught = err;
      }
      expect((caught as { code?: string } | undefined)?.code, JSON.stringify(bad)).to.equal('23514');
    }
    // One row only: a second one is a duplicate primary key.
    let second: unknown;
    try {
      await queryRows(db.url, "INSERT INTO catalog.catalog_campus (campus) VALUES ('hr-two')");
    } catch (err) {
      second = err;
    }
    expect((second as { code?: string } | undefined)?.code).to.equal('23505');
  });
});
