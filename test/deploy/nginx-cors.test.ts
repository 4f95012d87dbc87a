import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { findNginx, testNginxConfig } from '../../src/fleet/nginx';
import { freePort } from '../../src/fleet/process';
import { nginxPerTest, request, type Balancer } from './nginx-harness';

const SHOP = 'https://shop.example';
const EXPOSE = 'ETag, X-Request-Id, Retry-After';

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

/** Every way nginx answers by itself, without an instance's answer: [what, status, path, request options]. */
async function ownAnswers(lb: Balancer, origin: string): Promise<Array<[string, Answer]>> {
  const headers = { Origin: origin };
  const answers: Array<[string, Answer]> = [
    ['healthz', await request(`${lb.url}/healthz`, { headers })],
    ['refused /metrics', await request(`${lb.url}/metrics`, { headers })],
    ['503: no instance answers', await request(`${lb.url}/products/1`, { headers })],
    // A request line longer than nginx's buffers (8 KiB): answered before any URI exists.
    ['414', await request(`${lb.url}/products/1?q=${'x'.repeat(9000)}`, { headers })],
    ['400: a header line too large', await request(`${lb.url}/products/1`, { headers: { ...headers, 'X-Big': 'y'.repeat(9000) } })],
  ];
  // 429: a stranger address (127.0.0.2) beyond rate and burst, as browsers would see it.
  let limited: Answer | undefined;
  for (let batch = 0; batch < 10 && limited === undefined; batch++) {
    const all = await Promise.all(Array.from({ length: 25 }, () => request(`${lb.url}/products/1`, { headers, localAddress: '127.0.0.2' })));
    limited = all.find((a) => a.status === 429);
  }
  expect(limited, 'a 429 from the rate limit').to.not.equal(undefined);
  answers.push(['429', limited!]);
  return answers;
}

describe('nginx and CORS (real nginx, stand-in instances)', function () {
  this.timeout(60_000);
  const { upstream, balancer, defer } = nginxPerTest();
  it("when an instance answers with CORS headers, then they pass through unchanged and only once, preflights included", async () => {
    const u = await upstream((req, res) => {
      const preflight = req.method === 'OPTIONS';
      res.writeHead(preflight ? 204 : 200, {
        'Access-Control-Allow-Origin': SHOP,
        'Access-Control-Expose-Headers': EXPOSE,
        Vary: 'Origin',
        ...(preflight ? { 'Access-Control-Allow-Headers': 'authorization', 'Access-Control-Max-Age': '86400' } : { 'Content-Type': 'application/json; charset=utf-8' }),
      });
      res.end(preflight ? undefined : '{"id":1}');
    });
    // nginx set for the same list as the instance: its own headers never add to the instance's.
    const lb = await balancer([u.address], { corsAllowOrigins: [SHOP] });
    for (const method of ['GET', 'OPTIONS']) {
      const res = await request(`${lb.url}/products/1`, {
        method,
        headers: { Origin: SHOP, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      });
      expect(res.status, method).to.equal(method === 'GET' ? 200 : 204);
      // node joins repeated headers with ", ": equality means exactly one.
      expect(res.headers['access-control-allow-origin'], method).to.equal(SHOP);
      expect(res.headers['access-control-expose-headers'], method).to.equal(EXPOSE);
      // Instances may add Accept-Encoding to their Vary; Origin must be in it.
      expect(res.headers.vary?.split(/,\s*/), method).to.include('Origin');
      if (method === 'OPTIONS') expect(res.headers['access-control-allow-headers']).to.equal('authorization');
    }
    expect(u.requests.map((r) => r.method)).to.deep.equal(['GET', 'OPTIONS']);
    expect(u.requests[1]!.headers['access-control-request-headers'], 'the preflight reached the instance as sent').to.equal('authorization');
  });

  it('when nginx answers itself and every origin is allowed, then each answer carries Allow-Origin * and the exposed headers', async () => {
    // Nothing listens at the upstream: documents are nginx's 503.
    const lb = await balancer([`127.0.0.1:${await freePort()}`]);
    const answers = await ownAnswers(lb, SHOP);
    expect(answers.map(([what, res]) => [what, res.status])).to.deep.equal([
      ['healthz', 200],
      ['refused /metrics', 404],
      ['503: no instance answers', 503],
      ['414', 414],
      ['400: a header line too large', 400],
      ['429', 429],
    ]);
    for (const [what, res] of answers) {
      expect(res.headers['content-type'], what).to.match(/^application\/json/);
      expect(JSON.parse(res.body.toString()), what).to.be.an('object');
      expect(res.headers['access-control-allow-origin'], what).to.equal('*');
      expect(res.headers['access-control-expose-headers'], what).to.equal(EXPOSE);
      expect(res.headers['access-control-allow-credentials'], what).to.equal(undefined);
      expect(res.headers.vary, what).to.equal(undefined);
    }
  });

  it('when nginx answers itself and origins are listed, then a listed origin is echoed and another gets none, both with Vary: Origin', async () => {
    const lb = await balancer([`127.0.0.1:${await freePort()}`], { corsAllowOrigins: [SHOP, 'http://localhost:5173'] });
    for (const [what, res] of await ownAnswers(lb, SHOP)) {
      expect(res.headers.vary, what).to.equal('Origin');
      // A request line too long to read ends before nginx reads any header, Origin included:
      // only "*" can be answered then.
      if (what === '414') {
        expect(res.headers['access-control-allow-origin'], what).to.equal(undefined);
        continue;
      }
      expect(res.headers['access-control-allow-origin'], what).to.equal(SHOP);
      expect(res.headers['access-control-expose-headers'], what).to.equal(EXPOSE);
      expect(res.headers.vary, what).to.equal('Origin');
    }
    const stranger = await request(`${lb.url}/products/1`, { headers: { Origin: 'https://elsewhere.example' } });
    expect(stranger.status).to.equal(503);
    expect(stranger.headers['access-control-allow-origin']).to.equal(undefined);
    expect(stranger.headers['access-control-expose-headers']).to.equal(undefined);
    expect(stranger.headers.vary).to.equal('Origin');
  });

  it('when nginx-config is given --cors-allow-origins, then nginx accepts what it writes; a bad origin is refused', async () => {
    const cli = path.resolve(__dirname, '../../dist/src/fleet/cli.js');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-nginx-cors-'));
    defer(async () => fs.rmSync(out, { recursive: true, force: true }));
    const base = ['nginx-config', '--out', out, '--upstream', '10.0.0.5:3000', '--listen', String(await freePort())];
    const ok = spawnSync(process.execPath, [cli, ...base, '--cors-allow-origins', `${SHOP},http://[::1]:5173`], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).to.equal(0);
    const conf = fs.readFileSync(path.join(out, 'nginx.conf'), 'utf8');
    expect(conf).to.include(`"${SHOP}" "${SHOP}";`);
    expect(conf).to.include('"http://[::1]:5173" "http://[::1]:5173";');
    await testNginxConfig(findNginx()!, out, path.join(out, 'nginx.conf'));

    const bad = spawnSync(process.execPath, [cli, ...base, '--cors-allow-origins', 'https://shop.example/"; include /etc/passwd'], { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('--cors-allow-origins must be * or a comma-separated list of origins');
  });
});
