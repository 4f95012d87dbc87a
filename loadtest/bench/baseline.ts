import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type pg from 'pg';
import { compressSync, type Coding } from '../../src/catalog/compression';
import { PAGE_STATEMENT } from '../../src/catalog/documents';
import { findNginx, startNginx, testNginxConfig } from '../../src/fleet/nginx';

/**
 * The hardware-limit baseline: nginx serving the very same JSON bodies as static files, for
 * the paths a scenario requests. Bodies are exported from the document views, so the bytes
 * on the wire are identical to the service's; for the compressed scenario, with `X.br` and
 * `X.gz` beside each file `X`, compressed as the service compresses them (`compressSync`).
 */
export interface StaticBaseline {
  url: string;
  /** For the report: `nginx static`, or with precompressed files `nginx static br` / `nginx static gzip`. */
  label: string;
  /** The content coding it answers `Accept-Encoding: br, gzip` with. */
  coding: Coding | 'identity';
  stop(): Promise<void>;
}

// Debian's brotli_static module (package libnginx-mod-http-brotli-static). Without it the
// compressed baseline serves gzip_static alone.
export const BROTLI_STATIC_MODULE = '/usr/lib/nginx/modules/ngx_http_brotli_static_module.so';
// File suffixes nginx's *_static modules look for.
const SUFFIX: Record<Coding, string> = { br: '.br', gzip: '.gz' };

/** Writes `body` to `file` as the service would send it (UTF-8), and compressed beside it in each of `codings`. */
function writeDocument(file: string, body: string, codings: readonly Coding[]): void {
  const bytes = Buffer.from(body, 'utf8');
  fs.writeFileSync(file, bytes);
  for (const coding of codings) fs.writeFileSync(file + SUFFIX[coding], compressSync(coding, bytes));
}

const ROUTES: Array<{ re: RegExp; dir: string; view: string }> = [
  { re: /^\/products\/(\d+)$/, dir: 'p', view: 'product_doc' },
  { re: /^\/products\/(\d+)\/styles$/, dir: 's', view: 'styles_doc' },
  { re: /^\/products\/(\d+)\/related$/, dir: 'r', view: 'related_doc' },
];
const LISTING = /^\/products\?page=(\d+)&count=(\d+)$/;

/**
 * Writes every distinct document of `paths` under `root` in the layout the nginx config maps,
 * each also compressed in `codings` beside it. Returns the number of documents.
 */
export async function exportDocuments(db: pg.ClientBase, paths: string[], root: string, codings: readonly Coding[] = []): Promise<number> {
  const wanted = new Map<string, Set<number>>(ROUTES.map((r) => [r.view, new Set<number>()]));
  const pages = new Set<string>();
  for (const p of paths) {
    const listing = LISTING.exec(p);
    if (listing) {
      pages.add(`${listing[1]}-${listing[2]}`);
      continue;
    }
    for (const r of ROUTES) {
      const m = r.re.exec(p);
      if (m) wanted.get(r.view)!.add(Number(m[1]));
    }
  }
  let files = 0;
  for (const r of ROUTES) {
    fs.mkdirSync(path.join(root, r.dir), { recursive: true });
    const ids = [...wanted.get(r.view)!];
    for (let i = 0; i < ids.length; i += 10_000) {
      const { rows } = await db.query<{ id: number; body: string }>(
        `SELECT id, body FROM catalog.${r.view} WHERE id = ANY($1::int[])`,
        [ids.slice(i, i + 10_000)],
      );
      for (const row of rows) writeDocument(path.join(root, r.dir, String(row.id)), row.body, codings);
      files += rows.length;
    }
  }
  fs.mkdirSync(path.join(root, 'l'), { recursive: true });
  for (const key of pages) {
    const [page, count] = key.split('-').map(Number) as [number, number];
    // The service's own listing statement, so the baseline serves the very same bytes.
    const { rows } = await db.query<[string]>({ text: PAGE_STATEMENT, rowMode: 'array', values: [(page - 1) * count, page * count] });
    writeDocument(path.join(root, 'l', key), rows[0]?.[0] ?? '[]', codings);
    files++;
  }
  return files;
}

/**
 * Precompressed answers: none (identity files only, whatever the client accepts: the baseline
 * of the identity scenarios, and of the cold ones, whose rows stay comparable with earlier
 * runs), gzip_static, or brotli_static too (loaded from BROTLI_STATIC_MODULE; brotli wins
 * when a client accepts both).
 */
export type StaticCoding = 'none' | Coding;

/** The main-context `load_module` line and the http-context directives for `statics`. */
function staticDirectives(statics: StaticCoding, brotliModule: string): { main: string; http: string } {
  if (statics === 'none') return { main: '', http: '' };
  // gzip_vary: a Vary: Accept-Encoding on every answer, as the service sends with documents.
  const http = `
  gzip_static on;
  gzip_vary on;${statics === 'br' ? '\n  brotli_static on;' : ''}`;
  return { main: statics === 'br' ? `load_module ${brotliModule};\n` : '', http };
}

