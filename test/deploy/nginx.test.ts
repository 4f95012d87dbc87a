import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderUpstreams, sharedNginxDir } from '../../src/fleet/nginx-config';
import { findNginx, testNginxConfig } from '../../src/fleet/nginx';
import { freePort } from '../../src/fleet/process';
import { json, nginxPerTest, request } from './nginx-harness';

describe('nginx configuration (real nginx, stand-in instances)', function () {
  this.timeout(30_000);
  const { upstream, balancer, defer } = nginxPerTest();

  describe('nginx -t', () => {
    it('when the compose configuration is tested (its `app` host pointed at loopback), then nginx accepts it', async () => {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-nginx-compose-'));
      defer(async () => fs.rmSync(copy, { recursive: true, force: true }));
      fs.cpSync(sharedNginxDir(), path.join(copy, 'nginx'), { recursive: true });
      const upstreamFile = path.join(copy, 'nginx', 'compose', 'upstream.conf');
      const original = fs.readFileSync(upstreamFile, 'utf8');
      // No Docker DNS here: `app` cannot resolve, and nginx resolves upstream names at -t.
      expect(original).to.match(/^server app:3000 /m);
      fs.writeFileSync(upstreamFile, original.replace(/^server app:3000 /m, 'server 127.0.0.1:3000 '));
      await testNginxConfig(findNginx()!, copy, path.join(copy, 'nginx', 'compose', 'nginx.conf'));
    });

    it('when a bare-metal configuration is written by the CLI, then nginx accepts it, with and without microcache', async () => {
      for (const microcache of [false, true]) {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-nginx-cli-'));
        defer(async () => fs.rmSync(out, { recursive: true, force: true }));
        const args = ['nginx-config', '--out', out, '--upstream', '10.0.0.5:3000', '--upstream', '10.0.0.6:3000,10.0.0.7:3000', '--listen', String(await freePort())];
        execFileSync(process.execPath, [path.resolve(__dirname, '../../dist/src/fleet/cli.js'), ...args, ...(microcache ? ['--microcache'] : [])]);
        expect(fs.readFileSync(path.join(out, 'upstream.conf'), 'utf8').match(/^server 10\.0\.0\.\d:3000 max_fails=2 fail_timeout=5s;$/gm)).to.have.length(3);
        await testNginxConfig(findNginx()!, out, path.join(out, 'nginx.conf'));
      }
    });

    it('when an upstream address would inject configuration, then rendering refuses it', () => {
      expect(() => renderUpstreams(['127.0.0.1:1; include /etc/passwd'])).to.throw(/invalid upstream/);
    });

    it('when an upstream port is outside 1-65535, then rendering refuses it (nginx would, at start)', () => {
      for (const bad of ['127.0.0.1:0', '127.0.0.1:65536', '[::1]:99999']) expect(() => renderUpstreams([bad]), bad).to.throw(/invalid upstream/);
      expect(renderUpstreams(['127.0.0.1:65535', '[::1]:1'])).to.include('server [::1]:1 ');
    });
  });

  describe('retries on the next instance', () => {
    it('when an instance answers 503 to a GET, then the client gets the next instance\'s 200', async () => {
      const sick = await upstream(json(503, { error: 'Service temporarily unavailable' }));
      const well = await upstream();
      const lb = await balancer([sick.address, well.address]);
      for (let i = 0; i < 6; i++) expect((await request(`${lb.url}/products/1`)).status).to.equal(200);
      expect(sick.requests.length, 'the failing instance was tried').to.be.at.least(1);
    });

    it('when every instance answers 503, then a GET is tried exactly twice and the last 503 reaches the client', async () => {
      const a = await upstream(json(503, { error: 'Service temporarily unavailable' }));
      const b = await upstream(json(503, { error: 'Service temporarily unavailable' }));
      const c = await upstream(json(503, { error: 'Service temporarily unavailable' }));
      const lb = await balancer([a.address, b.address, c.address]);
      const res = await request(`${lb.url}/products/1`);
      expect(res.status).to.equal(503);
      expect(a.requests.length + b.requests.length + c.requests.length).to.equal(2);
    });

    it('when an instance answers 502, then the GET is retried on the next one', async () => {
      const bad = await upstream(json(502, { error: 'bad gateway' }));
      const lb = await balancer([bad.address, (await upstream()).address]);
      for (let i = 0; i < 4; i++) expect((await request(`${lb.url}/products/2`)).status).to.equal(200);
      expect(bad.requests.length).to.be.at.least(1);
    });

    it('when an instance refuses connections, then GETs are answered by the others', async () => {
      const dead = `127.0.0.1:${await freePort()}`;
      const lb = await balancer([dead, (await upstream()).address]);
      for (let i = 0; i < 6; i++) expect((await request(`${lb.url}/products/3`)).status).to.equal(200);
    });

    it('when an instance drops the connection without answering, then the GET is retried', async () => {
      const rude = await upstream((req) => req.socket.destroy());
      const lb = await balancer([rude.address, (await upstream()).address]);
      for (let i = 0; i < 4; i++) expect((await request(`${lb.url}/products/4`)).status).to.equal(200);
      expect(rude.requests.length).to.be.at.least(1);
    });

    it('when an instance does not answer within proxy_read_timeout (10 s), then the GET is retried on the next one', async function () {
      this.timeout(40_000);
      const mute = await upstream(() => undefined);
      const lb = await balancer([mute.address, (await upstream()).address]);
      // Two at once: least_conn sends one of them to each instance.
      const answers = await Promise.all([request(`${lb.url}/products/5`), request(`${lb.url}/products/6`)]);
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200]);
      expect(mute.requests.length, 'the silent instance was tried').to.be.at.least(1);
    });

    it('when a POST gets 503, then it is not retried (not idempotent)', async () => {
      const a = await upstream(json(503, { error: 'Service temporarily unavailable' }));
      const b = await upstream(json(503, { error: 'Service temporarily unavailable' }));
      const lb = await balancer([a.address, b.address]);
      expect((await request(`${lb.url}/products/1`, { method: 'POST' })).status).to.equal(503);
      expect(a.requests.length + b.requests.length).to.equal(1);
    });

    it('when no instance can be reached, then the client gets a JSON 503 with Retry-After', async () => {
      const lb = await balancer([`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]);
      const res = await request(`${lb.url}/products/1`);
      expect(res.status).to.equal(503);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.headers['retry-after']).to.equal('1');
      expect(JSON.parse(res.body.toString())).to.deep.equal({ error: 'Service temporarily unavailable' });
    });
  });

  describe('what clients can reach', () => {
    it('when /healthz is asked, then nginx answers it itself, without an instance', async () => {
      const u = await upstream();
      const lb = await balancer([u.address]);
      const res = await request(`${lb.url}/healthz`);
      expect(res.status).to.equal(200);
      expect(JSON.parse(res.body.toString())).to.deep.equal({ status: 'ok' });
      expect(u.requests).to.have.length(0);
    });

    it('when /readyz is asked, then it is proxied (and a not-ready instance is skipped)', async () => {
      const notReady = await upstream(json(503, { error: 'Not ready' }));
      const ready = await upstream(json(200, { status: 'ready' }));
      const lb = await balancer([notReady.address, ready.address]);
      for (let i = 0; i < 4; i++) expect((await request(`${lb.url}/readyz`)).status).to.equal(200);
      expect(ready.requests.every((r) => r.url === '/readyz')).to.equal(true);
    });

    it('when /metrics or /admin/… is asked, then nginx answers 404 JSON and no instance sees it', async () => {
      const u = await upstream();
      const lb = await balancer([u.address]);
      for (const p of ['/metrics', '/metrics/', '/admin', '/admin/reload', '/debug/pprof', '/internal']) {
        const res = await request(`${lb.url}${p}`);
        expect(res.status, p).to.equal(404);
        expect(JSON.parse(res.body.toString())).to.deep.equal({ error: 'Not found' });
      }
      expect(u.requests).to.have.length(0);
    });

    it('when stub_status is asked, then only the private listener serves it', async () => {
      const u = await upstream(json(404, { error: 'Not found' }));
      const lb = await balancer([u.address]);
      const privateRes = await request(lb.statusUrl);
      expect(privateRes.status).to.equal(200);
      expect(privateRes.body.toString()).to.match(/^Active connections: \d+/);
      const publicRes = await request(`${lb.url}/stub_status`);
      expect(publicRes.body.toString()).not.to.match(/Active connections/);
    });

    it('when one client address floods, then it gets JSON 429s while an exempt address does not', async () => {
      const u = await upstream();
      const lb = await balancer([u.address]);
      // 127.0.0.2 is a stranger to the limit; 127.0.0.1 is the exempt host itself.
      // 250 requests, 25 at a time (under the 100-connection limit), as fast as they go.
      const flood = async (localAddress: string): Promise<Array<{ status: number; headers: Record<string, unknown>; body: Buffer }>> => {
        const all = [];
        for (let batch = 0; batch < 10; batch++) {
          all.push(...(await Promise.all(Array.from({ length: 25 }, () => request(`${lb.url}/products/1`, { localAddress })))));
        }
        return all;
      };
      const stranger = await flood('127.0.0.2');
      const limited = stranger.filter((r) => r.status === 429);
      expect(limited.length, 'requests refused beyond rate + burst').to.be.greaterThan(0);
      expect(stranger.filter((r) => r.status === 200).length, 'the burst is served').to.be.at.least(100);
      expect(JSON.parse(limited[0]!.body.toString())).to.deep.equal({ error: 'Too many requests' });
      expect(limited[0]!.headers['retry-after']).to.equal('1');
      const host = await flood('127.0.0.1');
      expect(host.every((r) => r.status === 200)).to.equal(true);
    });
  });

  describe('proxying', () => {
    // Content codings (the instances compress, nginx passes bodies through): nginx-encoding.test.ts.

    it('when requests follow each other, then nginx reuses its connections to the instance and forwards a request id', async () => {
      const u = await upstream();
      const lb = await balancer([u.address]);
      for (let i = 0; i < 40; i++) await request(`${lb.url}/products/${i + 1}`);
      expect(u.requests).to.have.length(40);
      expect(u.connections, 'upstream TCP connections for 40 requests').to.be.at.most(4);
      expect(u.requests[0]!.headers['x-request-id']).to.match(/^[0-9a-f]{32}$/);
      expect(u.requests[0]!.headers['x-forwarded-for']).to.equal('127.0.0.1');
    });

    // Five identical GETs at once: with the cache, one goes to the instance while the
    // others wait on the cache lock and are served from what it answered.
    const fiveAtOnce = (url: string): Promise<Array<{ status: number; headers: Record<string, unknown> }>> =>
      Promise.all(Array.from({ length: 5 }, () => request(`${url}/products/1`)));

    it('when the microcache is off (the default), then every GET reaches an instance', async () => {
      const u = await upstream();
      const lb = await balancer([u.address]);
      const answers = await fiveAtOnce(lb.url);
      expect(answers.every((a) => a.status === 200 && a.headers['x-cache'] === undefined)).to.equal(true);
      expect(u.requests).to.have.length(5);
    });

    it('when the microcache is on, then identical concurrent GETs cost the instance one request', async () => {
      const u = await upstream();
      const lb = await balancer([u.address], { microcache: true });
      const answers = await fiveAtOnce(lb.url);
      expect(answers.every((a) => a.status === 200)).to.equal(true);
      expect(answers.map((a) => a.headers['x-cache']).sort()).to.deep.equal(['HIT', 'HIT', 'HIT', 'HIT', 'MISS']);
      expect(u.requests).to.have.length(1);
    });
  });
});
