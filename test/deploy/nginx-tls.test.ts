import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import type http from 'node:http';
import tls from 'node:tls';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { HSTS_VALUE, type NginxTls } from '../../src/fleet/nginx-tls';
import { findBinary, requireTool } from '../support/binaries';
import { makeTestCertificate, type TestCertificate } from '../support/certificate';
import { h2get } from '../support/http2';
import { json, nginxPerTest, request, type Balancer } from './nginx-harness';

const execFileAsync = promisify(execFile);
const BODY = { id: 1, name: 'Camo Onesie', slogan: 'Blend in to your crowd' };

/** A TLS handshake with the given version range; resolves with the socket (open), rejects when refused. */
function handshake(url: string, ca: string, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca, ...opts }, () => resolve(socket));
    socket.setTimeout(15_000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
  });
}

/** Connects, waits for the session nginx hands out, and closes; the session to resume with. */
async function firstSession(
  url: string,
  ca: string,
  version: tls.SecureVersion,
): Promise<{ session: Buffer; ticket: Buffer | undefined }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca, minVersion: version, maxVersion: version });
    socket.setTimeout(15_000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
    // TLS 1.3 sends its session after the handshake: wait for it, not for secureConnect.
    socket.once('session', (session: Buffer) => {
      const ticket = socket.getTLSTicket();
      socket.end();
      resolve({ session, ticket });
    });
  });
}

