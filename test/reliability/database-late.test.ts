import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/postgres/embedded-server';
import { READER_ROLE } from '../../src/postgres/roles';
import { FIXTURE } from '../support/fixture';
import { loadCatalog } from '../support/catalog';
import { freePort, queryRows } from '../support/postgres';
import { startServer, type ServerProcess } from '../support/server-process';
import { eventually } from '../support/wait';
import { childPids } from './observe';
import { setTimeout as sleep } from 'node:timers/promises';

async function expectUnavailable(url: string, expected: string): Promise<void> {
  const res = await fetch(url);
  expect(res.status, url).to.equal(503);
  expect(res.headers.get('retry-after'), url).to.equal('1');
  expect(res.headers.get('content-type'), url).to.equal('application/json; charset=utf-8');
  expect(await res.json(), url).to.deep.equal({ error: expected });
}

/**
 * The service starts while nothing listens on DATABASE_URL's port. Its primary keeps retrying
 * preparation (migrate, provision the reader role) every 2 s; the workers were forked up
 * front with the reader role's derived credentials, before that role existed.
 */
describe('reliability: the database is down when the service starts', function () {
  this.timeout(90_000);
  let dir: string;
  let pgPort: number;
  let ownerUrl: string;
  let embedded: EmbeddedPostgres | undefined;
  let server: ServerProcess | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-pg-late-'));
    fs.chmodSync(dir, 0o755);
    pgPort = await freePort();
    // Created once and stopped, only to learn the generated owner password for DATABASE_URL.
    const init = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort, database: 'atelier' });
    ownerUrl = init.url;
    await init.stop();
  });

  after(async () => {
    await server?.stop();
    await embedded?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when nothing listens on the database port, then it starts, /readyz and documents answer 503 JSON with Retry-After', async () => {
    server = await startServer({ DATABASE_URL: ownerUrl, WORKERS: '2', PG_CONNECT_TIMEOUT_MS: '1000', SHUTDOWN_TIMEOUT_MS: '3000' });
    await eventually(async () => (await childPids(server!.child.pid!)).length === 2, 10_000, 'two workers');
    expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
    await expectUnavailable(`${server.url}/readyz`, 'Not ready');
    for (const p of ['/products/1', '/products/1/styles', '/products/1/related', '/products?page=1&count=5']) {
      await expectUnavailable(server.url + p, 'Service temporarily unavailable');
    }
    // Logs are flushed at least once a second.
    await eventually(() => /database unreachable: serving 503 until it answers/.test(server!.output()), 5_000, 'the outage is logged');
  });

  it('when the database arrives, then the primary migrates it and provisions the reader, and the workers serve a loaded catalog as that reader', async () => {
    const service = server!;
    const workers = await childPids(service.child.pid!);
    const arrivedAt = Date.now();
    // Asked throughout the arrival: before the primary has migrated and provisioned the reader,
    // the workers' connections are refused or rejected (no such role yet): still a 503, never a 500.
    const statuses = new Map<number, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const res = await fetch(`${service.url}/products/3`).catch(() => undefined);
        if (res) statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        await res?.arrayBuffer();
        await sleep(10);
      }
    })();
    try {
      embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort, database: 'atelier' });
      // The primary's retry loop (every 2 s) migrates, then creates the reader role.
      await eventually(
        async () => (await queryRows(ownerUrl, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AND to_regclass('catalog.catalog_info') IS NOT NULL", [READER_ROLE]))[0]?.[0] === true,
        15_000,
        'the service has migrated the database and provisioned the reader',
      );
    } finally {
      watching = false;
      await watcher;
    }
    const preparedAt = Date.now();
    console.log(`      statuses while the database arrived: ${JSON.stringify(Object.fromEntries(statuses))}`);
    // 404: migrated, reader provisioned, catalog still empty (the contract's answer then).
    expect([...statuses.keys()].every((s) => s === 503 || s === 404), JSON.stringify(Object.fromEntries(statuses))).to.equal(true);
    await loadCatalog(ownerUrl, FIXTURE);
    await eventually(async () => (await fetch(`${service.url}/readyz`)).status === 200, 15_000, '/readyz answers 200');
    console.log(`      prepared ${preparedAt - arrivedAt} ms after the database arrived; ready ${Date.now() - arrivedAt} ms after`);

    // Fresh connections, so the kernel spreads them over the workers. Not product 3: the watcher
    // may have left a cached 404 for it (10 s), answered while the catalog was still empty.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${service.url}/products/${i % 2 === 0 ? 1 : 2}`, { headers: { Connection: 'close' } });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { id: number }).id).to.equal(i % 2 === 0 ? 1 : 2);
    }
    expect((await fetch(`${service.url}/products/1/styles`)).status).to.equal(200);
    // The workers read as the read-only role whose credentials they were given before it existed.
    const users = await queryRows(
      ownerUrl,
      "SELECT array_agg(DISTINCT usename::text) FROM pg_stat_activity WHERE application_name LIKE 'atelier-products worker%'",
    );
    expect(users).to.deep.equal([[[READER_ROLE]]]);
    // Recovered in place: same workers, none restarted.
    expect(await childPids(service.child.pid!)).to.have.members(workers);
    expect(service.output()).to.not.match(/worker died/);
  });
});

