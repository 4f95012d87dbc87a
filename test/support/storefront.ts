import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium';

/** What the storefront page saw of one call: as its own JavaScript read it. */
export interface PageCall {
  path: string;
  status?: number;
  body?: string;
  etag?: string | null;
  /** The fetch rejected (a browser refusing a cross-origin answer says only "Failed to fetch"). */
  error?: string;
}

/** The calls a storefront product page makes, with the token its recorded traffic sends. */
export const STOREFRONT_CALLS = ['/products/1', '/products/1/styles', '/products/1/related', '/products?count=10000'];

// The page: calls the API named in its query string from the browser, with an Authorization
// header (so every call is preceded by a CORS preflight), and publishes what it read.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>storefront</title></head><body>
<script>
  const api = new URLSearchParams(location.search).get('api');
  const paths = ${JSON.stringify(STOREFRONT_CALLS)};
  window.results = Promise.all(paths.map(async (path) => {
    try {
      const res = await fetch(api + path, { headers: { Authorization: 'ghp_storefrontToken123' } });
      return { path, status: res.status, body: await res.text(), etag: res.headers.get('ETag') };
    } catch (err) {
      return { path, error: String(err) };
    }
  }));
</script>
</body></html>`;

export interface Storefront {
  /** The page's own origin: another loopback port than any API. */
  origin: string;
  /** Opens the page against `apiUrl` in headless Chromium and returns what it read. */
  visit(apiUrl: string): Promise<PageCall[]>;
  close(): Promise<void>;
}

/**
 * Debian's Chromium (skipped on a developer machine without it, failing under CI, like every
 * Debian tool), driven by playwright-core, and a server for the storefront page. Nothing here
 * downloads a browser.
 */
export async function startStorefront(ctx: Mocha.Context): Promise<Storefront> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser: Browser = await launchChromium(ctx);
  return {
    origin,
    async visit(apiUrl) {
      const page = await browser.newPage();
      try {
        await page.goto(`${origin}/?api=${encodeURIComponent(apiUrl)}`);
        return await page.evaluate(() => (globalThis as unknown as { results: Promise<PageCall[]> }).results);
      } finally {
        await page.close();
      }
    },
    async close() {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
