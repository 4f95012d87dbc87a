import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import { createPool } from '../../src/postgres/pool';
import { createReadRouter, type ReadRouter } from '../../src/postgres/replicas';
import { migrate } from '../../src/postgres/migrate';
import { catalogVersion, notifyCatalogChanged, refreshDocuments } from '../../src/postgres/live-catalog';
import { startLoad } from '../fleet/load';
import { fleetCatalog, fleetPath } from '../fleet/fixture';
import { pg15Available, startReplicationPair, type ReplicationPair } from '../deploy/pg-replication';
import { loadCatalog } from '../support/catalog';
import { startServer, type ServerProcess } from '../support/server-process';
import { requireTool } from '../support/binaries';
import { eventually } from '../support/wait';
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { applyChanges } from '../../db/etl/apply-changes';
import { writeExport } from '../db/etl/changes/model';

/** GET on a new connection each time, so the cluster hands requests to every worker in turn. */
function getFresh(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const PRODUCTS = 60;
const silentLogger = () => pino({ level: 'silent' });

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const pool = (url: string, name: string): pg.Pool =>
  createPool({ connectionString: url, max: 4, connectTimeoutMs: 2000, statementTimeoutMs: 5000, applicationName: name, log: silentLogger() });

// Which server answered: a standby says it is in recovery.
const IN_RECOVERY: pg.QueryArrayConfig = { text: 'SELECT pg_is_in_recovery()', rowMode: 'array' };

describe('read replicas (real PostgreSQL 15 streaming replication)', function () {
  this.timeout(60_000);
  let pair: ReplicationPair;
  let primaryUrl: string;
  let replicaUrl: string;

  before(async function () {
    requireTool(this, pg15Available() || undefined, 'PostgreSQL 15 server binaries (/usr/lib/postgresql/15/bin)', 'postgresql-15');
    pair = await startReplicationPair();
    await sql(pair.primary.url(), 'CREATE DATABASE atelier');
    primaryUrl = pair.primary.url('atelier');
    replicaUrl = pair.replica.url('atelier');
    const client = new pg.Client({ connectionString: primaryUrl });
    await client.connect();
    await migrate(client);
    await client.end();
    await loadCatalog(primaryUrl, fleetCatalog(PRODUCTS));
    await eventually(
      async () => (await sql(replicaUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', ['atelier']).catch(() => [])).length > 0 &&
        (await sql<{ n: number }>(replicaUrl, 'SELECT count(*)::int AS n FROM catalog.catalog_info').catch(() => [{ n: 0 }]))[0]!.n === 1,
      20_000,
      'the replica to replay the catalog',
    );
  });

  after(async () => {
    await pair?.destroy();
  });

  describe('the read router', () => {
    let primary: pg.Pool;
    let router: ReadRouter | undefined;
    afterEach(async () => {
      await router?.end();
      await primary?.end();
      router = undefined;
    });

    it('when replicas are up, then reads go to them in turn and never to the primary', async () => {
      primary = pool(primaryUrl, 'test primary');
      const targets: string[] = [];
      router = createReadRouter({
        primary,
        replicas: [{ name: 'a', pool: pool(replicaUrl, 'test a') }, { name: 'b', pool: pool(replicaUrl, 'test b') }],
        log: silentLogger(),
        onRead: (t) => targets.push(t),
      });
      await router.ready(10_000);
      expect(router.behind()).to.deep.equal([]);
      for (let i = 0; i < 6; i++) expect((await router.query<[boolean]>(IN_RECOVERY)).rows[0]![0]).to.equal(true);
      expect(targets).to.deep.equal(['a', 'b', 'a', 'b', 'a', 'b']);
    });

    it('when a replica is stopped, then reads fall back to the primary, and return to the replica once it is back', async () => {
      primary = pool(primaryUrl, 'test primary');
      const targets: string[] = [];
      router = createReadRouter({ primary, replicas: [{ name: 'r', pool: pool(replicaUrl, 'test r') }], log: silentLogger(), downForMs: 300, onRead: (t) => targets.push(t) });
      await router.ready(10_000);
      expect((await router.query<[boolean]>(IN_RECOVERY)).rows[0]![0]).to.equal(true);
      await pair.replica.stop();
      try {
        expect((await router.query<[boolean]>(IN_RECOVERY)).rows[0]![0], 'answered by the primary').to.equal(false);
        expect(router.down()).to.deep.equal(['r']);
        expect((await router.query<[boolean]>(IN_RECOVERY)).rows[0]![0]).to.equal(false);
      } finally {
        await pair.replica.start();
      }
      await eventually(async () => (await router!.query<[boolean]>(IN_RECOVERY)).rows[0]![0] === true, 10_000, 'reads to return to the replica');
      expect(targets.slice(0, 3)).to.deep.equal(['r', 'primary', 'primary']);
      expect(router.down()).to.deep.equal([]);
    });

    it('when the catalog changes, then the replica is not read from until it has replayed the change', async () => {
      primary = pool(primaryUrl, 'test primary');
      router = createReadRouter({ primary, replicas: [{ name: 'r', pool: pool(replicaUrl, 'test r') }], log: silentLogger() });
      await router.ready(10_000);
      expect((await router.query<[boolean]>(IN_RECOVERY)).rows[0]![0], 'the replica answers before the change').to.equal(true);
      await sql(replicaUrl, 'SELECT pg_wal_replay_pause()');
      try {
        await sql(primaryUrl, 'CREATE TABLE public.change_marker (id int)');
        await router.changed();
        // Longer than one check's wait and its recheck: the replica stays out all along.
        const until = Date.now() + 2500;
        while (Date.now() < until) {
          expect((await router.query<[boolean]>(IN_RECOVERY)).rows[0]![0], 'answered by the primary while replay is paused').to.equal(false);
          await sleep(100);
        }
        expect(router.behind()).to.deep.equal(['r']);
        await sql(replicaUrl, 'SELECT pg_wal_replay_resume()');
        await eventually(async () => (await router!.query<[boolean]>(IN_RECOVERY)).rows[0]![0] === true, 10_000, 'reads to return to the replica');
        expect(await sql(replicaUrl, "SELECT 1 FROM pg_class WHERE relname = 'change_marker'")).to.have.length(1);
      } finally {
        await sql(replicaUrl, 'SELECT pg_wal_replay_resume()').catch(() => undefined);
      }
    });
  });

  describe('the service with DATABASE_REPLICA_URLS', () => {
    let service: ServerProcess | undefined;
    after(async () => {
      await service?.stop();
      await pair.replica.start().catch(() => undefined);
    });

    // Waits until the replica has replayed everything the primary has written so far.
    const replayedPrimary = async (): Promise<void> => {
      const [{ lsn }] = (await sql<{ lsn: string }>(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
      await eventually(
        async () => (await sql<{ ok: boolean }>(replicaUrl, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn]).catch(() => [{ ok: false }]))[0]!.ok,
        20_000,
        'the replica to replay the primary',
      );
    };

    // A catalog change as a reload makes one: rows, documents, a new version, the notice, one transaction.
    const renameOnPrimary = async (suffix: string): Promise<void> => {
      const client = new pg.Client({ connectionString: primaryUrl });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query('UPDATE catalog.product SET name = name || $1', [suffix]);
        // CONCURRENTLY, as a live refresh does: no AccessExclusiveLock for the standby to replay early.
        await refreshDocuments(client, { concurrently: true });
        const version = (await catalogVersion(client)) + 1;
        await client.query('INSERT INTO catalog.catalog_info (version, source) VALUES ($1, $2)', [version, 'test change']);
        await notifyCatalogChanged(client, String(version));
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    };

    // Pool connections of the service's workers on a server (by application_name) that read documents.
    const workerConnections = async (url: string, replica: boolean): Promise<number> =>
      (
        await sql<{ n: number }>(
          url,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'atelier'
             AND application_name LIKE 'atelier-products worker %' AND (application_name LIKE '% replica %') = $1
             AND query ~ '_doc\\M'`,
          [replica],
        )
      )[0]!.n;

    it('when the replica is stopped mid-load, then documents are read from the primary without a single error', async () => {
      service = await startServer({
        DATABASE_URL: primaryUrl,
        DATABASE_REPLICA_URLS: replicaUrl,
        WORKERS: '1',
        LOG_LEVEL: 'warn',
        // A 1 KiB cache holds almost nothing: nearly every request reads the database.
        CACHE_MAX_BYTES: '1024',
      });
      const load = startLoad({ url: service.url, path: fleetPath(PRODUCTS), concurrency: 8 });
      await sleep(1000);
      const beforeStop = load.snapshot();
      const replicaConnections = await workerConnections(replicaUrl, true);
      const primaryConnectionsBefore = await workerConnections(primaryUrl, false);
      await pair.replica.stop();
      await sleep(2000);
      const result = await load.stop();
      console.log(`      replica stopped after ${beforeStop.total} requests: ${JSON.stringify(result)}`);

      expect(replicaConnections, 'reads went to the replica while it was up').to.be.greaterThan(0);
      expect(primaryConnectionsBefore, 'no document read on the primary while the replica was up').to.equal(0);
      expect(await workerConnections(primaryUrl, false), 'documents read from the primary after the stop').to.be.greaterThan(0);
      expect(result.total - beforeStop.total, 'requests after the stop').to.be.greaterThan(100);
      expect(result.timedOut).to.equal(0);
      expect(result.failed, JSON.stringify(result.reasons)).to.equal(0);
    });

    it('when the replica comes back behind a catalog change, then no old document is served after the change was announced', async () => {
      await service?.stop();
      service = undefined;
      await pair.replica.stop();
      await pair.replica.start();
      await replayedPrimary();
      service = await startServer({ DATABASE_URL: primaryUrl, DATABASE_REPLICA_URLS: replicaUrl, WORKERS: '1', CACHE_MAX_BYTES: '1024' });
      const running = service;
      const name = async (id: number): Promise<string> => ((await (await fetch(`${running.url}/products/${id}`)).json()) as { name: string }).name;
      expect(await name(1)).to.equal('Product 1');

      await pair.replica.stop();
      await renameOnPrimary(' renamed');
      await eventually(async () => (await name(1)) === 'Product 1 renamed', 10_000, 'the change to be served');
      // Back, but applying nothing committed in the last hour: it still holds the old document.
      await pair.replica.start({ recovery_min_apply_delay: '1h' });
      expect((await sql<{ name: string }>(replicaUrl, 'SELECT name FROM catalog.product WHERE id = 1'))[0]!.name).to.equal('Product 1');
      // Past the 5 s a failed replica is skipped, and past a check and its recheck. Every
      // product in turn: the 1 KiB cache holds about one, so nearly every request is a read.
      const old: string[] = [];
      let requests = 0;
      for (const until = Date.now() + 8000; Date.now() < until; requests++) {
        const n = await name((requests % PRODUCTS) + 1);
        if (!n.endsWith(' renamed')) old.push(n);
      }
      console.log(`      ${requests} requests while the replica was back and behind: ${old.length} old documents`);
      expect(old, `old documents among ${requests} requests`).to.deep.equal([]);
      expect(running.output()).to.match(/replica behind the primary: reading elsewhere until it replays/);

      // Restarted without the delay it replays the change, and takes the reads again.
      await pair.replica.stop();
      await pair.replica.start();
      // Checks ride on reads: keep asking.
      await eventually(async () => (await name(1)) === 'Product 1 renamed' && /replica caught up: reading from it again/.test(running.output()), 15_000, 'the replica to be read again');
      await eventually(async () => (await name(2)) === 'Product 2 renamed' && (await workerConnections(replicaUrl, true)) > 0, 10_000, 'documents read on the replica');
    });

    it('when a change set is applied on the primary, then every worker drops its key once the replica replayed it, and serves the new document from then on', async () => {
      await service?.stop();
      service = undefined;
      await replayedPrimary();
      service = await startServer({ DATABASE_URL: primaryUrl, DATABASE_REPLICA_URLS: replicaUrl, WORKERS: '2' });
      const running = service;
      // Sku 3 belongs to style 3, of product 2.
      const quantity = async (): Promise<number> => {
        const doc = JSON.parse((await getFresh(`${running.url}/products/2/styles`)).body) as { results: Array<{ skus: Record<string, { quantity: number }> }> };
        return doc.results[0]!.skus['3']!.quantity;
      };
      for (let i = 0; i < 6; i++) expect(await quantity()).to.equal(3);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-replica-changes-'));
      try {
        writeExport(dir, { skus: [{ id: 3, styleId: 3, size: 'S', quantity: 99 }] });
        const applied = await applyChanges({ url: primaryUrl, dir, rejectsPath: path.join(dir, 'rejects.csv') });
        expect(applied.keys).to.deep.equal(['s2']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      await eventually(async () => (await quantity()) === 99, 5_000, 'the change to be served');
      // From the first new answer on, never the old one again, from either worker.
      const answers: number[] = [];
      for (let i = 0; i < 40; i++) answers.push(await quantity());
      expect(answers.filter((q) => q !== 99)).to.deep.equal([]);
      await eventually(() => (running.output().match(/catalog change set: documents dropped/g) ?? []).length === 2, 5_000, 'both workers to drop the key');
      expect(await workerConnections(replicaUrl, true), 'documents still read on the replica').to.be.greaterThan(0);
    });
  });
});
