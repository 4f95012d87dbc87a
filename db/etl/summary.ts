import { escapeIdentifier, type ClientBase } from 'pg';
import { ETL_SUMMARY_TABLE_NAME, type EtlFileRows } from '../../src/metrics/catalog-metrics';

/**
 * Records a load's per-file counts in `schema` (e.g. the ETL's `catalog_next`), replacing
 * any earlier ones: the service exports them (src/metrics/catalog-metrics.ts) once that
 * schema is the live catalog. Run it in the load's transaction, before the swap. `files`
 * may carry more fields (e.g. `read`).
 */
export async function recordEtlSummary(
  client: ClientBase,
  schema: string,
  files: readonly EtlFileRows[],
): Promise<void> {
  // Identifiers cannot be query parameters: quoted, any name is one name and never SQL.
  const table = `${escapeIdentifier(schema)}.${escapeIdentifier(ETL_SUMMARY_TABLE_NAME)}`;
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${table} (file text PRIMARY KEY, rows_loaded bigint NOT NULL, rows_rejected bigint NOT NULL, rows_dropped bigint NOT NULL)`,
  );
  await client.query(`DELETE FROM ${table}`);
  await client.query(
    `INSERT INTO ${table} (file, rows_loaded, rows_rejected, rows_dropped) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])`,
    [files.map((f) => f.file), files.map((f) => f.loaded), files.map((f) => f.rejected), files.map((f) => f.dropped)],
  );
}
