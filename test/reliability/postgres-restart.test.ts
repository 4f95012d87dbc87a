import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/postgres/embedded-server';
import { fleetCatalog } from '../fleet/fixture';
import { loadCatalog } from '../support/catalog';
import { freePort } from '../support/postgres';
import { startServer, type ServerProcess } from '../support/server-process';
import { eventually, sleep } from '../support/wait';
import { childPids, serviceSessions } from './observe';
import { startRecorder, statusCounts, type Recorder, type Sample } from './recorder';

const PRODUCTS = 3000;
// Ids the load asks for repeatedly: cached in every worker before the outage.
const HOT = 20;
// Ids the load never asks for: uncached proof of recovery after the restart.
const PROBE_FROM = 2901;
const WORKERS = 2;
const POOL_MAX = 4;

/** Half the requests hit cached documents, half walk through documents never asked for before. */
function outagePath(n: number): string {
  if (n % 2 === 0) return `/products/${((n / 2) % HOT) + 1}`;
  const k = (n - 1) / 2;
  const id = HOT + 1 + (Math.floor(k / 3) % (PROBE_FROM - HOT - 1));
  return `/products/${id}${['', '/styles', '/related'][k % 3]}`;
}
const isHot = (s: Sample): boolean => /^\/products\/\d+$/.test(s.path) && Number(s.path.slice(10)) <= HOT;

/**
 * The service's own PostgreSQL (not the shared test server) is stopped and started again
 * under load. The service is never restarted.
 */
describe('reliability: PostgreSQL restarted under load', function () {
  this.timeout(90_000);
  let dir: string;
  let pgPort: number;
  let embedded: EmbeddedPostgres | undefined;
  let server: ServerProcess | undefined;
  const loads: Recorder[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-pg-restart-'));
    // The server runs as the unprivileged postgres user when tests run as root.
    fs.chmodSync(dir, 0o755);
    pgPort = await freePort();
    embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort, database: 'atelier' });
    server = await startServer({
      DATABASE_URL: embedded.url,
      WORKERS: String(WORKERS),
      PG_POOL_MAX: String(POOL_MAX),
      // 1 s: a request waiting for a connection during the outage gets its 503 sooner.
      PG_CONNECT_TIMEOUT_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '3000',
      LOG_LEVEL: 'warn',
    });
    await loadCatalog(embedded.url, fleetCatalog(PRODUCTS));
    await eventually(async () => (await fetch(`${server!.url}/readyz`)).status === 200, 15_000, 'the service is ready');
  });

  after(async () => {
    // A failed assertion mid-test must not leave the load running.
    await Promise.all(loads.map((l) => l.stop()));
    await server?.stop();
    await embedded?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when PostgreSQL stops and starts again, then only 503 JSON with Retry-After or cached 200s during the gap, full recovery after, and no leaked sessions', async () => {
    const service = server!;
    // Every worker opens its connections and caches the hot documents.
    const warm = startRecorder({ url: service.url, path: outagePath, concurrency: 8 });
    loads.push(warm);
    await sleep(1000);
    expect(statusCounts(await warm.stop())).to.have.keys('200');
    const before = await serviceSessions(embedded!.url);
    const workerPids = await childPids(service.child.pid!);

    const load = startRecorder({ url: service.url, path: outagePath, concurrency: 8, requestTimeoutMs: 15_000 });
    loads.push(load);
    await sleep(1000);
    const downAt = Date.now();
    await embedded!.stop();
    const stoppedAt = Date.now();
    await sleep(1500);
    const restartAt = Date.now();
    embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort, database: 'atelier' });
    const upAt = Date.now();

    // Recovery: documents nobody asked for yet (uncached in every worker) are served again.
    let probe = PROBE_FROM;
    await eventually(async () => (await fetch(`${service.url}/products/${probe++}`)).status === 200, 10_000, 'an uncached document is served again');
    const recoveredAt = Date.now();
    await sleep(1500);
    const samples = await load.stop();

    const unavailable = samples.filter((s) => s.status === 503);
    const lastFailure = Math.max(...unavailable.map((s) => s.doneAt));
    console.log(
      `      PostgreSQL stopped in ${stoppedAt - downAt} ms, down ${restartAt - stoppedAt} ms, started in ${upAt - restartAt} ms; ` +
        `uncached documents served again ${recoveredAt - upAt} ms after it was up; last 503 ${lastFailure - upAt} ms after it was up; ` +
        `${samples.length} requests ${JSON.stringify(statusCounts(samples))}`,
    );

    expect(statusCounts(samples), 'statuses').to.have.keys('200', '503');
    for (const s of unavailable) {
      expect(s.doneAt, `${s.path} answered 503 before the outage`).to.be.at.least(downAt);
      expect(s.retryAfter, s.path).to.equal('1');
      expect(s.contentType, s.path).to.equal('application/json; charset=utf-8');
      expect(JSON.parse(s.body!), s.path).to.deep.equal({ error: 'Service temporarily unavailable' });
    }
    expect(samples.filter(isHot).every((s) => s.status === 200), 'cached documents served throughout').to.equal(true);
    expect(samples.filter((s) => s.sentAt >= recoveredAt).every((s) => s.status === 200), 'every request after recovery succeeds').to.equal(true);

    // Recovered for good: a batch of documents never asked for before, all served correctly.
    for (let id = probe; id < probe + 30; id++) {
      const res = await fetch(`${service.url}/products/${id}/styles`);
      expect(res.status, `/products/${id}/styles`).to.equal(200);
      expect(((await res.json()) as { product_id: string }).product_id).to.equal(String(id));
    }

    // Same processes: the service was never restarted.
    expect(await childPids(service.child.pid!)).to.have.members(workerPids);
    // Sessions return to the pools' bound: each worker's pool at most PG_POOL_MAX plus one
    // listener per worker (it reconnects with backoff, hence the wait), nothing else left over.
    await eventually(async () => (await serviceSessions(embedded!.url))['atelier-products listener'] === WORKERS, 20_000, 'both listeners reconnect');
    const after = await serviceSessions(embedded!.url);
    console.log(`      sessions before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    for (const sessions of [before, after]) {
      expect(Object.keys(sessions).every((app) => /^atelier-products (worker \d+|listener)$/.test(app)), JSON.stringify(sessions)).to.equal(true);
      for (const [app, n] of Object.entries(sessions)) expect(n, app).to.be.at.most(app.endsWith('listener') ? WORKERS : POOL_MAX);
    }
  });
});
