import http from 'node:http';

/** GET over a fresh connection (no keep-alive), so the kernel may hand it to any worker. */
export function getFresh(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url} timed out`));
      })
      .on('error', reject);
  });
}

// A mix of routes and outcomes: documents, a page, an unknown id (404) and an unknown path.
export const MIXED_PATHS = ['/products/1', '/products/2/styles', '/products?page=1&count=2', '/products/1/related', '/products/999', '/nope'];

/**
 * Sends `n` requests to `baseUrl`, cycling through `paths`, `concurrency` at a time, each on
 * its own connection. Resolves with how many of each status came back.
 */
export async function sendRequests(baseUrl: string, n: number, paths = MIXED_PATHS, concurrency = 10): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const status = await getFresh(baseUrl + paths[i % paths.length]);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  return statuses;
}
