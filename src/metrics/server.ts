import http from 'node:http';
import type { Logger } from 'pino';

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** Renders the exposition text; called once per scrape. */
  render: () => Promise<string>;
  contentType: string;
  log: Logger;
}

/**
 * The scrape endpoint: `GET /metrics` on its own port, apart from the public API, so
 * the public port (and nginx in front of it) never exposes internals. Resolves once listening.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    opts.render().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': opts.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        opts.log.error({ err }, 'metrics scrape failed');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Metrics unavailable\n');
      },
    );
  });
  // A scrape is small and quick; a client that dawdles is dropped (ms).
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
