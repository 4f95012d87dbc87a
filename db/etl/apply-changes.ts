import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/postgres/migrate';
import { catalogVersion } from '../../src/postgres/live-catalog';
import { ADVISORY_LOCKS } from '../../src/postgres/locks';
import { applyChangeSet, WORKING_TABLES_SQL, type AppliedChanges } from './change-set';
import { readDeletions } from './deletions';
import { EtlError } from './errors';
import { FILES, type ParentName } from './files';
import { IdSet } from './id-set';
import { liveIds } from './live-ids';
import { loadFile } from './load-file';
import { preflightChanges } from './preflight';
import { referencedParents } from './referenced-ids';
import type { FileCounts } from './reconcile';
import { openRejectsWriter } from './rejects';

export interface ChangeOptions {
  url: string;
  /** Folder holding any of the six CSV files and deletions.csv. */
  dir: string;
  rejectsPath: string;
  /** Refuse unless the live catalog is at this version (what the change set was prepared against). */
  baseVersion?: number;
  log?: (line: string) => void;
  /** Aborting ends the connection: the transaction, if begun, rolls back. */
  signal?: AbortSignal;
  /** Runs inside the transaction just before COMMIT (tests). */
  beforeCommit?: () => Promise<void>;
  /** An open connection to apply on, left open (the feed's); by default one of its own for this set. */
  session?: ChangeSession;
}

/** A connection kept across change sets (the feed's), and what its temporary tables hold. */
export interface ChangeSession {
  client: pg.Client;
  /** Whether the staging and working tables exist in this session. */
  tablesMade: boolean;
  /** Staging tables that may still hold an earlier set's rows. */
  holding: Set<string>;
}

export const changeSession = (client: pg.Client): ChangeSession => ({ client, tablesMade: false, holding: new Set() });

export interface ChangeResult extends AppliedChanges {
  /** Per file present, as a full load reports them (deletions.csv last). */
  files: FileCounts[];
  rejectsPath: string;
  /** Epoch ms at which the change set (and its notification) committed. */
  committedAt: number;
  /** In ms; `steps`: the apply's steps in order, as the command logs them. */
  timings: { waitMs: number; stageMs: number; applyMs: number; totalMs: number; steps: Record<string, number> };
}

/**
 * `npm run etl -- --changes DIR`: validates the change set against the live catalog (same
 * parsing, checks and rejects report as a full load; a parent may be a live row or a row of
 * the change set, never one it removes), then applies it in one transaction. Serialised with
 * full loads and other change sets by the reload lock (waited for, not refused).
 */
