import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killGroup } from '../../src/fleet/process';
import { requireNginx } from '../deploy/nginx-harness';
import { assertBuilt, startFleetProcess, type FleetProcess } from '../fleet/fleet-process';
import { startApp, type RunningApp } from '../support/app';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { startStorefront, STOREFRONT_CALLS, type PageCall, type Storefront } from '../support/storefront';
import { EXPECTED, FIXTURE } from '../support/fixture';

/** The bytes the contract requires for each of the page's calls. */
const EXPECTED_BODIES: Record<string, string> = {
  '/products/1': JSON.stringify(EXPECTED.product1),
  '/products/1/styles': JSON.stringify(EXPECTED.styles1),
  '/products/1/related': JSON.stringify(EXPECTED.related1),
  '/products?count=10000': JSON.stringify(EXPECTED.list),
};

// Strong through nginx too: it passes the service's compressed bodies and their tags
// (`…-br"`, `…-gzip"`) through unchanged, and compresses nothing itself.
const STRONG_ETAG = /^"[A-Za-z0-9_-]{20,}"$/;

function expectEveryBody(calls: PageCall[], etag: RegExp): void {
  expect(calls.map((c) => c.path)).to.deep.equal(STOREFRONT_CALLS);
  for (const call of calls) {
    expect(call.error, call.path).to.equal(undefined);
    expect(call.status, call.path).to.equal(200);
    expect(call.body, call.path).to.equal(EXPECTED_BODIES[call.path]);
    // ETag is not a CORS-safelisted header: the page reads it only because it is exposed.
    expect(call.etag, call.path).to.match(etag);
  }
}

describe('a storefront page in a real browser (headless Chromium) calling from another origin', function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let storefront: Storefront;

  before(async function () {
    storefront = await startStorefront(this);
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
  });
  after(async () => {
    await storefront?.close();
    await db?.drop();
  });

  describe('straight to the service', () => {
    let app: RunningApp;
    let listedElsewhere: RunningApp;
    before(async () => {
      app = await startApp(db.url);
      listedElsewhere = await startApp(db.url, { corsAllowOrigins: ['https://another-shop.example'] });
    });
    after(async () => Promise.all([app?.close(), listedElsewhere?.close()]));

    it('when the page fetches with an Authorization header, then the browser preflights each call and the page reads every body and ETag', async () => {
      expectEveryBody(await storefront.visit(app.url), STRONG_ETAG);
      const preflights = app.logLines().filter((l) => l.method === 'OPTIONS');
      expect(preflights.length, 'preflights the browser sent').to.be.at.least(STOREFRONT_CALLS.length);
      expect(preflights.every((l) => l.status === 204)).to.equal(true);
    });

    it("when the page's origin is not on the service's list, then the browser refuses every answer", async () => {
      const calls = await storefront.visit(listedElsewhere.url);
      expect(calls.map((c) => c.error)).to.deep.equal(STOREFRONT_CALLS.map(() => 'TypeError: Failed to fetch'));
    });
  });

  describe('through the npm run fleet nginx', () => {
    let fleet: FleetProcess;
    let runDir: string;
    before(async function () {
      requireNginx(this);
      assertBuilt();
      runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-browser-fleet-'));
      fleet = startFleetProcess(['--instances', '2', '--port', String(await freePort()), '--workers', '1', '--run-dir', runDir], {
        DATABASE_URL: db.url,
        SHUTDOWN_TIMEOUT_MS: '3000',
      });
      await fleet.waitFor(/^fleet: ready: /m, 60_000);
    });
    after(async () => {
      const pids = fleet?.instances().map((i) => i.pid) ?? [];
      await fleet?.stop();
      for (const pid of pids) killGroup(pid, 'SIGKILL');
      if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    });

    it('when the page fetches through nginx, then it reads every body and ETag, as from the service', async () => {
      expectEveryBody(await storefront.visit(fleet.url()), STRONG_ETAG);
    });
  });
});
