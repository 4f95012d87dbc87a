import { expect } from 'chai';
import { register as globalRegistry, Registry } from 'prom-client';
import { createDocumentCache } from '../../src/catalog/cache';
import { createWorkerMetrics } from '../../src/metrics/worker-metrics';
import { parseExposition, value } from './scrape';

describe('worker metrics registry', () => {
  it('when worker metrics are created, then they live in the given registry and the global one stays empty', async () => {
    const globalNames = () => globalRegistry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name);
    const before = globalNames();
    const registry = new Registry();
    createWorkerMetrics(registry);
    expect(globalNames()).to.deep.equal(before);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of [
      'atelier_http_request_duration_seconds',
      'atelier_http_requests_in_flight',
      'atelier_db_fetch_duration_seconds',
      'atelier_cache_hits_total',
      'atelier_pg_pool_waiting_requests',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'process_cpu_seconds_total',
    ]) {
      expect(names).to.include(name);
    }
  });

  it('when metric names are listed, then they follow Prometheus conventions: base units, _total counters, bounded labels', async () => {
    const registry = new Registry();
    const metrics = createWorkerMetrics(registry);
    metrics.http.started();
    metrics.http.finished('/products/:product_id', 'GET', 200, 0.001);
    metrics.observeFetch('product', 0.001);
    const ours = (await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('atelier_'));
    expect(ours.length).to.be.greaterThan(10);
    for (const m of ours) {
      const type = m.type as unknown as string;
      if (type === 'counter') expect(m.name, m.name).to.match(/_total$/);
      else expect(m.name, m.name).not.to.match(/_total$/);
      if (type === 'histogram') expect(m.name, m.name).to.match(/_seconds$/);
      expect(m.name, m.name).not.to.match(/milli|micro|_ms$|kilo|mega/);
    }
    // Labels never carry ids, paths or other unbounded values.
    const registryLabels = ours.flatMap((m) =>
      (m as unknown as { values: Array<{ labels: object }> }).values.flatMap((v) => Object.keys(v.labels)),
    );
    expect(registryLabels).to.include.members(['route', 'method', 'status_class', 'kind', 'le']);
    // encoding: the content codings the service stores, a closed set.
    for (const label of registryLabels) expect(['route', 'method', 'status_class', 'kind', 'le', 'encoding']).to.include(label);
    const encodings = ours.flatMap((m) =>
      (m as unknown as { values: Array<{ labels: { encoding?: string } }> }).values.flatMap((v) => (v.labels.encoding === undefined ? [] : [v.labels.encoding])),
    );
    expect(new Set(encodings)).to.deep.equal(new Set(['br', 'gzip', 'identity']));
  });

  it('when the cache and pool are watched, then a scrape reports their current counts', async () => {
    const registry = new Registry();
    const metrics = createWorkerMetrics(registry);
    const cache = createDocumentCache({
      maxBytes: 4 * 1024,
      ttlMs: 60_000,
      notFoundTtlMs: 60_000,
      // Every key has a 1000-byte body: the 4 KiB budget holds three, so a fourth evicts.
      load: (key) => Promise.resolve(key === 'missing' ? undefined : 'x'.repeat(1000)),
    });
    metrics.watchCache(() => cache.stats(), 4 * 1024);
    metrics.watchPool({ totalCount: 5, idleCount: 2, waitingCount: 1 }, 8);
    for (const key of ['a', 'b', 'c', 'd', 'missing']) await cache.get(key);
    cache.get('d');
    cache.get('missing');
    metrics.observeFetch('styles', 0.0003);
    metrics.observeFetch('styles', 0.002);

    const s = parseExposition(await registry.metrics());
    expect(value(s, 'atelier_cache_hits_total')).to.equal(2);
    expect(value(s, 'atelier_cache_misses_total')).to.equal(5);
    expect(value(s, 'atelier_cache_evictions_total')).to.equal(cache.stats().evictions).and.to.be.greaterThan(0);
    expect(value(s, 'atelier_cache_entries')).to.equal(cache.stats().entries);
    expect(value(s, 'atelier_cache_size_bytes')).to.equal(cache.stats().bytes);
    expect(value(s, 'atelier_cache_max_bytes')).to.equal(4096);
    expect(value(s, 'atelier_pg_pool_clients')).to.equal(5);
    expect(value(s, 'atelier_pg_pool_idle_clients')).to.equal(2);
    expect(value(s, 'atelier_pg_pool_waiting_requests')).to.equal(1);
    expect(value(s, 'atelier_pg_pool_max_clients')).to.equal(8);
    expect(value(s, 'atelier_db_fetch_duration_seconds_count', { kind: 'styles' })).to.equal(2);
    expect(value(s, 'atelier_db_fetch_duration_seconds_bucket', { kind: 'styles', le: '0.0005' })).to.equal(1);

    // Counters follow the cache's cumulative counts scrape after scrape.
    cache.get('a');
    const again = parseExposition(await registry.metrics());
    expect(value(again, 'atelier_cache_misses_total')).to.equal(6);
  });
});
