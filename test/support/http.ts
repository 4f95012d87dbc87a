import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { createHttpServer } from '../../src/http/server';

/** Serves a koa app as a worker does (same limits), on a free loopback port; returns its base URL and a closer. */
export async function serve(app: Koa): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
