/**
 * Reads many keys with one database statement. A key absent from the answer does not exist;
 * a key answered with an Error failed on its own (its waiters get that error).
 */
export type BatchReader = (keys: string[]) => Promise<Map<string, string | Error>>;

export interface BatcherOptions {
  read: BatchReader;
  /** Most keys in one read. */
  maxBatch: number;
  /**
   * Most reads in flight at once (the pool's connections). While all are busy, new keys wait
   * and leave together when a read finishes: batches grow with the load.
   */
  maxConcurrent: number;
}

interface Waiter {
  resolve: (body: string | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces single-key loads into batched reads: every key requested during one event-loop
 * turn is read by one statement. Under load a worker has dozens of misses in flight, and each
 * statement costs a round trip and a wake-up of a PostgreSQL backend whatever its size.
 */
export function createBatcher(opts: BatcherOptions): (key: string) => Promise<string | undefined> {
  // Keys waiting for a read, in arrival order, with everyone waiting for each.
  const pending = new Map<string, Waiter[]>();
  let running = 0;
  let scheduled = false;

  const settle = (batch: Map<string, Waiter[]>, found: Map<string, string | Error> | undefined, err?: unknown): void => {
    for (const [key, waiters] of batch) {
      const answer = found === undefined ? err : found.get(key);
      for (const waiter of waiters) {
        if (found === undefined || answer instanceof Error) waiter.reject(answer);
        else waiter.resolve(answer as string | undefined);
      }
    }
  };

  const flush = (): void => {
    scheduled = false;
    while (running < opts.maxConcurrent && pending.size > 0) {
      const batch = new Map<string, Waiter[]>();
      for (const [key, waiters] of pending) {
        pending.delete(key);
        batch.set(key, waiters);
        if (batch.size === opts.maxBatch) break;
      }
      running++;
      opts
        .read([...batch.keys()])
        .then(
          (found) => settle(batch, found),
          (err: unknown) => settle(batch, undefined, err),
        )
        .finally(() => {
          running--;
          flush();
        });
    }
  };

  return (key) =>
    new Promise((resolve, reject) => {
      const waiters = pending.get(key);
      if (waiters === undefined) pending.set(key, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
