import { expect } from 'chai';
import type http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { nginxPerTest, request } from './nginx-harness';

// A page of products as JSON: well over nginx's 1 KiB gzip_min_length, compressed or not.
const DOCUMENT = Buffer.from(
  JSON.stringify(
    Array.from({ length: 300 }, (_, i) => ({
      id: i,
      name: `Product ${i}`,
      slogan: `Blend in to your crowd, number ${i * 7919}`,
    })),
  ),
);
const ENCODED = { gzip: zlib.gzipSync(DOCUMENT), br: zlib.brotliCompressSync(DOCUMENT), identity: DOCUMENT };
type Coding = keyof typeof ENCODED;
const ETAG: Record<Coding, string> = { gzip: '"doc-gzip"', br: '"doc-br"', identity: '"doc"' };

/** What an instance answers: one document in `coding`, as the service sends it (`vary: false`: without its Vary). */
function answer(
  res: http.ServerResponse,
  coding: Coding,
  opts: { extra?: Record<string, string>; vary?: boolean } = {},
): void {
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(ENCODED[coding].length),
    ETag: ETAG[coding],
    ...(opts.vary !== false && { Vary: 'Accept-Encoding' }),
    ...(coding !== 'identity' && { 'Content-Encoding': coding }),
    ...opts.extra,
  });
  res.end(ENCODED[coding]);
}

/** The coding a stand-in instance picks: br, then gzip, among those listed with q > 0; else identity. */
function negotiate(acceptEncoding: string | undefined): Coding {
  const accepted = new Set<string>();
  for (const element of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = element.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (name && (q === undefined || Number(q.slice(2)) > 0)) accepted.add(name);
  }
  return accepted.has('br') ? 'br' : accepted.has('gzip') ? 'gzip' : 'identity';
}

/** The coding of a body received, by comparing bytes with what the instance can send. */
const codingOf = (body: Buffer): Coding | 'other' =>
  (Object.keys(ENCODED) as Coding[]).find((c) => ENCODED[c].equals(body)) ?? 'other';

/** One raw HTTP/1.1 request (the head exactly as given): node's client cannot repeat a header. */
function rawRequest(port: number, head: string): Promise<{ headers: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // write, not end: nginx takes a half-closed connection for a client that left (499).
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error('timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      resolve({ headers: all.subarray(0, end).toString('latin1'), body: all.subarray(end + 4) });
    });
  });
}