describe('nginx with a certificate: HTTPS and HTTP/2 (real nginx, stand-in instance)', function () {
  this.timeout(60_000);
  const { upstream, balancer } = nginxPerTest();
  let cert: TestCertificate;
  const tlsWith = (extra: Partial<NginxTls> = {}): NginxTls => ({
    cert: cert.certFile,
    key: cert.keyFile,
    hsts: false,
    ...extra,
  });

  before(function () {
    cert = makeTestCertificate(this);
  });
  after(() => cert?.remove());

  it("when a client speaks HTTP/2 over TLS, then ALPN picks h2 on TLS 1.2 or 1.3 and it gets the instance's answer as sent, without HSTS", async () => {
    const u = await upstream(json(200, BODY));
    const lb = await balancer([u.address], { tls: tlsWith() });
    expect(lb.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await h2get(`${lb.url}/products/1`, cert.pem);
    expect(res.alpn).to.equal('h2');
    expect(res.protocol).to.be.oneOf(['TLSv1.2', 'TLSv1.3']);
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal(JSON.stringify(BODY));
    expect(res.headers['strict-transport-security']).to.equal(undefined);
    // The instance learns that the client used HTTPS (over HTTP/1.1 from nginx, as always).
    expect(u.requests[0]!.headers['x-forwarded-proto']).to.equal('https');
    const healthz = await h2get(`${lb.url}/healthz`, cert.pem);
    expect(healthz.status).to.equal(200);
    expect(healthz.headers['strict-transport-security']).to.equal(undefined);
  });

  it('when curl asks for HTTP/2, then it is answered in HTTP/2', async function () {
    const curl = findBinary('curl');
    const features = curl === undefined ? '' : spawnSync(curl, ['--version'], { encoding: 'utf8' }).stdout;
    requireTool(this, /^Features:.*\bHTTP2\b/m.test(features) ? curl : undefined, 'curl with HTTP/2 (nghttp2)', 'curl');
    const u = await upstream(json(200, BODY));
    const lb = await balancer([u.address], { tls: tlsWith() });
    // Not spawnSync: the stand-in instance runs in this process and must answer meanwhile.
    const { stdout } = await execFileAsync(
      curl!,
      [
        '--http2',
        '-k',
        '-s',
        '-S',
        '-o',
        '/dev/null',
        '-w',
        '%{http_version} %{http_code}',
        '--max-time',
        '15',
        `${lb.url}/products/1`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(stdout).to.equal('2 200');
  });

  it("when HSTS is on, then every answer carries Strict-Transport-Security once: proxied, /healthz, refused paths and nginx's own 503", async () => {
    // /down: the instance drops the connection, so nginx answers its own JSON 503.
    const u = await upstream((req, res) => (req.url === '/down' ? req.socket.destroy() : json(200, BODY)(req, res)));
    const lb = await balancer([u.address], { tls: tlsWith({ hsts: true }) });
    const answers: Array<[string, number]> = [
      ['/products/1', 200],
      ['/readyz', 200],
      ['/healthz', 200],
      ['/metrics', 404],
      ['/down', 503],
    ];
    for (const [path, status] of answers) {
      const res = await h2get(`${lb.url}${path}`, cert.pem);
      expect(res.status, path).to.equal(status);
      // node joins repeated headers with ", ": equality means exactly one.
      expect(res.headers['strict-transport-security'], path).to.equal(HSTS_VALUE);
    }
    expect(HSTS_VALUE).to.equal('max-age=63072000');
  });

  it("when a client speaks plain HTTP to the HTTPS port, then it gets a JSON 400 saying so, like nginx's other errors", async () => {
    const u = await upstream();
    const lb = await balancer([u.address], { tls: tlsWith() });
    const res = await request(`${lb.url.replace('https:', 'http:')}/products/1`);
    expect(res.status).to.equal(400);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(JSON.parse(res.body.toString())).to.deep.equal({ error: 'This port speaks HTTPS only' });
    expect(res.headers['access-control-allow-origin']).to.equal('*');
    expect(u.requests).to.have.length(0);
  });

  it('when a client offers TLS 1.2 or 1.3, then the handshake succeeds; when it offers at most TLS 1.1, then nginx refuses it', async () => {
    const u = await upstream();
    const lb = await balancer([u.address], { tls: tlsWith() });
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const socket = await handshake(lb.url, cert.pem, { minVersion: version, maxVersion: version });
      expect(socket.getProtocol(), version).to.equal(version);
      socket.destroy();
    }
    // SECLEVEL=0: this client itself would allow TLS 1.0/1.1, so the refusal is nginx's.
    const old = await handshake(lb.url, cert.pem, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    }).then(
      (socket) => {
        const protocol = socket.getProtocol();
        socket.destroy();
        return `accepted ${protocol}`;
      },
      (err: NodeJS.ErrnoException) => `refused: ${err.code ?? err.message}`,
    );
    expect(old).to.match(/^refused: /);
  });

  it('when a client comes back with its session, then nginx resumes it from the shared cache, on TLS 1.2 without a ticket and on TLS 1.3', async () => {
    const u = await upstream();
    const lb = await balancer([u.address], { tls: tlsWith() });
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const { session, ticket } = await firstSession(lb.url, cert.pem, version);
      // TLS 1.2 tickets hold the session encrypted under nginx's key; with tickets off the
      // client only gets a session id, which resumes from the cache.
      if (version === 'TLSv1.2') expect(ticket, 'a TLS 1.2 session ticket').to.equal(undefined);
      const again = await handshake(lb.url, cert.pem, { minVersion: version, maxVersion: version, session });
      expect(again.isSessionReused(), `${version} resumed`).to.equal(true);
      again.destroy();
    }
  });

  it('when an instance answers with a gzip body over HTTP/2, then the client gets those bytes and the instance got its Accept-Encoding', async () => {
    const gzipped = zlib.gzipSync(
      Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ ...BODY, id: i })))),
    );
    const u = await upstream((_req, res: http.ServerResponse) => {
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Encoding': 'gzip',
        Vary: 'Accept-Encoding',
        ETag: '"g"',
      });
      res.end(gzipped);
    });
    const lb = await balancer([u.address], { tls: tlsWith() });
    const res = await h2get(`${lb.url}/products?page=1&count=200`, cert.pem, {
      'accept-encoding': 'gzip, deflate, br',
    });
    expect(res.headers['content-encoding']).to.equal('gzip');
    expect(res.body.equals(gzipped), 'the bytes the instance sent').to.equal(true);
    expect(res.headers.etag).to.equal('"g"');
    expect(u.requests[0]!.headers['accept-encoding']).to.equal('gzip, deflate, br');
  });

  it('when no certificate is given, then the same port speaks plain HTTP and a TLS handshake fails', async () => {
    const u = await upstream();
    const lb: Balancer = await balancer([u.address]);
    expect(lb.url).to.match(/^http:\/\//);
    const refused = await handshake(lb.url.replace('http:', 'https:'), cert.pem, {}).then(
      (socket) => {
        socket.destroy();
        return false;
      },
      () => true,
    );
    expect(refused, 'TLS on the plain port').to.equal(true);
    // And a port nobody listens on is no proof: the plain port does answer HTTP.
    expect((await fetch(`${lb.url}/healthz`)).status).to.equal(200);
  });
});
