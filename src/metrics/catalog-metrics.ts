import { Gauge, type GaugeConfiguration, type Registry } from 'prom-client';
import type pg from 'pg';
import { CATALOG_SCHEMA } from '../postgres/migrate';

/**
 * Per-file row counts of the load that produced the live catalog live in the table
 * `<schema>.etl_load_summary`, written by the ETL (db/etl/summary.ts) into the schema it is
 * about to make live, so they swap in with the catalog they describe. While the live
 * catalog has no such table (built-in sample, test fixtures), no ETL series exist.
 */
export const ETL_SUMMARY_TABLE_NAME = 'etl_load_summary';
/** The summary of the live catalog, as the gauges read it. */
export const ETL_SUMMARY_TABLE = `${CATALOG_SCHEMA}.${ETL_SUMMARY_TABLE_NAME}`;

/** One file's row counts in the summary: what the ETL writes and the gauges export. */
export interface EtlFileRows {
  file: string;
  loaded: number;
  rejected: number;
  dropped: number;
}

export interface CatalogState {
  /** `catalog_info.version` of the newest load; undefined while no catalog is loaded. */
  version: number | undefined;
  /** When the newest full load (or refresh of the sample) became live, in Unix seconds. */
  loadedAt: number | undefined;
  etl: EtlFileRows[];
  /** Change sets applied since that load (db/migrations/006 `catalog_changes`). */
  changes: { sets: number; documents: number; lastAt: number | undefined };
}

export interface CatalogReaderOptions {
  /** The pool to query; undefined while the database is not known yet (embedded one starting). */
  pool: () => pg.Pool | undefined;
  /** A result younger than this is reused, so frequent scrapes cost one query per period, in ms. */
  maxAgeMs: number;
  /** Longest a scrape waits for the database, in ms; on timeout the previous values are kept. */
  timeoutMs: number;
  onError?: (err: unknown) => void;
}

async function query(db: pg.Pool): Promise<CatalogState> {
  const info = await db.query<{ version: string; loaded_at: number }>(
    'SELECT version::text AS version, extract(epoch FROM loaded_at)::float8 AS loaded_at FROM catalog.catalog_info ORDER BY version DESC LIMIT 1',
  );
  const row = info.rows[0];
  const state: CatalogState = { version: row && Number(row.version), loadedAt: row?.loaded_at, etl: [], changes: { sets: 0, documents: 0, lastAt: undefined } };
  const exists = await db.query<{ summary: boolean; changes: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS summary, to_regclass($2) IS NOT NULL AS changes',
    [ETL_SUMMARY_TABLE, `${CATALOG_SCHEMA}.catalog_changes`],
  );
  if (exists.rows[0]?.changes) {
    // Since migration 006 rows also record change sets: the load time is the newest load's.
    const load = await db.query<{ loaded_at: number }>(
      "SELECT extract(epoch FROM loaded_at)::float8 AS loaded_at FROM catalog.catalog_info WHERE kind = 'load' ORDER BY version DESC LIMIT 1",
    );
    state.loadedAt = load.rows[0]?.loaded_at ?? state.loadedAt;
    const changes = await db.query<{ sets: number; documents: string; last_at: number | null }>(
      'SELECT count(*)::int AS sets, coalesce(sum(documents), 0)::text AS documents, extract(epoch FROM max(applied_at))::float8 AS last_at FROM catalog.catalog_changes',
    );
    const c = changes.rows[0];
    if (c) state.changes = { sets: c.sets, documents: Number(c.documents), lastAt: c.last_at ?? undefined };
  }
  if (exists.rows[0]?.summary) {
    const etl = await db.query<{ file: string; loaded: string; rejected: string; dropped: string }>(
      `SELECT file, rows_loaded::text AS loaded, rows_rejected::text AS rejected, rows_dropped::text AS dropped FROM ${ETL_SUMMARY_TABLE} ORDER BY file`,
    );
    state.etl = etl.rows.map((r) => ({ file: r.file, loaded: Number(r.loaded), rejected: Number(r.rejected), dropped: Number(r.dropped) }));
  }
  return state;
}

