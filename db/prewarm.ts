import type { ClientBase } from 'pg';

const DOCUMENT_VIEWS = ['product_doc', 'styles_doc', 'related_doc'];

/**
 * Reads the live catalog's three document views and their indexes into PostgreSQL's buffers
 * (pg_prewarm), so a benchmark meets the steady state of a database that has served a while:
 * its buffer pool full of documents, whatever ran before. A freshly started server instead
 * faults its shared memory in page by page on first use (`perf` of a 10,000-product change
 * set on a fresh server: 20 % of all samples in `shmem_fault`) and reads pages from the file
 * system; the cold rounds of
 * `npm run bench` and `npm run bench:etl -- --changes` would measure that start-up, not the
 * service. Best effort: answers a line saying what it did or why it could not.
 */
export async function prewarmDocuments(db: Pick<ClientBase, 'query'>): Promise<string> {
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    const { rows } = await db.query<{ relation: string; blocks: string }>(
      `SELECT r.oid::regclass::text AS relation, pg_prewarm(r.oid) AS blocks
         FROM pg_class r
        WHERE r.oid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'catalog'::regnamespace AND c.relname = ANY ($1)
                        UNION ALL
                        SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                         WHERE c.relnamespace = 'catalog'::regnamespace AND c.relname = ANY ($1))`,
      [DOCUMENT_VIEWS],
    );
    const mib = (rows.reduce((s, r) => s + Number(r.blocks), 0) * 8192) / 2 ** 20;
    return `database: prewarmed ${rows.map((r) => r.relation).join(', ')} (${mib.toFixed(0)} MiB) into shared_buffers`;
  } catch (err) {
    return `database: not prewarmed (${(err as Error).message}); figures include a fresh server's first reads`;
  }
}
