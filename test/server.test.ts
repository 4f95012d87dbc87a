import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { workerHeapFlags } from '../src/catalog/memory';
import { migrationFiles } from '../src/postgres/migrate';
import { loadCatalog } from './support/catalog';
import { createTestDatabase, type TestDatabase } from './support/postgres';
import { startServer, type ServerProcess } from './support/server-process';
import { eventually } from './support/wait';
import { FIXTURE } from './support/fixture';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An uncommitted non-concurrent refresh holds an exclusive lock on the styles view, so a styles
 * read started after this waits on it until `release()`.
 */
async function blockStylesReads(url: string) {
  const blocker = new pg.Client({ connectionString: url });
  blocker.on('error', () => undefined);
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query('REFRESH MATERIALIZED VIEW catalog.styles_doc');
  return {
    /** Resolves once one read waits on the lock. */
    async waiting(): Promise<void> {
      // Watched from another session: inside the blocker's transaction the activity view is a snapshot.
      const watcher = new pg.Client({ connectionString: url });
      await watcher.connect();
      try {
        await eventually(async () => {
          const { rows } = await watcher.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
          return rows[0].n === 1;
        }, 5_000, 'the request to wait on the lock');
      } finally {
        await watcher.end();
      }
    },
    async release(): Promise<void> {
      await blocker.query('COMMIT');
      await blocker.end();
    },
  };
}

describe('the clustered service as a real process', function () {
  this.timeout(60_000);
  const running: ServerProcess[] = [];
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
    await Promise.all(dbs.splice(0).map((d) => d.drop()));
  });

  it('when settings are invalid, then it refuses to start with one message naming every bad key', () => {
    const res = spawnSync(process.execPath, [path.resolve(__dirname, '../dist/src/server.js')], {
      env: { PATH: process.env.PATH ?? '', PORT: 'abc', WORKERS: '0', CACHE_MAX_BYTES: 'lots' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(res.status).to.equal(1);
    const lines = res.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    for (const key of ['PORT', 'WORKERS', 'CACHE_MAX_BYTES']) expect(lines[0]).to.contain(key);
  });

  it('when DATABASE_URL names an empty database, then it migrates it, is unready until a catalog loads, then serves', async () => {
    const db = await createTestDatabase({ migrate: false });
    dbs.push(db);
    const server = await startServer({ DATABASE_URL: db.url, WORKERS: '2' });
    running.push(server);
    expect((await fetch(`${server.url}/readyz`)).status).to.equal(503);
    expect((await fetch(`${server.url}/products/1`)).status).to.equal(404);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query('SELECT name FROM public.schema_migrations ORDER BY name');
    await client.end();
    // Every numbered migration, starting with the three that build tables, helpers and documents.
    expect(migrationFiles().slice(0, 3)).to.deep.equal(['001_catalog_tables.sql', '002_json_helpers.sql', '003_documents.sql']);
    expect(rows.map((r: { name: string }) => r.name)).to.deep.equal(migrationFiles());

    await loadCatalog(db.url, FIXTURE);
    expect((await fetch(`${server.url}/readyz`)).status).to.equal(200);
    const styles = await fetch(`${server.url}/products/1/styles`);
    expect(styles.status).to.equal(200);
    expect(((await styles.json()) as { product_id: string }).product_id).to.equal('1');

    // Least privilege: the workers' connections use the read-only role, not the owner.
    const watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
    const { rows: sessions } = await watcher.query(
      "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'atelier-products worker%'",
    );
    await watcher.end();
    expect(sessions.map((r: { usename: string }) => r.usename)).to.deep.equal(['atelier_reader']);
  });

  it('when a worker is killed, then the primary replaces it, with the same heap limit, and the service keeps answering', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    await loadCatalog(db.url, FIXTURE);
    const cacheMaxBytes = 64 * 2 ** 20;
    const server = await startServer({ DATABASE_URL: db.url, WORKERS: '2', CACHE_MAX_BYTES: String(cacheMaxBytes) });
    running.push(server);
    await eventually(() => server.workerPids().length === 2, 10_000, 'two workers');
    const heapFlags = (pid: number): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg.startsWith('--max-'));
    for (const pid of server.workerPids()) expect(heapFlags(pid)).to.deep.equal(['--max-semi-space-size=8', '--max-old-space-size=88']);
    const [victim, survivor] = server.workerPids() as [number, number];
    process.kill(victim, 'SIGKILL');
    await eventually(() => {
      const pids = server.workerPids();
      return pids.length === 2 && !pids.includes(victim) && pids.includes(survivor);
    }, 5_000, 'a replacement worker');
    for (const pid of server.workerPids()) expect(heapFlags(pid)).to.deep.equal(workerHeapFlags(cacheMaxBytes));
    for (let i = 0; i < 20; i++) expect((await fetch(`${server.url}/products/1`)).status).to.equal(200);
    await eventually(() => /worker died: replacing it/.test(server.output()), 3_000, 'the death to be logged');
  });

  it('when SIGTERM arrives during a request, then the request completes, new connections are refused and it exits 0', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    await loadCatalog(db.url, FIXTURE);
    const server = await startServer({ DATABASE_URL: db.url, WORKERS: '1' });
    running.push(server);

    const blocker = await blockStylesReads(db.url);
    const inFlight = fetch(`${server.url}/products/1/styles`);
    await blocker.waiting();

    const t0 = Date.now();
    server.child.kill('SIGTERM');
    await eventually(async () => {
      try {
        await fetch(`${server.url}/healthz`);
        return false;
      } catch {
        return true;
      }
    }, 5_000, 'the listener to close');
    await blocker.release();

    const res = await inFlight;
    expect(res.status, server.output()).to.equal(200);
    expect(((await res.json()) as { product_id: string }).product_id).to.equal('1');
    const { code } = await server.exited;
    expect(code).to.equal(0);
    expect(Date.now() - t0).to.be.below(10_000);
  });

  it('when a request outlives SHUTDOWN_TIMEOUT_MS, then its worker is cut off but still closes its pool and reports before the primary would kill it', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    await loadCatalog(db.url, FIXTURE);
    const server = await startServer({ DATABASE_URL: db.url, WORKERS: '1', SHUTDOWN_TIMEOUT_MS: '300' });
    running.push(server);
    const blocker = await blockStylesReads(db.url);
    const inFlight = fetch(`${server.url}/products/1/styles`).catch((err: unknown) => err);
    await blocker.waiting();

    server.child.kill('SIGTERM');
    // The connection is force-closed at 300 ms; the worker's pool then waits for the blocked read.
    await sleep(800);
    await blocker.release();
    expect(await inFlight).to.be.instanceOf(Error);
    const { code } = await server.exited;
    expect(code, server.output()).to.equal(0);
    expect(server.output()).to.include('worker stopped');
    expect(server.output()).to.not.include('did not drain in time');
  });
});
