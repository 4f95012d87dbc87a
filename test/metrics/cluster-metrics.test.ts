import { expect } from 'chai';
import http from 'node:http';
import pg from 'pg';
import { recordEtlSummary } from '../../db/etl/summary';
import { readVersion } from '../../src/version';
import { FIXTURE } from '../support/fixture';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { startServer, type ServerProcess } from '../support/server-process';
import { eventually } from '../support/wait';
import { sendRequests } from './load';
import { REQUESTS, scrape, total, value, type Sample } from './scrape';

// Requires `npm run build` first (npm test does it): this runs dist/src/server.js.
describe('cluster-wide metrics of the real built service (WORKERS=2)', function () {
  this.timeout(60_000);
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let metricsUrl = '';
  const read = (): Promise<Sample[]> => scrape(metricsUrl);

  /** Waits until the primary has two live workers that both answer metric requests. */
  const twoWorkersReady = async (previous: number[] = []): Promise<void> => {
    await eventually(() => {
      const pids = server!.workerPids();
      return pids.length === 2 && pids.every((p) => !previous.includes(p));
    }, 20_000, 'two fresh workers');
    await eventually(async () => value(await read(), 'atelier_workers') === 2, 20_000, 'atelier_workers == 2');
  };

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE, 7);
    // What the ETL records with each load, here straight into the live schema.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await recordEtlSummary(client, 'catalog', [
      { file: 'product.csv', loaded: 6, rejected: 3, dropped: 0 },
      { file: 'related.csv', loaded: 9, rejected: 1, dropped: 2 },
    ]);
    await client.end();
    const metricsPort = await freePort();
    server = await startServer({ DATABASE_URL: db.url, WORKERS: '2', METRICS_PORT: String(metricsPort) });
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await twoWorkersReady();
  });

  after(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('when scraped, then atelier_build_info names the version /readyz reports', async () => {
    const { version } = (await (await fetch(`${server!.url}/readyz`)).json()) as { version: string };
    expect(version).to.equal(readVersion());
    expect(value(await read(), 'atelier_build_info', { version })).to.equal(1);
  });

  it('when N requests are spread over both workers, then the request counter rises by exactly N', async () => {
    const before = await read();
    const logStart = server!.output().length;
    const n = 240;
    const statuses = await sendRequests(server!.url, n);
    const after = await read();

    expect(total(after, REQUESTS) - total(before, REQUESTS)).to.equal(n);
    // Per label set too: 404s of unknown ids stay on their route, unknown paths are "unmatched".
    const delta = (labels: Record<string, string>): number => total(after, REQUESTS, labels) - total(before, REQUESTS, labels);
    expect(delta({ route: 'unmatched', status_class: '4xx' })).to.equal(n / 6);
    expect(delta({ route: '/products/:product_id', status_class: '4xx' })).to.equal(n / 6);
    expect(delta({ status_class: '2xx' })).to.equal(statuses.get(200));
    // Both workers served some of them (pino writes each request's pid; lines flush within 1 s).
    await eventually(() => {
      const pids = new Set<number>();
      for (const line of server!.output().slice(logStart).split('\n')) {
        if (line.includes('"reqId"')) pids.add((JSON.parse(line) as { pid: number }).pid);
      }
      return pids.size === 2;
    }, 5_000, 'request log lines from two workers');
  });

  it('when both workers drain and are replaced before any scrape, then their final counts are kept', async () => {
    const before = total(await read(), REQUESTS);
    const n = 60;
    await sendRequests(server!.url, n);
    const drained = server!.workerPids();
    for (const pid of drained) process.kill(pid, 'SIGTERM');
    await twoWorkersReady(drained);
    expect(total(await read(), REQUESTS) - before).to.equal(n);
  });

  it('when a worker is killed after a scrape, then no count goes back and the restart is counted', async () => {
    await sendRequests(server!.url, 30);
    const scraped = await read();
    const counted = total(scraped, REQUESTS);
    const [victim] = server!.workerPids();
    process.kill(victim!, 'SIGKILL');
    await twoWorkersReady([victim!]);

    const afterRestart = await read();
    expect(total(afterRestart, REQUESTS)).to.equal(counted);
    expect(value(afterRestart, 'atelier_worker_restarts_total')).to.equal(value(scraped, 'atelier_worker_restarts_total')! + 1);
    await sendRequests(server!.url, 25);
    expect(total(await read(), REQUESTS) - counted).to.equal(25);
  });

  it('when a worker is stopped (SIGSTOP), then a scrape still answers, with its last counts, and counts the timeout', async () => {
    await sendRequests(server!.url, 20);
    const before = await read();
    const [victim] = server!.workerPids();
    process.kill(victim!, 'SIGSTOP');
    try {
      // The primary waits 1 s for a worker; 10 s only guards against a hang.
      const during = await scrape(metricsUrl, 10_000);
      expect(total(during, REQUESTS)).to.equal(total(before, REQUESTS));
      expect(value(during, 'atelier_metrics_worker_timeouts_total')).to.equal(value(before, 'atelier_metrics_worker_timeouts_total')! + 1);
    } finally {
      process.kill(victim!, 'SIGCONT');
    }
  });

  it('when documents go out compressed and not, then bytes by coding and their identity sizes add up over both workers', async () => {
    const before = await read();
    const sent: Record<string, { bytes: number; identity: number }> = { br: { bytes: 0, identity: 0 }, gzip: { bytes: 0, identity: 0 }, identity: { bytes: 0, identity: 0 } };
    const identity = (await rawGet(server!.url + '/products/1/styles', {})).body.length;
    sent.identity!.bytes += identity;
    sent.identity!.identity += identity;
    // Enough requests per coding for both workers to see the document hot and compress it.
    for (let i = 0; i < 60; i++) {
      for (const coding of ['br', 'gzip', 'identity']) {
        const res = await rawGet(server!.url + '/products/1/styles', { 'Accept-Encoding': coding });
        const used = res.encoding ?? 'identity';
        sent[used]!.bytes += res.body.length;
        sent[used]!.identity += identity;
      }
    }
    expect(sent.br!.bytes, 'some answers in br').to.be.above(0);
    expect(sent.gzip!.bytes, 'some answers in gzip').to.be.above(0);
    const after = await read();
    for (const [encoding, { bytes, identity: uncompressed }] of Object.entries(sent)) {
      const delta = (name: string): number => total(after, name, { encoding }) - total(before, name, { encoding });
      expect(delta('atelier_http_response_bytes_total'), encoding).to.equal(bytes);
      expect(delta('atelier_http_response_uncompressed_bytes_total'), encoding).to.equal(uncompressed);
    }
  });

  it('when the catalog and an ETL summary are in the database, then their version, load time and row counts are exposed', async () => {
    const samples = await read();
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    const { rows } = await client.query<{ at: number }>('SELECT extract(epoch FROM loaded_at)::float8 AS at FROM catalog.catalog_info');
    await client.end();
    expect(value(samples, 'atelier_catalog_version')).to.equal(7);
    expect(value(samples, 'atelier_catalog_loaded_timestamp_seconds')).to.equal(rows[0]!.at);
    expect(value(samples, 'atelier_etl_rows', { file: 'product.csv', outcome: 'rejected' })).to.equal(3);
    expect(value(samples, 'atelier_etl_rows', { file: 'related.csv', outcome: 'dropped' })).to.equal(2);
    expect(value(samples, 'atelier_etl_rows', { file: 'related.csv', outcome: 'loaded' })).to.equal(9);
  });

  it('when /metrics is asked of the public port, then it is not there; the metrics port serves nothing else', async () => {
    expect((await fetch(`${server!.url}/metrics`)).status).to.equal(404);
    expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).to.equal(404);
    expect((await fetch(metricsUrl, { method: 'POST' })).status).to.equal(405);
  });
});

/** A GET whose body is kept as the bytes on the wire (fetch would decode it). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ body: Buffer; encoding: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ body: Buffer.concat(chunks), encoding: res.headers['content-encoding'] }));
      })
      .on('error', reject);
  });
}
