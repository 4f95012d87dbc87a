import { expect } from 'chai';
import Koa from 'koa';
import { AppError, errorHandler } from '../../src/http/errors';
import { requestLog } from '../../src/http/request-log';
import { serve } from '../support/http';
import { memoryLogger } from '../support/silent-logger';

describe('error middleware', () => {
  it('when a 5xx is expected (load shed), then only the request line records it; any other 5xx is logged once', async () => {
    const shed = new AppError(503, 'Service overloaded, retry shortly', { 'Retry-After': '1' }, { expected: true });
    const { log, lines } = memoryLogger();
    const app = new Koa();
    app.silent = true;
    app.use(requestLog(log));
    app.use(errorHandler(log));
    app.use((ctx) => {
      if (ctx.path === '/shed') throw shed;
      if (ctx.path === '/plain') throw new AppError(503, 'Not ready');
      throw new Error('relation "catalog.secret" does not exist');
    });
    const server = await serve(app);
    try {
      for (const id of ['shed-1', 'shed-2']) {
        const res = await fetch(`${server.url}/shed`, { headers: { 'X-Request-Id': id } });
        expect(res.status).to.equal(503);
        expect(res.headers.get('retry-after')).to.equal('1');
        expect(await res.json()).to.deep.equal({ error: 'Service overloaded, retry shortly' });
      }
      expect((await fetch(`${server.url}/plain`, { headers: { 'X-Request-Id': 'plain-1' } })).status).to.equal(503);
      const broken = await fetch(`${server.url}/broken`, { headers: { 'X-Request-Id': 'bug-1' } });
      expect(broken.status).to.equal(500);
      expect(await broken.text()).to.not.contain('secret');
    } finally {
      await server.close();
    }
    const failed = lines().filter((l) => l.msg === 'request failed');
    expect(failed.map((l) => l.reqId)).to.deep.equal(['plain-1', 'bug-1']);
    expect(JSON.stringify(failed[1])).to.contain('catalog.secret');
    expect(lines().filter((l) => typeof l.reqId === 'string' && l.reqId.startsWith('shed-')).map((l) => l.status)).to.deep.equal([503, 503]);
  });
});
