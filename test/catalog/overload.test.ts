import { expect } from 'chai';
import type pg from 'pg';
import { NOT_FOUND } from '../../src/catalog/cache';
import { createDocumentStore } from '../../src/catalog/documents';
import type { ReadPool } from '../../src/postgres/replicas';
import { createApp } from '../../src/app';
import { CatalogOverloadedError } from '../../src/catalog/errors';
import { toAppError } from '../../src/http/errors';
import { serve } from '../support/http';
import { memoryLogger } from '../support/silent-logger';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A database stand-in for the batch statements (ids in the first parameter) whose
 * reads finish only when released (unit test: no network). Counts the documents asked for.
 */
function gatedPool(): ReadPool & { release(): void; started: number } {
  const waiting: Array<() => void> = [];
  const pool = {
    started: 0,
    query<R extends unknown[]>(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult<R>> {
      const ids = (config.values?.[0] ?? []) as number[];
      pool.started += ids.length;
      const rows = ids.map((id) => [`p${id}`, `{"id":${id}}`]);
      return new Promise((resolve) => waiting.push(() => resolve({ rows } as unknown as pg.QueryArrayResult<R>)));
    },
    release() {
      for (const w of waiting.splice(0)) w();
    },
  };
  return pool;
}

describe('document store load shedding (unit)', () => {
  it('when reads in flight reach the bound, then further misses fail at once with 503 while hits are served', async () => {
    const pool = gatedPool();
    const store = createDocumentStore({ pool, cacheMaxBytes: 1e6, cacheTtlMs: 60_000, notFoundTtlMs: 1000, maxInFlight: 2 });
    const first = store.product('product', 1) as Promise<unknown>;
    const second = store.product('product', 2) as Promise<unknown>;
    let shed: unknown;
    try {
      await store.product('product', 3);
    } catch (err) {
      shed = err;
    }
    expect(shed).to.be.instanceOf(CatalogOverloadedError);
    // The HTTP layer's answer to it: 503, retry in a second, not logged as a failure.
    expect(toAppError(shed)).to.include({ status: 503, expected: true });
    expect(toAppError(shed).headers).to.deep.equal({ 'Retry-After': '1' });
    // Misses are batched on the next turn of the event loop.
    await new Promise((r) => setImmediate(r));
    expect(pool.started).to.equal(2);

    pool.release();
    await Promise.all([first, second]);
    // A hit needs no read: served even while the database is saturated again.
    const busy = store.product('product', 4);
    const busy2 = store.product('product', 5);
    const hit = store.product('product', 1);
    expect(hit).to.not.be.instanceOf(Promise);
    expect(hit).to.not.equal(NOT_FOUND);
    await new Promise((r) => setImmediate(r));
    pool.release();
    await Promise.all([busy, busy2]);
    // Capacity is back once reads finish.
    const again = store.product('product', 3);
    await new Promise((r) => setImmediate(r));
    pool.release();
    expect(await again).to.not.equal(NOT_FOUND);
  });

  it('when a miss is shed through the app, then 503 with Retry-After, recorded by the request line and not logged as a failure', async () => {
    const pool = gatedPool();
    const documents = createDocumentStore({ pool, cacheMaxBytes: 1e6, cacheTtlMs: 60_000, notFoundTtlMs: 1000, maxInFlight: 1 });
    const { log, lines } = memoryLogger();
    const server = await serve(createApp({ log, documents, checkReady: async () => undefined, version: 'test', httpMaxAgeSeconds: 60, corsAllowOrigins: '*' }));
    try {
      const held = fetch(`${server.url}/products/1`);
      // The first miss holds the only read slot until released.
      while (pool.started === 0) await sleep(5);
      const shed = await fetch(`${server.url}/products/2`, { headers: { 'X-Request-Id': 'shed-1', Origin: 'https://shop.example' } });
      expect(shed.status).to.equal(503);
      expect(shed.headers.get('retry-after')).to.equal('1');
      // A page can read why: the shed carries the CORS headers, Retry-After exposed.
      expect(shed.headers.get('access-control-allow-origin')).to.equal('*');
      expect(shed.headers.get('access-control-expose-headers')).to.equal('ETag, X-Request-Id, Retry-After');
      expect(await shed.json()).to.deep.equal({ error: 'Service overloaded, retry shortly' });
      pool.release();
      expect((await held).status).to.equal(200);
    } finally {
      await server.close();
    }
    const shedLines = lines().filter((l) => l.reqId === 'shed-1');
    expect(shedLines.map((l) => [l.msg, l.status])).to.deep.equal([[undefined, 503]]);
  });
});