/** Reads the catalog's state for scrapes: cached, bounded in time, never throwing. */
export function createCatalogReader(opts: CatalogReaderOptions): () => Promise<CatalogState | undefined> {
  let last: { state: CatalogState; at: number } | undefined;
  let inFlight: Promise<void> | undefined;

  const refresh = async (): Promise<void> => {
    const db = opts.pool();
    if (db === undefined) return;
    try {
      last = { state: await query(db), at: Date.now() };
    } catch (err) {
      // Keep serving the previous values; an absent or failing database shows on /readyz.
      opts.onError?.(err);
    }
  };

  return async () => {
    if (last === undefined || Date.now() - last.at >= opts.maxAgeMs) {
      inFlight ??= refresh().finally(() => (inFlight = undefined));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise((r) => (timer = setTimeout(r, opts.timeoutMs)))]);
      clearTimeout(timer);
    }
    return last?.state;
  };
}

export interface CatalogMetrics {
  /**
   * Reads the catalog state for one scrape: await it before `registry.metrics()`. The gauges
   * only read what it stored, so a scrape waits for the database once, at most its timeout.
   */
  refresh(): Promise<void>;
}

/** The catalog gauges, filled from the state `read` gave the scrape's `refresh()`. */
export function registerCatalogMetrics(registry: Registry, read: () => Promise<CatalogState | undefined>): CatalogMetrics {
  let state: CatalogState | undefined;
  const gauge = (config: Pick<GaugeConfiguration<string>, 'name' | 'help' | 'labelNames'>, fill: (g: Gauge, s: CatalogState) => void): void => {
    new Gauge({
      ...config,
      registers: [registry],
      collect() {
        if (state !== undefined) fill(this, state);
      },
    });
  };
  gauge(
    { name: 'atelier_catalog_version', help: 'Version of the live catalog (catalog_info.version of the newest load); 0 until one is loaded.' },
    (g, s) => {
      if (s.version !== undefined) g.set(s.version);
    },
  );
  gauge(
    { name: 'atelier_catalog_loaded_timestamp_seconds', help: 'Unix time at which the live catalog was loaded (last refresh); 0 until one is loaded.' },
    (g, s) => {
      if (s.loadedAt !== undefined) g.set(s.loadedAt);
    },
  );
  gauge(
    { name: 'atelier_catalog_change_sets', help: 'Change sets (npm run etl -- --changes) applied to the live catalog since its full load.' },
    (g, s) => g.set(s.changes.sets),
  );
  gauge(
    {
      name: 'atelier_catalog_changed_documents',
      help: 'Documents and list entries whose bytes change sets rebuilt since the full load (the keys workers dropped).',
    },
    (g, s) => g.set(s.changes.documents),
  );
  gauge(
    { name: 'atelier_catalog_last_change_timestamp_seconds', help: 'Unix time of the newest change set applied to the live catalog; 0 until one is.' },
    (g, s) => {
      g.reset();
      if (s.changes.lastAt !== undefined) g.set(s.changes.lastAt);
    },
  );
  gauge(
    {
      name: 'atelier_etl_rows',
      help: `Rows of each source file in the load that produced the live catalog, by outcome (loaded, rejected, dropped); from ${ETL_SUMMARY_TABLE}.`,
      labelNames: ['file', 'outcome'],
    },
    (g, s) => {
      g.reset();
      for (const f of s.etl) {
        g.labels(f.file, 'loaded').set(f.loaded);
        g.labels(f.file, 'rejected').set(f.rejected);
        g.labels(f.file, 'dropped').set(f.dropped);
      }
    },
  );
  return {
    async refresh() {
      state = await read();
    },
  };
}
