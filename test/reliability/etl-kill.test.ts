import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { FIXTURE } from '../support/fixture';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startServer, type ServerProcess } from '../support/server-process';
import { eventually } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');
const ETL = path.join(ROOT, 'dist', 'db', 'etl.js');
const GENERATE = path.join(ROOT, 'dist', 'db', 'generate.js');
const PRODUCTS = 20_000;

// Documents read through the service before the load (cached in the workers) …
const CACHED = ['/products/1', '/products/1/styles', '/products/2/related', '/products?page=1&count=5'];
// … and first asked for while the load runs or after it was killed (read from the database).
const UNCACHED = ['/products/2', '/products/5', '/products/5/styles', '/products/1/related', '/products?page=2&count=2'];

/** The live catalog's body for a route, read as the owner straight from the database. */
async function bodyInDatabase(client: pg.Client, route: string): Promise<string | undefined> {
  const page = /^\/products\?page=(\d+)&count=(\d+)$/.exec(route);
  if (page) {
    const [from, to] = [(Number(page[1]) - 1) * Number(page[2]), Number(page[1]) * Number(page[2])];
    const { rows } = await client.query<{ body: string }>(
      "SELECT '[' || coalesce(string_agg(body, ',' ORDER BY pos), '') || ']' AS body FROM catalog.product_list_doc WHERE pos > $1 AND pos <= $2",
      [from, to],
    );
    return rows[0]?.body;
  }
  const [, id, kind] = /^\/products\/(\d+)(?:\/(styles|related))?$/.exec(route)!;
  const { rows } = await client.query<{ body: string }>(`SELECT body FROM catalog.${kind ?? 'product'}_doc WHERE id = $1`, [Number(id)]);
  return rows[0]?.body;
}

interface EtlRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runEtl(dir: string, rejects: string, databaseUrl: string): EtlRun {
  const child = spawn(process.execPath, [ETL, '--dir', dir, '--rejects', rejects], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

/**
 * A catalog reload (npm run etl) is SIGKILLed while it copies rows, with the service running
 * on the same database: no cleanup code of the loader gets to run.
 */
describe('reliability: an ETL killed half-way while the service serves', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  let owner: pg.Client;
  let tmp: string;
  const etls: ChildProcess[] = [];
  let previous: Map<string, string | undefined>;

  before(async function () {
    if (!fs.existsSync(ETL) || !fs.existsSync(GENERATE)) throw new Error(`${ETL} or ${GENERATE} is missing: run npm run build first`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-etl-kill-'));
    await promisify(execFile)(process.execPath, [GENERATE, '--out', path.join(tmp, 'csv'), '--products', String(PRODUCTS), '--seed', '7']);
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    server = await startServer({ DATABASE_URL: db.url, WORKERS: '2', SHUTDOWN_TIMEOUT_MS: '3000', LOG_LEVEL: 'warn' });
    previous = new Map();
    for (const route of [...CACHED, ...UNCACHED]) previous.set(route, await bodyInDatabase(owner, route));
    for (const route of CACHED) expect(await (await fetch(server.url + route)).text(), route).to.equal(previous.get(route));
  });

  after(async () => {
    for (const child of etls) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await server?.stop();
    await owner?.end();
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const expectServedUnchanged = async (routes: readonly string[]): Promise<void> => {
    for (const route of routes) {
      // A fresh connection each time: the kernel spreads them over both workers.
      const res = await fetch(server!.url + route, { headers: { Connection: 'close' } });
      expect(res.status, route).to.equal(200);
      expect(await res.text(), route).to.equal(previous.get(route));
    }
  };

  it('when the loader is SIGKILLed while copying rows, then the live catalog is intact and served throughout', async () => {
    const run = runEtl(path.join(tmp, 'csv'), path.join(tmp, 'killed-rejects.csv'), db.url);
    etls.push(run.child);
    await eventually(
      async () => (await owner.query('SELECT count(*)::int AS n FROM pg_stat_progress_copy WHERE datname = $1', [db.name])).rows[0].n > 0,
      30_000,
      'the loader copies rows',
    );
    // Mid-load: the live catalog is still the one being served, cached or not.
    await expectServedUnchanged([...CACHED, UNCACHED[0]!]);
    run.child.kill('SIGKILL');
    expect(await run.exited).to.deep.equal({ code: null, signal: 'SIGKILL' });
    expect(run.output(), 'the load was still running when killed').to.not.match(/is live/);

    await expectServedUnchanged([...CACHED, ...UNCACHED]);
    expect((await fetch(`${server!.url}/readyz`)).status).to.equal(200);
    expect((await owner.query('SELECT version::int AS version FROM catalog.catalog_info')).rows).to.deep.equal([{ version: 1 }]);
    // Killed half-way: its partial catalog is left beside the live one (no cleanup ran), unseen.
    expect((await owner.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%' ORDER BY 1")).rows).to.deep.equal([
      { nspname: 'catalog' },
      { nspname: 'catalog_next' },
    ]);
  });

  it('when the load is run again, then it succeeds, the new catalog is live in the service and the partial one is gone', async () => {
    // PostgreSQL ends the killed loader's sessions (and its reload lock) once it sees the sockets close.
    await eventually(
      async () => (await owner.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'atelier-products etl%'")).rows[0].n === 0,
      10_000,
      'the killed loader has no session left',
    );
    const run = runEtl(path.join(tmp, 'csv'), path.join(tmp, 'rejects.csv'), db.url);
    etls.push(run.child);
    const { code } = await run.exited;
    expect(code, run.output()).to.equal(0);
    expect(run.output()).to.match(/catalog version 2 loaded/);
    expect((await owner.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%' ORDER BY 1")).rows).to.deep.equal([{ nspname: 'catalog' }]);
    expect(Number((await owner.query('SELECT count(*) AS n FROM catalog.product')).rows[0].n)).to.be.greaterThan(PRODUCTS * 0.99);

    // Workers cleared their caches on the swap's notification: every route, cached before or
    // not, now answers the new catalog's bytes, read by the service as its read-only role.
    const current = new Map<string, string | undefined>();
    for (const route of [...CACHED, ...UNCACHED, '/products/19999/styles']) current.set(route, await bodyInDatabase(owner, route));
    expect(current.get('/products/1'), 'the new catalog differs').to.not.equal(previous.get('/products/1'));
    await eventually(async () => {
      for (const [route, body] of current) {
        const res = await fetch(server!.url + route, { headers: { Connection: 'close' } });
        if (res.status !== 200 || (await res.text()) !== body) return false;
      }
      return true;
    }, 10_000, 'every worker serves the new catalog');
  });
});
