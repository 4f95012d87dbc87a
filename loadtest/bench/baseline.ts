import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PAGE_STATEMENT } from '../../src/catalog/documents';
import { findNginx, startNginx } from '../../src/fleet/nginx';

/**
 * The hardware-limit baseline: nginx serving the very same JSON bodies as static files, for
 * the paths a scenario requests. Bodies are exported from the document views, so the bytes
 * on the wire are identical to the service's.
 */
export interface StaticBaseline {
  url: string;
  stop(): Promise<void>;
}

const ROUTES: Array<{ re: RegExp; dir: string; view: string }> = [
  { re: /^\/products\/(\d+)$/, dir: 'p', view: 'product_doc' },
  { re: /^\/products\/(\d+)\/styles$/, dir: 's', view: 'styles_doc' },
  { re: /^\/products\/(\d+)\/related$/, dir: 'r', view: 'related_doc' },
];
const LISTING = /^\/products\?page=(\d+)&count=(\d+)$/;

/** Writes every distinct document of `paths` under `root` in the layout the nginx config maps. */
export async function exportDocuments(db: pg.ClientBase, paths: string[], root: string): Promise<number> {
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
      for (const row of rows) fs.writeFileSync(path.join(root, r.dir, String(row.id)), row.body);
      files += rows.length;
    }
  }
  fs.mkdirSync(path.join(root, 'l'), { recursive: true });
  for (const key of pages) {
    const [page, count] = key.split('-').map(Number) as [number, number];
    // The service's own listing statement, so the baseline serves the very same bytes.
    const { rows } = await db.query<[string]>({ text: PAGE_STATEMENT, rowMode: 'array', values: [(page - 1) * count, page * count] });
    fs.writeFileSync(path.join(root, 'l', key), rows[0]?.[0] ?? '[]');
    files++;
  }
  return files;
}

function nginxConf(root: string, dir: string, port: number, workers: number): string {
  return `
worker_processes ${workers};
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
  default_type "application/json; charset=utf-8";
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

/**
 * Starts nginx (foreground, own temp dirs) on `port` over the exported `root`. It shares the
 * bench's process group: a Ctrl-C of the bench stops it too.
 */
export async function startStaticBaseline(root: string, dir: string, port: number, workers: number): Promise<StaticBaseline> {
  const bin = findNginx();
  if (bin === undefined) throw new Error('nginx not found (Debian: apt-get install nginx)');
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConf(root, dir, port, workers));
  const nginx = startNginx({ bin, prefix: dir, conf, errorLog: path.join(dir, 'error.log'), ownProcessGroup: false });
  const url = `http://127.0.0.1:${port}`;
  try {
    await nginx.ready(`${url}/healthz`, 10_000);
  } catch (err) {
    await nginx.stop();
    throw err;
  }
  return { url, stop: () => nginx.stop() };
}
