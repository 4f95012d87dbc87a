import { isWorkerMessage, MSG, type PrimaryToWorker } from './ipc';
import { foldRetired, withOverrides, type Snapshot } from './snapshots';

/** The primary's view of one worker (a cluster `Worker` satisfies it). */
export interface WorkerHandle {
  readonly id: number;
  send(message: PrimaryToWorker, callback: (err: Error | null) => void): unknown;
  isConnected(): boolean;
}

export interface ClusterCollectorOptions {
  /** How long one worker may take to answer before its previous snapshot is used, in ms. */
  timeoutMs: number;
  /** Called once per worker that did not answer in time. */
  onTimeout?: (workerId: number) => void;
  /** Called when a worker answers that it could not collect its registry (its previous snapshot is used). */
  onError?: (workerId: number, error: string) => void;
}

export interface ClusterCollector {
  /** Feed every message a worker sends (cluster 'message' event). */
  onMessage(worker: WorkerHandle, message: unknown): void;
  /** Feed every worker exit (cluster 'exit' event). */
  onExit(worker: WorkerHandle): void;
  /**
   * Asks every ready worker for its metrics and resolves, within about `timeoutMs`, with the
   * snapshots to aggregate: the retired total of exited workers, then each live worker's
   * newest snapshot. A worker that does not answer in time is represented by its previous
   * snapshot, so a slow worker neither fails the scrape nor makes a counter go backwards.
   */
  collect(): Promise<Snapshot[]>;
}

interface Tracked {
  handle: WorkerHandle;
  ready: boolean;
  latest: Snapshot | undefined;
  latestSeq: number;
  waiters: Map<number, () => void>;
}

/**
 * Cluster-wide metrics with exact counters: a worker's cumulative metrics are folded into
 * a retired total when it exits, so the sum over the cluster never drops when a worker is
 * replaced. What a crashed worker served after its last snapshot is lost; a worker that
 * drains sends a final snapshot, so a graceful restart loses nothing.
 */
export function createClusterCollector(opts: ClusterCollectorOptions): ClusterCollector {
  const workers = new Map<number, Tracked>();
  let retired: Snapshot = [];
  let seq = 0;

  const track = (handle: WorkerHandle): Tracked => {
    let t = workers.get(handle.id);
    if (t === undefined) {
      t = { handle, ready: false, latest: undefined, latestSeq: 0, waiters: new Map() };
      workers.set(handle.id, t);
    }
    return t;
  };

  const ask = (t: Tracked, n: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        t.waiters.delete(n);
        opts.onTimeout?.(t.handle.id);
        resolve();
      }, opts.timeoutMs);
      t.waiters.set(n, () => {
        clearTimeout(timer);
        t.waiters.delete(n);
        resolve();
      });
      // A worker that died between the check and the send reports through the callback.
      t.handle.send({ type: MSG.collect, seq: n }, (err) => err && t.waiters.get(n)?.());
    });

  return {
    onMessage(handle, message) {
      if (!isWorkerMessage(message)) return;
      const t = track(handle);
      if (message.type === MSG.ready) {
        t.ready = true;
        return;
      }
      if (message.error !== undefined) opts.onError?.(handle.id, message.error);
      if (message.metrics !== undefined && (message.final || message.seq > t.latestSeq)) {
        t.latest = withOverrides(message.metrics);
        // After the final snapshot nothing the worker sends may replace it.
        t.latestSeq = message.final ? Infinity : message.seq;
      }
      if (message.final) handle.send({ type: MSG.finalAck }, () => undefined);
      else t.waiters.get(message.seq)?.();
    },

    onExit(handle) {
      const t = workers.get(handle.id);
      if (t === undefined) return;
      workers.delete(handle.id);
      if (t.latest !== undefined) retired = foldRetired(retired, t.latest);
      for (const wake of [...t.waiters.values()]) wake();
    },

    async collect() {
      const n = ++seq;
      const asked = [...workers.values()].filter((t) => t.ready && t.handle.isConnected() && t.latestSeq !== Infinity);
      await Promise.all(asked.map((t) => ask(t, n)));
      const live = [...workers.values()].map((t) => t.latest).filter((s): s is Snapshot => s !== undefined);
      return [retired, ...live];
    },
  };
}
