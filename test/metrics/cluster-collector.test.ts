import { expect } from 'chai';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { createClusterCollector, type ClusterCollector, type WorkerHandle } from '../../src/metrics/cluster-collector';
import { linkWorkerMetrics, type IpcEndpoint, type WorkerMetricsLink } from '../../src/metrics/ipc';
import { parseExposition, value } from './scrape';

// The cluster IPC channel serialises messages as JSON; the in-process channel below does too.
const overTheWire = <T>(message: T): T => JSON.parse(JSON.stringify(message)) as T;

interface InProcessWorker {
  handle: WorkerHandle;
  link: WorkerMetricsLink;
  requests: Counter;
  inFlight: Gauge;
  /** While true the worker receives nothing (a stopped process). */
  stalled: boolean;
  /** While set, collecting the worker's registry fails with this message. */
  failure: string | undefined;
}

/** A worker registry linked to `collector` through an in-process channel with the IPC's semantics. */
function startWorker(id: number, collector: ClusterCollector): InProcessWorker {
  const registry = new Registry();
  const requests = new Counter({ name: 'requests_total', help: 'requests', labelNames: ['route'], registers: [registry] });
  const inFlight = new Gauge({ name: 'in_flight', help: 'in flight', registers: [registry] });
  const listeners = new Set<(m: unknown) => void>();
  const worker = { stalled: false, failure: undefined } as InProcessWorker;
  new Gauge({
    name: 'collectable',
    help: 'fails to collect while the worker has a failure',
    registers: [registry],
    collect() {
      if (worker.failure !== undefined) throw new Error(worker.failure);
    },
  });
  worker.handle = {
    id,
    isConnected: () => true,
    send(message, callback) {
      setImmediate(() => {
        if (!worker.stalled) for (const l of listeners) l(overTheWire(message));
        callback(null);
      });
    },
  };
  const ipc: IpcEndpoint = {
    send(message, callback) {
      setImmediate(() => {
        collector.onMessage(worker.handle, overTheWire(message));
        callback(null);
      });
    },
    onMessage: (listener) => void listeners.add(listener),
    connected: () => true,
  };
  worker.link = linkWorkerMetrics(registry, ipc);
  worker.requests = requests;
  worker.inFlight = inFlight;
  return worker;
}

async function scrape(collector: ClusterCollector) {
  return parseExposition(await AggregatorRegistry.aggregate(await collector.collect()).metrics());
}

const tick = () => new Promise((r) => setImmediate(r));

describe('cluster metrics collector', () => {
  it('when two workers count requests, then a collection sums them exactly, and an exited worker keeps its counts but not its gauges', async () => {
    const collector = createClusterCollector({ timeoutMs: 1000 });
    const [a, b] = [startWorker(1, collector), startWorker(2, collector)];
    await tick();
    a.requests.inc({ route: '/x' }, 3);
    b.requests.inc({ route: '/x' }, 4);
    b.requests.inc({ route: '/y' }, 1);
    a.inFlight.set(2);
    b.inFlight.set(5);
    let s = await scrape(collector);
    expect(value(s, 'requests_total', { route: '/x' })).to.equal(7);
    expect(value(s, 'requests_total', { route: '/y' })).to.equal(1);
    expect(value(s, 'in_flight')).to.equal(7);

    collector.onExit(b.handle);
    s = await scrape(collector);
    expect(value(s, 'requests_total', { route: '/x' })).to.equal(7);
    expect(value(s, 'requests_total', { route: '/y' })).to.equal(1);
    expect(value(s, 'in_flight')).to.equal(2);

    // Two exits fold into one retired total.
    const c = startWorker(3, collector);
    await tick();
    c.requests.inc({ route: '/y' }, 10);
    await scrape(collector);
    collector.onExit(c.handle);
    collector.onExit(a.handle);
    s = await scrape(collector);
    expect(value(s, 'requests_total', { route: '/x' })).to.equal(7);
    expect(value(s, 'requests_total', { route: '/y' })).to.equal(11);
  });

  it('when a worker does not answer in time, then the collection resolves with its previous snapshot and reports the timeout', async () => {
    const timedOut: number[] = [];
    const collector = createClusterCollector({ timeoutMs: 50, onTimeout: (id) => timedOut.push(id) });
    const [a, b] = [startWorker(1, collector), startWorker(2, collector)];
    await tick();
    a.requests.inc({ route: '/x' }, 3);
    b.requests.inc({ route: '/x' }, 4);
    await scrape(collector);
    b.requests.inc({ route: '/x' }, 100);
    b.stalled = true;
    a.requests.inc({ route: '/x' }, 1);
    const s = await scrape(collector);
    expect(value(s, 'requests_total', { route: '/x' })).to.equal(8);
    expect(timedOut).to.deep.equal([2]);
  });

  it('when a worker cannot collect its registry, then the collection uses its previous snapshot and reports the worker\'s error', async () => {
    const errors: [number, string][] = [];
    const collector = createClusterCollector({ timeoutMs: 1000, onError: (id, error) => errors.push([id, error]) });
    const a = startWorker(1, collector);
    await tick();
    a.requests.inc({ route: '/x' }, 3);
    await scrape(collector);
    a.requests.inc({ route: '/x' }, 2);
    a.failure = 'registry broken';
    expect(value(await scrape(collector), 'requests_total', { route: '/x' })).to.equal(3);
    expect(errors).to.deep.equal([[1, 'registry broken']]);
    a.failure = undefined;
    expect(value(await scrape(collector), 'requests_total', { route: '/x' })).to.equal(5);
  });

  it('when a draining worker sends its final snapshot, then counts since the last collection survive its exit', async () => {
    const collector = createClusterCollector({ timeoutMs: 1000 });
    const a = startWorker(1, collector);
    await tick();
    a.requests.inc({ route: '/x' }, 3);
    await scrape(collector);
    a.requests.inc({ route: '/x' }, 2);
    await a.link.sendFinal(1000);
    // After the final snapshot the worker is no longer asked (it is about to exit).
    a.requests.inc({ route: '/x' }, 1000);
    expect(value(await scrape(collector), 'requests_total', { route: '/x' })).to.equal(5);
    collector.onExit(a.handle);
    expect(value(await scrape(collector), 'requests_total', { route: '/x' })).to.equal(5);
  });

  it('when no worker ever answered, then a collection is empty rather than failing', async () => {
    const collector = createClusterCollector({ timeoutMs: 50 });
    expect(await scrape(collector)).to.deep.equal([]);
  });
});