export async function applyChanges(opts: ChangeOptions): Promise<ChangeResult> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const sizes = preflightChanges(opts.dir);
  const own = opts.session === undefined;
  const session = opts.session ?? changeSession(new pg.Client({ connectionString: opts.url, application_name: 'atelier-products etl changes' }));
  const { client } = session;
  if (own) client.on('error', () => undefined);
  const onAbort = (): void => void client.end().catch(() => undefined);
  opts.signal?.addEventListener('abort', onAbort);
  let locked = false;
  try {
    if (own) await client.connect();
    await client.query("SET statement_timeout = 0; SET work_mem = '64MB'");
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [ADVISORY_LOCKS.reload]);
    if (!rows[0]?.locked) {
      log('a catalog load or change set is running: waiting for it to finish');
      await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.reload]);
    }
    locked = true;
    const waitMs = Date.now() - started;
    await migrate(client);
    const version = await catalogVersion(client);
    if (version === 0) throw new EtlError('no catalog is loaded: load a full export first (npm run etl -- --dir DIR)');
    if (opts.baseVersion !== undefined && opts.baseVersion !== version) {
      throw new EtlError(`the change set was prepared against catalog version ${opts.baseVersion}, but version ${version} is live`);
    }

    const t0 = Date.now();
    // The session's tables, made with its first set (one round trip): a feed reuses them
    // rather than creating and dropping eleven tables a set, churning the system catalogs.
    if (!session.tablesMade) {
      const staging = FILES.map((spec) => `CREATE TEMP TABLE ${spec.table} (LIKE catalog.${spec.table} INCLUDING DEFAULTS)`);
      await client.query([...staging, ...WORKING_TABLES_SQL].join('; '));
      session.tablesMade = true;
    }
    // A file loaded empties its table itself (load-file.ts); one absent from this set must not keep an earlier set's rows.
    const stale = FILES.filter((f) => session.holding.has(f.table) && !sizes.has(f.file)).map((f) => f.table);
    if (stale.length > 0) await client.query(`TRUNCATE ${stale.map((t) => `pg_temp.${t}`).join(', ')}`);
    for (const t of stale) session.holding.delete(t);
    const rejects = await openRejectsWriter(opts.rejectsPath);
    const files: FileCounts[] = [];
    let deletions;
    try {
      const read = await readDeletions(client, opts.dir, rejects);
      deletions = read.deletions;
      // What children may name: live rows (those the files name), less those removed (with
      // their cascade), plus the change set's own parents as they load.
      const named = await referencedParents(opts.dir, sizes);
      const parents: Record<ParentName, IdSet> = { product: await liveIds(client, 'product', named.product), styles: await liveIds(client, 'styles', named.styles) };
      const goneProducts = [...deletions.get('product')!.keys()];
      for (const id of goneProducts) parents.product.delete(id);
      for (const id of deletions.get('styles')!.keys()) parents.styles.delete(id);
      if (goneProducts.length > 0) {
        const { rows: cascaded } = await client.query<{ id: number }>('SELECT id FROM catalog.styles WHERE product_id = ANY($1::int[])', [goneProducts]);
        for (const r of cascaded) parents.styles.delete(r.id);
      }
      for (const spec of FILES) {
        if (!sizes.has(spec.file)) continue;
        const parentKey = (Object.keys(parents) as ParentName[]).find((k) => k === spec.table);
        // A related row naming product 0 means "none": the row of that id, if live, goes.
        const onDropped = (id: number): void => void deletions!.get(spec.table)!.set(id, 0);
        const ids = { seen: new IdSet(), ...(parentKey ? { loaded: parents[parentKey] } : {}), onDropped };
        session.holding.add(spec.table);
        files.push(await loadFile({ client, schema: 'pg_temp', dir: opts.dir, spec, ids, parents, rejects }));
      }
      if (sizes.has('deletions.csv')) files.push(read.counts);
    } finally {
      await rejects.close();
    }
    const stageMs = Date.now() - t0;
    log(`change set staged in ${stageMs} ms`);

    const t1 = Date.now();
    const steps: Record<string, number> = {};
    const applied = await applyChangeSet(client, {
      deletions,
      baseVersion: version,
      source: `change set ${path.resolve(opts.dir)}`,
      onStep: (name, ms) => {
        steps[name] = ms;
        log(`  ${name} in ${ms} ms`);
      },
      ...(opts.beforeCommit ? { beforeCommit: opts.beforeCommit } : {}),
    });
    const committedAt = Date.now();
    log(`catalog version ${applied.version} is live: ${applied.products} products rebuilt, ${applied.documents} documents changed`);
    return {
      ...applied,
      files,
      rejectsPath: opts.rejectsPath,
      committedAt,
      timings: { waitMs, stageMs, applyMs: committedAt - t1, totalMs: committedAt - started, steps },
    };
  } catch (err) {
    if (opts.signal?.aborted && !(err instanceof EtlError)) throw new EtlError('interrupted');
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (own) await client.end().catch(() => undefined);
    else {
      // A session that goes on: a transaction a failure left open and the lock go now, as they
      // would with the connection (the staged rows stay until the next set replaces them).
      await client.query('ROLLBACK').catch(() => undefined);
      if (locked) await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.reload]).catch(() => undefined);
    }
  }
}
