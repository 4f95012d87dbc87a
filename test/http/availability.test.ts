import { expect } from 'chai';
import { startApp, type RunningApp } from '../support/app';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';

describe('availability', () => {
  describe('when the database is migrated but no catalog is loaded', () => {
    let db: TestDatabase;
    let app: RunningApp;
    before(async () => {
      db = await createTestDatabase();
      app = await startApp(db.url);
    });
    after(async () => {
      await app?.close();
      await db?.drop();
    });

    it('then /healthz is 200 and /readyz is 503 JSON', async () => {
      expect((await fetch(`${app.url}/healthz`)).status).to.equal(200);
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).to.equal(503);
      expect(await ready.json()).to.have.property('error');
    });
    it('then products are 404 and the list is []', async () => {
      expect((await fetch(`${app.url}/products/1`)).status).to.equal(404);
      expect(await (await fetch(`${app.url}/products`)).text()).to.equal('[]');
    });
  });

  describe('when the database cannot be reached', () => {
    let app: RunningApp;
    before(async () => {
      // Nothing listens on this port: every connection attempt is refused.
      app = await startApp(`postgres://nobody:secret@127.0.0.1:${await freePort()}/nowhere`, { connectTimeoutMs: 500 });
    });
    after(() => app?.close());

    it('then document routes answer 503 JSON with Retry-After, hiding the cause', async () => {
      for (const path of ['/products/1', '/products/1/styles', '/products/1/related', '/products?page=3']) {
        const res = await fetch(app.url + path);
        expect(res.status, path).to.equal(503);
        expect(res.headers.get('retry-after')).to.equal('1');
        const text = await res.text();
        expect(JSON.parse(text)).to.deep.equal({ error: 'Service temporarily unavailable' });
        expect(text).to.not.match(/ECONNREFUSED|127\.0\.0\.1|nobody|postgres/);
      }
    });
    it('then /readyz is 503 and /healthz still 200', async () => {
      expect((await fetch(`${app.url}/readyz`)).status).to.equal(503);
      expect((await fetch(`${app.url}/healthz`)).status).to.equal(200);
    });
    it('then the cause is logged once per failed request with its request id', async () => {
      await fetch(`${app.url}/products/2`, { headers: { 'X-Request-Id': 'outage-1' } });
      const errors = app.logLines().filter((l) => l.reqId === 'outage-1' && l.level === 50);
      expect(errors).to.have.length(1);
      expect(JSON.stringify(errors[0])).to.match(/ECONNREFUSED/);
    });
  });
});
