import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a bounded load run saw. */
export interface LoadResult {
  total: number;
  ok: number;
  /** Requests that got a non-2xx/304 status, a connection error, or no answer in time. */
  failed: number;
  /** Requests with no complete answer within the per-request timeout (the "hangs"). */
  timedOut: number;
  /** Failure reasons (status or error code) and how often each occurred. */
  reasons: Record<string, number>;
  /** Longest request, in ms (reported, never asserted on). */
  maxMs: number;
}

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Path of the n-th request. */
  path: (n: number) => string;
  /** Concurrent keep-alive connections, each sending one request at a time. */
  concurrency: number;
  /** A request without a complete answer after this long counts as hung, in ms. */
  requestTimeoutMs?: number;
  /** Client source address (another loopback address to be rate limited like a stranger). */
  localAddress?: string;
}

export interface Load {
  /** Counts so far. */
  snapshot(): LoadResult;
  /** Stops sending, waits for the requests in flight, returns the final counts. */
  stop(): Promise<LoadResult>;
}

/**
 * A closed-loop HTTP load on loopback: `concurrency` loops, each sending its next request
 * as soon as the previous one completed, until stop(). Bounded by whoever calls stop().
 */
export function startLoad(opts: LoadOptions): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const result: LoadResult = { total: 0, ok: 0, failed: 0, timedOut: 0, reasons: {}, maxMs: 0 };
  let stopped = false;
  let n = 0;

  const fail = (reason: string): void => {
    result.failed++;
    result.reasons[reason] = (result.reasons[reason] ?? 0) + 1;
  };

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const started = Date.now();
      let settled = false;
      const done = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        result.total++;
        result.maxMs = Math.max(result.maxMs, Date.now() - started);
        outcome();
        resolve();
      };
      const target = new URL(opts.path(n++), opts.url);
      const req = http.get(target, { agent, ...(opts.localAddress && { localAddress: opts.localAddress }) }, (res) => {
        res.on('data', () => undefined);
        res.on('error', () => done(() => fail('response aborted')));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          done(() => ((status >= 200 && status < 300) || status === 304 ? result.ok++ : fail(String(status))));
        });
      });
      req.setTimeout(timeoutMs, () => {
        result.timedOut++;
        req.destroy(new Error('timed out'));
      });
      req.on('error', (err: NodeJS.ErrnoException) => done(() => fail(err.code ?? err.message)));
    });

  const loops = Array.from({ length: opts.concurrency }, async () => {
    while (!stopped) await one();
  });

  return {
    snapshot: () => ({ ...result, reasons: { ...result.reasons } }),
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return { ...result, reasons: { ...result.reasons } };
    },
  };
}

/** Runs the load for `ms` milliseconds. */
export async function loadFor(ms: number, opts: LoadOptions): Promise<LoadResult> {
  const load = startLoad(opts);
  await sleep(ms);
  return load.stop();
}