/**
 * As above, but the owner turns out, once the database answers, to lack CREATEROLE: the workers
 * forked up front with the reader's derived credentials must not keep failing to log in.
 */
describe('reliability: the database is down at start and its owner may not create roles', function () {
  this.timeout(90_000);
  const OWNER = 'atelier_plain_owner';
  let dir: string;
  let pgPort: number;
  let ownerUrl: string;
  let embedded: EmbeddedPostgres | undefined;
  let server: ServerProcess | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-pg-late-owner-'));
    fs.chmodSync(dir, 0o755);
    pgPort = await freePort();
    const init = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort, database: 'postgres' });
    await queryRows(init.url, `CREATE ROLE ${OWNER} LOGIN NOCREATEROLE PASSWORD 'plain-owner-pw'`);
    await queryRows(init.url, `CREATE DATABASE shop OWNER ${OWNER}`);
    await init.stop();
    ownerUrl = `postgres://${OWNER}:plain-owner-pw@127.0.0.1:${pgPort}/shop`;
  });

  after(async () => {
    await server?.stop();
    await embedded?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the database arrives, then the workers are replaced by ones that connect as the owner and serve documents', async () => {
    server = await startServer({ DATABASE_URL: ownerUrl, WORKERS: '2', PG_CONNECT_TIMEOUT_MS: '1000', SHUTDOWN_TIMEOUT_MS: '3000' });
    const service = server;
    await eventually(async () => (await childPids(service.child.pid!)).length === 2, 10_000, 'two workers');
    const first = await childPids(service.child.pid!);
    await expectUnavailable(`${service.url}/products/1`, 'Service temporarily unavailable');

    embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort, database: 'postgres' });
    // Said once preparation is over (migrations applied, the reader refused): only then load.
    await eventually(() => /may not create roles: workers connect as the owner/.test(service.output()), 15_000, 'the service to prepare the database');
    await loadCatalog(ownerUrl, FIXTURE);
    await eventually(() => /workers replaced/.test(service.output()), 15_000, 'the workers to be replaced');
    // Every worker, not only one: fresh connections are spread over both by the kernel.
    for (let i = 0; i < 20; i++) {
      expect((await fetch(`${service.url}/products/${(i % 2) + 1}`, { headers: { Connection: 'close' } })).status).to.equal(200);
    }
    const users = await queryRows(
      ownerUrl,
      "SELECT array_agg(DISTINCT usename::text) FROM pg_stat_activity WHERE application_name LIKE 'atelier-products worker%'",
    );
    expect(users).to.deep.equal([[[OWNER]]]);
    expect(service.output()).to.match(/wrong database credentials while the database was down: replacing them/);
    const now = await childPids(service.child.pid!);
    expect(now).to.have.length(2);
    expect(now.filter((pid) => first.includes(pid)), 'the first workers are gone').to.deep.equal([]);
    expect(service.output()).to.not.match(/worker died/);
  });
});
