import http from 'node:http';

/** One answered (or failed) request of a recorded load. */
export interface Sample {
  path: string;
  /** When it was sent and when it completed, epoch ms. */
  sentAt: number;
  doneAt: number;
  /** HTTP status; 0 when no answer came (connection error, timeout). */
  status: number;
  /** The error code or message when status is 0. */
  error?: string;
  retryAfter?: string;
  contentType?: string;
  /** The body, kept only for answers other than 2xx/304. */
  body?: string;
}

export interface Recorder {
  samples: readonly Sample[];
  /** Stops sending, waits for the requests in flight, returns every sample. */
  stop(): Promise<Sample[]>;
}

export interface RecorderOptions {
  url: string;
  /** Path of the n-th request. */
  path: (n: number) => string;
  /** Keep-alive connections, each sending its next request when the previous completed. */
  concurrency: number;
  /** A request without a complete answer after this long counts as failed, in ms. */
  requestTimeoutMs?: number;
}

/**
 * A closed-loop HTTP load on loopback that keeps every answer with its timing: fault tests
 * classify answers by when they happened (before, during, after an outage). Bounded by
 * whoever calls stop().
 */
export function startRecorder(opts: RecorderOptions): Recorder {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const samples: Sample[] = [];
  let stopped = false;
  let n = 0;

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const path = opts.path(n++);
      const sentAt = Date.now();
      let settled = false;
      const done = (sample: Omit<Sample, 'path' | 'sentAt' | 'doneAt'>): void => {
        if (settled) return;
        settled = true;
        samples.push({ path, sentAt, doneAt: Date.now(), ...sample });
        resolve();
      };
      const req = http.get(new URL(path, opts.url), { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => done({ status: 0, error: err.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ok = (status >= 200 && status < 300) || status === 304;
          done({
            status,
            ...(res.headers['retry-after'] !== undefined && { retryAfter: String(res.headers['retry-after']) }),
            ...(res.headers['content-type'] !== undefined && { contentType: res.headers['content-type'] }),
            ...(!ok && { body: Buffer.concat(chunks).toString() }),
          });
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timed out')));
      req.on('error', (err: NodeJS.ErrnoException) => done({ status: 0, error: err.code ?? err.message }));
    });

  const loops = Array.from({ length: opts.concurrency }, async () => {
    while (!stopped) await one();
  });

  return {
    samples,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return samples;
    },
  };
}

/** Status counts, e.g. { "200": 5120, "503": 37 }, for assertion messages and reports. */
export function statusCounts(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    const key = s.status === 0 ? `error ${s.error}` : String(s.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