export function nginxConf(root: string, dir: string, port: number, workers: number, statics: StaticCoding = 'none', brotliModule = BROTLI_STATIC_MODULE): string {
  const directives = staticDirectives(statics, brotliModule);
  return `
${directives.main}worker_processes ${workers};
# open_file_cache keeps descriptors open: room for them under this machine's hard limit
# (20000 here); the cache holds the most used 10000 files, the Zipf head.
worker_rlimit_nofile 16384;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  types { }
  default_type "application/json; charset=utf-8";${directives.http}
  server {
    listen 127.0.0.1:${port};
    root ${root};
    etag on;
    # The bench's readiness probe; never among the measured paths.
    location = /healthz { return 200; }
    location ~ ^/products/(\\d+)$ { try_files /p/$1 =404; }
    location ~ ^/products/(\\d+)/styles$ { try_files /s/$1 =404; }
    location ~ ^/products/(\\d+)/related$ { try_files /r/$1 =404; }
    location = /products { try_files /l/$arg_page-$arg_count =404; }
  }
}
`;
}

export interface BaselineOptions {
  /** Answer clients that accept it with the precompressed files (br if the module loads, else gzip). */
  precompressed?: boolean;
  /** Where notes go (e.g. that brotli is missing); the operator's stderr. */
  say?: (line: string) => void;
  /** The brotli_static module to load (default BROTLI_STATIC_MODULE; tests name a missing or broken one). */
  brotliModule?: string;
}

/**
 * The static codings to serve: br when Debian's brotli_static module is there and nginx
 * accepts the configuration loading it, else gzip, with a note saying why.
 */
async function chooseStatics(bin: string, dir: string, conf: string, module: string, render: (statics: StaticCoding) => string, say: (line: string) => void): Promise<StaticCoding> {
  if (!fs.existsSync(module)) {
    say(`nginx: no ${module} (Debian: apt-get install libnginx-mod-http-brotli-static): the compressed baseline serves gzip_static, not br`);
    return 'gzip';
  }
  fs.writeFileSync(conf, render('br'));
  try {
    await testNginxConfig(bin, dir, conf);
    return 'br';
  } catch (err) {
    say(`nginx: brotli_static does not load (${(err as Error).message.split('\n').slice(-1)[0]}): the compressed baseline serves gzip_static, not br`);
    return 'gzip';
  }
}

/**
 * Starts nginx (foreground, own temp dirs) on `port` over the exported `root`. It shares the
 * bench's process group: a Ctrl-C of the bench stops it too.
 */
export async function startStaticBaseline(root: string, dir: string, port: number, workers: number, opts: BaselineOptions = {}): Promise<StaticBaseline> {
  const bin = findNginx();
  if (bin === undefined) throw new Error('nginx not found (Debian: apt-get install nginx)');
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  const module = opts.brotliModule ?? BROTLI_STATIC_MODULE;
  const render = (statics: StaticCoding): string => nginxConf(root, dir, port, workers, statics, module);
  const statics = opts.precompressed ? await chooseStatics(bin, dir, conf, module, render, opts.say ?? (() => undefined)) : 'none';
  fs.writeFileSync(conf, render(statics));
  const nginx = startNginx({ bin, prefix: dir, conf, errorLog: path.join(dir, 'error.log'), ownProcessGroup: false });
  const url = `http://127.0.0.1:${port}`;
  try {
    await nginx.ready(`${url}/healthz`, 10_000);
  } catch (err) {
    await nginx.stop();
    throw err;
  }
  const coding = statics === 'none' ? 'identity' : statics;
  return { url, label: statics === 'none' ? 'nginx static' : `nginx static ${statics}`, coding, stop: () => nginx.stop() };
}

/** The Content-Encoding `url` + `requestPath` is answered with given `headers` ('identity' when none), read without decoding. */
export function answeredCoding(url: string, requestPath: string, headers: Readonly<Record<string, string>>): Promise<string> {
  return new Promise((resolve, reject) => {
    // agent: false: one connection, closed after the answer, so nothing stays open.
    const req = http.get(url + requestPath, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${requestPath}: status ${res.statusCode}`));
        resolve(res.headers['content-encoding'] ?? 'identity');
      });
    });
    req.on('error', reject);
  });
}

/**
 * A baseline measuring identity files while the scenario means compressed ones (or the other
 * way round) would be compared with the wrong bytes: its answer to `requestPath` with the
 * scenario's headers must carry the coding it announced (identity without headers).
 */
export async function checkBaselineCoding(baseline: StaticBaseline, requestPath: string, headers: Readonly<Record<string, string>> | undefined): Promise<void> {
  const answered = await answeredCoding(baseline.url, requestPath, headers ?? {});
  const expected = headers === undefined ? 'identity' : baseline.coding;
  if (answered !== expected) throw new Error(`${baseline.label} answered ${requestPath} with Content-Encoding ${answered}, not ${expected}`);
}
