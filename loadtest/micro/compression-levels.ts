/**
 * `npm run bench:compression`: what each brotli quality and gzip level makes of the catalog's
 * own documents, to choose src/catalog/compression.ts's settings. Samples random product,
 * styles and related documents and listing pages from the loaded catalog, compresses each
 * (synchronously, one core) at each setting, and prints the wire size as a share of identity
 * per kind and the CPU time per document. A hot document is compressed once per worker and
 * catalog version, so a setting is worth it while its time stays far below what serving the
 * document costs over its cache lifetime. Then, for the settings in use, where a compression
 * runs: the CPU (every thread of the process) per styles document compressed synchronously on
 * the calling thread, and through zlib's asynchronous call on libuv's thread pool with
 * COMPRESS_MAX_IN_FLIGHT (8) at once, as compression.ts chooses between by size.
 */
import zlib from 'node:zlib';
import pg from 'pg';
import { loadConfig } from '../../src/config';
import { PAGE_STATEMENT } from '../../src/catalog/documents';
import { CODINGS, compressOnThreadPool, compressSync, type Coding } from '../../src/catalog/compression';
import { openDatabase } from '../../src/postgres/open-database';

const SAMPLE = 1000;
const SETTINGS: Array<[string, (b: Buffer) => Buffer]> = [
  ...[4, 5, 6, 7, 9, 11].map((q): [string, (b: Buffer) => Buffer] => [
    `br q${q}`,
    (b) =>
      zlib.brotliCompressSync(b, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: q, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length },
      }),
  ]),
  ...[1, 6, 9].map((level): [string, (b: Buffer) => Buffer] => [`gzip ${level}`, (b) => zlib.gzipSync(b, { level })]),
];

async function sample(db: pg.Client): Promise<Record<string, Buffer[]>> {
  const kinds: Record<string, Buffer[]> = {};
  const { rows: bounds } = await db.query<{ max: number }>('SELECT max(pos)::int AS max FROM catalog.product_list_doc');
  const max = bounds[0]?.max ?? 0;
  if (max === 0) throw new Error('no catalog loaded');
  const ids = Array.from({ length: SAMPLE }, () => 1 + Math.floor(Math.random() * max));
  for (const kind of ['product', 'styles', 'related']) {
    // Positions stand for ids: product_list_doc maps one to the other.
    const { rows } = await db.query<{ body: string }>(
      `SELECT d.body FROM catalog.${kind}_doc d JOIN catalog.product_list_doc l ON l.id = d.id WHERE l.pos = ANY($1::int[])`,
      [ids],
    );
    kinds[kind] = rows.map((r) => Buffer.from(r.body));
  }
  kinds['listing (count 5)'] = [];
  for (const pos of ids.slice(0, 200)) {
    const { rows } = await db.query<[string]>({ text: PAGE_STATEMENT, rowMode: 'array', values: [pos, pos + 5] });
    kinds['listing (count 5)'].push(Buffer.from(rows[0]![0]));
  }
  return kinds;
}

/** CPU µs (all threads: user + system) per document of `docs` compressed by `run`. */
async function cpuPerDocument(docs: Buffer[], run: (docs: Buffer[]) => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await run(docs);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / docs.length;
}

/** Synchronous against thread-pool compression of the styles sample, interleaved, 3 rounds each. */
async function whereItRuns(docs: Buffer[]): Promise<void> {
  const inFlight = 8;
  const onThreadPool = (coding: Coding) => async (all: Buffer[]) => {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < all.length) await compressOnThreadPool(coding, all[next++]!);
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
  };
  const synchronously = (coding: Coding) => async (all: Buffer[]) => {
    for (const doc of all) compressSync(coding, doc);
  };
  process.stdout.write(`\nwhere it runs (styles documents, CPU µs per document, all threads; 3 interleaved rounds)\n`);
  for (const coding of CODINGS) {
    const sync: number[] = [];
    const pool: number[] = [];
    for (let round = 0; round < 3; round++) {
      sync.push(await cpuPerDocument(docs, synchronously(coding)));
      pool.push(await cpuPerDocument(docs, onThreadPool(coding)));
    }
    const f = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' / ');
    process.stdout.write(`${coding}: synchronous ${f(sync)}; thread pool (${inFlight} at once) ${f(pool)}\n`);
  }
}

async function main(): Promise<void> {
  const database = await openDatabase(loadConfig());
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    const kinds = await sample(db);
    const header = ['setting', ...Object.keys(kinds).map((k) => `${k} % of identity`), 'µs per styles doc'];
    process.stdout.write(`${header.join(' | ')}\n`);
    for (const [name, compress] of SETTINGS) {
      const cells = [name];
      let stylesMicros = 0;
      for (const [kind, docs] of Object.entries(kinds)) {
        const started = process.hrtime.bigint();
        let identity = 0;
        let coded = 0;
        for (const doc of docs) {
          identity += doc.length;
          coded += Math.min(doc.length, compress(doc).length);
        }
        const micros = Number(process.hrtime.bigint() - started) / 1e3 / docs.length;
        if (kind === 'styles') stylesMicros = micros;
        cells.push(`${((100 * coded) / identity).toFixed(1)} % (avg ${Math.round(identity / docs.length)} B)`);
      }
      cells.push(stylesMicros.toFixed(0));
      process.stdout.write(`${cells.join(' | ')}\n`);
    }
    await whereItRuns(kinds.styles!);
  } finally {
    await db.end();
    await database.close();
  }
}

if (require.main === module) void main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
