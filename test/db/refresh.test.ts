import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { reloadCatalog } from '../../db/etl/reload-catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { eventually } from '../support/wait';
import { startCatalogService, type CatalogService } from './support/catalog-service';
import { runTool, type ToolRun } from './support/run-tool';
import { FIXTURE_DIR } from './etl/fixture';

describe('npm run db:refresh', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let tmp: string;
  let service: CatalogService;
  let reader: pg.Client;
  let run: ToolRun | undefined;

  before(async () => {
    db = await createTestDatabase();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-refresh-'));
    await reloadCatalog({ url: db.url, dir: FIXTURE_DIR, rejectsPath: path.join(tmp, 'rejects.csv') });
    service = await startCatalogService(db.url);
    reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
  });

  after(async () => {
    if (run?.child.exitCode === null) run.child.kill('SIGKILL');
    await reader?.end();
    await service?.close();
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when a reader holds the views open, then the refresh still completes, the documents change and workers are told', async () => {
    const before = await service.get('/products/1');
    expect(JSON.parse(before.body)).to.include({ name: 'Camo Onesie' });
    await reader.query("UPDATE catalog.product SET name = 'Camo Onesie II' WHERE id = 1");

    // An open transaction that has read every view holds their AccessShare locks: a plain
    // REFRESH would wait for it forever, a concurrent one does not.
    await reader.query('BEGIN');
    for (const view of ['product_doc', 'product_list_doc', 'styles_doc', 'related_doc']) {
      await reader.query(`SELECT count(*) FROM catalog.${view}`);
    }
    run = runTool('db/refresh.ts', [], { DATABASE_URL: db.url });
    const { code, stdout, stderr } = await run.done;
    await reader.query('COMMIT');
    expect(code, stderr).to.equal(0);
    for (const view of ['product_doc', 'product_list_doc', 'styles_doc', 'related_doc']) {
      expect(stdout).to.match(new RegExp(`${view} refreshed concurrently in \\d+s`));
    }
    expect(stdout).to.include('catalog version 2: document caches told to clear');
    // A version of its own, so a worker that missed the notice sees the catalog changed.
    expect((await reader.query('SELECT kind FROM catalog.catalog_info WHERE version = 2')).rows).to.deep.equal([{ kind: 'refresh' }]);

    await eventually(() => service.notices.includes('2'), 10_000, 'the worker got the notice');
    expect(JSON.parse((await service.get('/products/1')).body)).to.include({ name: 'Camo Onesie II' });
  });
});
