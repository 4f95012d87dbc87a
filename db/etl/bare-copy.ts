import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { FILES } from './files';
import { runTasks } from './tasks';

const SCHEMA = 'etl_bare';

export interface BareCopyResult {
  ms: number;
  /** Physical lines stored (a multi-line record counts once per line). */
  lines: number;
}

/**
 * The lower bound for loading the export: each file's bytes piped unchanged into a plain
 * COPY, one row per physical line, into bare logged tables (one text column, no index,
 * no validation). CSV mode with a delimiter and quote byte that never occur makes every
 * line one field, so the files' defects cannot break it. Same connection count as the ETL.
 */
export async function bareCopy(url: string, dir: string, jobs: number): Promise<BareCopyResult> {
  const clients: pg.Client[] = [];
  const admin = new pg.Client({ connectionString: url, application_name: 'atelier-products bench bare-copy' });
  await admin.connect();
  let lines = 0;
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    for (let i = 0; i < jobs; i++) {
      const c = new pg.Client({ connectionString: url, application_name: 'atelier-products bench bare-copy' });
      await c.connect();
      clients.push(c);
    }
    const bySize = [...FILES].sort(
      (a, b) => fs.statSync(path.join(dir, b.file)).size - fs.statSync(path.join(dir, a.file)).size,
    );
    const started = Date.now();
    await runTasks(
      clients,
      bySize.map((spec) => ({
        name: spec.file,
        run: async (client) => {
          await client.query(`CREATE TABLE ${SCHEMA}.${spec.table} (line text)`);
          const copy = client.query(
            copyFrom(
              `COPY ${SCHEMA}.${spec.table} FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER E'\\x01', QUOTE E'\\x02')`,
            ),
          );
          await pipeline(fs.createReadStream(path.join(dir, spec.file), { highWaterMark: 1 << 20 }), copy);
          lines += copy.rowCount;
        },
      })),
    );
    return { ms: Date.now() - started, lines };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await admin.end();
  }
}
