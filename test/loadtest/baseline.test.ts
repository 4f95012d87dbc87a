import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pg from 'pg';
import { compressSync } from '../../src/catalog/compression';
import {
  answeredCoding,
  BROTLI_STATIC_MODULE,
  checkBaselineCoding,
  exportDocuments,
  nginxConf,
  startStaticBaseline,
  type StaticBaseline,
} from '../../loadtest/bench/baseline';
import { requireBinary } from '../support/binaries';
import { loadCatalog } from '../support/catalog';
import { FIXTURE } from '../support/fixture';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';

const ACCEPT = { 'Accept-Encoding': 'br, gzip' };

/** Status, Content-Encoding and the body's bytes as sent (not decoded). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; coding: string; vary: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, coding: res.headers['content-encoding'] ?? 'identity', vary: String(res.headers.vary ?? ''), body: Buffer.concat(chunks) }),
        );
      })
      .on('error', reject);
  });
}

describe('bench static baseline (nginx over exported documents)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let client: pg.Client;
  let dir: string;
  const started: StaticBaseline[] = [];
  before(async function () {
    requireBinary(this, 'nginx', 'nginx');
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-baseline-'));
    // nginx workers run as an unprivileged user and must read the exported bodies.
    fs.chmodSync(dir, 0o755);
  });
  afterEach(async () => {
    for (const b of started.splice(0)) await b.stop();
  });
  after(async () => {
    await client?.end();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when identity, then the rendered configuration is the one it always was: no static compression, no module', () => {
    const conf = nginxConf('/www', '/run', 8080, 2);
    expect(conf).not.to.match(/gzip_static|brotli_static|load_module|gzip_vary/);
    expect(conf.startsWith('\nworker_processes 2;')).to.equal(true);
    const br = nginxConf('/www', '/run', 8080, 2, 'br');
    // load_module is a main-context directive: before everything else.
    expect(br.startsWith(`\nload_module ${BROTLI_STATIC_MODULE};\nworker_processes 2;`)).to.equal(true);
    expect(br).to.include('gzip_static on;').and.include('brotli_static on;').and.include('gzip_vary on;');
    expect(nginxConf('/www', '/run', 8080, 2, 'gzip')).to.include('gzip_static on;').and.not.match(/brotli_static|load_module/);
  });

  it('when exported with codings, then each document has .br and .gz beside it: the bytes compressSync gives', async () => {
    const root = path.join(dir, 'www-export');
    const files = await exportDocuments(client, ['/products/1', '/products/1/styles', '/products/2/related', '/products?page=1&count=5'], root, ['br', 'gzip']);
    expect(files).to.equal(4);
    for (const file of ['p/1', 's/1', 'r/2', 'l/1-5']) {
      const identity = fs.readFileSync(path.join(root, file));
      expect(fs.readFileSync(path.join(root, `${file}.br`)).equals(compressSync('br', identity)), file).to.equal(true);
      expect(fs.readFileSync(path.join(root, `${file}.gz`)).equals(compressSync('gzip', identity)), file).to.equal(true);
      expect(zlib.brotliDecompressSync(fs.readFileSync(path.join(root, `${file}.br`))).equals(identity), file).to.equal(true);
    }
    const plain = path.join(dir, 'www-plain');
    await exportDocuments(client, ['/products/1'], plain);
    expect(fs.readdirSync(path.join(plain, 'p'))).to.deep.equal(['1']);
  });

  it('when precompressed, then clients accepting br get the .br bytes (gzip without the module), others identity; the identity baseline ignores Accept-Encoding', async () => {
    const root = path.join(dir, 'www-serve');
    await exportDocuments(client, ['/products/1/styles'], root, ['br', 'gzip']);
    const identityBody = fs.readFileSync(path.join(root, 's/1'));
    const notes: string[] = [];
    const compressed = await startStaticBaseline(root, path.join(dir, 'nginx-compressed'), await freePort(), 1, { precompressed: true, say: (l) => notes.push(l) });
    started.push(compressed);
    const expected = fs.existsSync(BROTLI_STATIC_MODULE) ? 'br' : 'gzip';
    expect(compressed.coding).to.equal(expected);
    expect(compressed.label).to.equal(`nginx static ${expected}`);
    // Without the module, a note says what the baseline serves instead.
    expect(notes.some((n) => n.includes('serves gzip_static'))).to.equal(expected === 'gzip');
    const answer = await get(`${compressed.url}/products/1/styles`, ACCEPT);
    expect(answer.status).to.equal(200);
    expect(answer.coding).to.equal(expected);
    expect(answer.vary).to.equal('Accept-Encoding');
    expect(answer.body.equals(fs.readFileSync(path.join(root, `s/1${expected === 'br' ? '.br' : '.gz'}`)))).to.equal(true);
    expect((await get(`${compressed.url}/products/1/styles`, { 'Accept-Encoding': 'gzip' })).coding).to.equal('gzip');
    const plainAnswer = await get(`${compressed.url}/products/1/styles`, {});
    expect([plainAnswer.coding, plainAnswer.body.equals(identityBody)]).to.deep.equal(['identity', true]);
    await checkBaselineCoding(compressed, '/products/1/styles', ACCEPT);

    const identity = await startStaticBaseline(root, path.join(dir, 'nginx-identity'), await freePort(), 1);
    started.push(identity);
    expect([identity.label, identity.coding]).to.deep.equal(['nginx static', 'identity']);
    expect(await answeredCoding(identity.url, '/products/1/styles', ACCEPT)).to.equal('identity');
    await checkBaselineCoding(identity, '/products/1/styles', undefined);
    // A scenario expecting compressed answers from it would measure the wrong bytes: refused.
    let refused: unknown;
    await checkBaselineCoding({ ...identity, coding: 'br' }, '/products/1/styles', ACCEPT).catch((err: unknown) => (refused = err));
    expect(String(refused)).to.match(/answered \/products\/1\/styles with Content-Encoding identity, not br/);
  });

  it('when the brotli module is missing or does not load, then the compressed baseline serves gzip_static and a note says so', async () => {
    const root = path.join(dir, 'www-fallback');
    await exportDocuments(client, ['/products/1'], root, ['br', 'gzip']);
    const broken = path.join(dir, 'not-a-module.so');
    fs.writeFileSync(broken, 'not an ELF file');
    for (const [module, note] of [[path.join(dir, 'missing.so'), /no .*missing\.so \(Debian: apt-get install libnginx-mod-http-brotli-static\)/], [broken, /brotli_static does not load/]] as const) {
      const notes: string[] = [];
      const baseline = await startStaticBaseline(root, path.join(dir, `nginx-${path.basename(module)}`), await freePort(), 1, { precompressed: true, say: (l) => notes.push(l), brotliModule: module });
      started.push(baseline);
      expect([baseline.label, baseline.coding]).to.deep.equal(['nginx static gzip', 'gzip']);
      expect(notes).to.have.length(1);
      expect(notes[0]).to.match(note).and.match(/serves gzip_static, not br$/);
      expect(await answeredCoding(baseline.url, '/products/1', ACCEPT)).to.equal('gzip');
    }
  });
});