describe('nginx and content codings (real nginx, stand-in instances)', function () {
  this.timeout(30_000);
  const { upstream, balancer } = nginxPerTest();

  it('when an instance answers with a gzip or br body, then nginx passes it byte for byte with its Content-Encoding, Vary and strong ETag', async () => {
    for (const coding of ['gzip', 'br'] as const) {
      const u = await upstream((_req, res) => answer(res, coding));
      const lb = await balancer([u.address]);
      const res = await request(`${lb.url}/products/1`, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
      expect(res.status, coding).to.equal(200);
      expect(res.headers['content-encoding'], coding).to.equal(coding);
      expect(res.body.equals(ENCODED[coding]), `${coding}: the bytes the instance sent`).to.equal(true);
      // A strong tag stays strong: nginx's gzip would have weakened it (W/"…").
      expect(res.headers.etag, coding).to.equal(ETAG[coding]);
      // node joins repeated headers with ", ": equality means nginx added no Vary of its own.
      expect(res.headers.vary, coding).to.equal('Accept-Encoding');
    }
  });

  it('when a client sends Accept-Encoding, then the instance gets exactly that value; when it sends none, the instance gets none', async () => {
    const u = await upstream((_req, res) => answer(res, 'identity'));
    const lb = await balancer([u.address]);
    const sent = ['gzip, deflate, br, zstd', 'br;q=0, gzip;q=0.8, identity;q=0.1', '*', 'identity'];
    for (const value of sent) await request(`${lb.url}/products/1`, { headers: { 'Accept-Encoding': value } });
    await request(`${lb.url}/products/1`);
    expect(u.requests.map((r) => r.headers['accept-encoding'])).to.deep.equal([...sent, undefined]);
  });

  it('when an instance answers identity JSON over 1 KiB and the client accepts gzip, then nginx does not compress it, behind a CDN (Via) or not', async () => {
    const u = await upstream((_req, res) => answer(res, 'identity'));
    const lb = await balancer([u.address]);
    const clients: Array<Record<string, string>> = [
      { 'Accept-Encoding': 'gzip' },
      { 'Accept-Encoding': 'gzip, br', Via: '1.1 cdn.example' },
    ];
    for (const headers of clients) {
      const res = await request(`${lb.url}/products?page=1&count=300`, { headers });
      const what = JSON.stringify(headers);
      expect(res.status, what).to.equal(200);
      expect(res.headers['content-encoding'], what).to.equal(undefined);
      expect(res.body.equals(DOCUMENT), `${what}: the instance's bytes`).to.equal(true);
      expect(res.headers.etag, what).to.equal(ETAG.identity);
      expect(res.headers.vary, what).to.equal('Accept-Encoding');
    }
  });

  describe('with the microcache', () => {
    // The stand-in asks nginx to keep each answer 60 s (X-Accel-Expires outranks the 1 s of
    // proxy_cache_valid), so a slow machine cannot expire an entry between two steps.
    const KEEP = { 'X-Accel-Expires': '60' };

    // nginx's cache also keeps variants apart by the answer's Vary; without one (an answer
    // that forgot it), only the cache key can.
    for (const vary of [true, false]) {
      it(`when clients with different Accept-Encoding ask for one URL, then each gets its own variant, from the cache the second time (answers ${vary ? 'with' : 'without'} Vary)`, async () => {
        const u = await upstream((req, res) =>
          answer(res, negotiate(req.headers['accept-encoding']), { extra: KEEP, vary }),
        );
        const lb = await balancer([u.address], { microcache: true });
        // `br;q=0` refuses br: a key that only looked for "br" in the header would hand it br.
        const clients: Array<[string | undefined, Coding]> = [
          ['gzip', 'gzip'],
          ['identity', 'identity'],
          ['br', 'br'],
          ['br;q=0, gzip;q=0', 'identity'],
          [undefined, 'identity'],
        ];
        for (const round of ['MISS', 'HIT']) {
          for (const [acceptEncoding, coding] of clients) {
            const res = await request(`${lb.url}/products/7`, {
              headers: acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding },
            });
            const what = `${round} round, Accept-Encoding ${acceptEncoding}`;
            expect(res.headers['x-cache'], what).to.equal(round);
            expect(codingOf(res.body), what).to.equal(coding);
            expect(res.headers['content-encoding'], what).to.equal(coding === 'identity' ? undefined : coding);
            expect(res.headers.etag, what).to.equal(ETAG[coding]);
          }
        }
        expect(
          u.requests.map((r) => r.headers['accept-encoding']),
          'one request per variant',
        ).to.deep.equal(clients.map(([ae]) => ae));
      });
    }

    it('when a client sends two Accept-Encoding lines, then the instance gets one line, the value the cache key holds, and an identity client still gets identity', async () => {
      const lines: string[][] = [];
      const u = await upstream((req, res) => {
        // Raw lines: node itself would join two Accept-Encoding lines into one value.
        lines.push(
          req.rawHeaders.filter((_, i) => i % 2 === 1 && req.rawHeaders[i - 1]!.toLowerCase() === 'accept-encoding'),
        );
        answer(res, negotiate(req.headers['accept-encoding']), { extra: KEEP });
      });
      const lb = await balancer([u.address], { microcache: true });
      // nginx 1.22 keys on the first line ("identity"); had the instance seen both lines it
      // would answer gzip, stored under the identity key.
      const twoLines = await rawRequest(
        Number(new URL(lb.url).port),
        'GET /products/8 HTTP/1.1\r\nHost: shop\r\nAccept-Encoding: identity\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n',
      );
      expect(twoLines.headers).to.match(/^HTTP\/1\.1 200 /);
      expect(lines[0], 'Accept-Encoding lines the instance got').to.have.length(1);
      expect(codingOf(twoLines.body), 'what the instance answered that one line').to.equal(negotiate(lines[0]![0]));
      const identity = await request(`${lb.url}/products/8`, { headers: { 'Accept-Encoding': 'identity' } });
      expect(codingOf(identity.body), 'an identity client after it').to.equal('identity');
      expect(identity.headers['content-encoding']).to.equal(undefined);
    });
  });
});
