import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CorsOrigins } from '../../src/config';
import { startBalancer as startLoopbackBalancer, type Balancer } from '../../src/fleet/balancer';
import { findNginx } from '../../src/fleet/nginx';
import type { NginxTls } from '../../src/fleet/nginx-tls';
import { requireTool } from '../support/binaries';

/** A stand-in instance whose answers a test controls, counting what reaches it. */
export interface Upstream {
  address: string;
  /** Requests received, in order. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  /** Distinct TCP connections nginx opened to it. */
  connections: number;
  respond: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  close(): Promise<void>;
}

export const json = (status: number, body: unknown) => (_req: http.IncomingMessage, res: http.ServerResponse): void => {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

export async function startUpstream(respond = json(200, { ok: true })): Promise<Upstream> {
  const upstream: Upstream = { address: '', requests: [], connections: 0, respond, close: async () => undefined };
  const server = http.createServer((req, res) => {
    upstream.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => upstream.respond(req, res));
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', () => upstream.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  upstream.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  upstream.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return upstream;
}

export type { Balancer };

/** Real nginx with the project's configuration (as the fleet renders it) in front of `upstreams`, in a temporary folder. */
export async function startBalancer(
  upstreams: readonly string[],
  opts: { microcache?: boolean; limitExempt?: string[]; corsAllowOrigins?: CorsOrigins; tls?: NginxTls } = {},
): Promise<Balancer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-nginx-'));
  const lb = await startLoopbackBalancer({ upstreams, dir, ...opts }).catch((err: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...lb,
    async stop() {
      await lb.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Mocha skips when nginx is missing on a developer machine; CI must have it. */
export function requireNginx(ctx: Mocha.Context): void {
  requireTool(ctx, findNginx(), 'nginx', 'nginx');
}

/** One request without keep-alive from `localAddress`; the whole body as text. */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false, ...(opts.localAddress && { localAddress: opts.localAddress }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * For a describe block: upstreams and balancers started through these are stopped after each
 * test (mocha hooks registered here), and the block is skipped without nginx (failing in CI).
 */
export function nginxPerTest(): {
  upstream: (respond?: Parameters<typeof startUpstream>[0]) => Promise<Upstream>;
  balancer: (...args: Parameters<typeof startBalancer>) => Promise<Balancer>;
  /** Runs `step` after the current test, with the rest of the cleanup. */
  defer: (step: () => Promise<void>) => void;
} {
  const cleanup: Array<() => Promise<void>> = [];
  before(function () {
    requireNginx(this);
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  return {
    defer: (step) => void cleanup.push(step),
    async upstream(respond) {
      const u = await startUpstream(respond);
      cleanup.push(() => u.close());
      return u;
    },
    async balancer(...args) {
      const b = await startBalancer(...args);
      cleanup.push(() => b.stop());
      return b;
    },
  };
}
