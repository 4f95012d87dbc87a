import type pg from 'pg';
import type { Logger } from 'pino';
import { parseCatalogNotice, parseListChange, type ListChange } from '../postgres/catalog-notice';
import type { ReadRouter } from '../postgres/replicas';
import type { DocumentStore } from './documents';
import { stalePages } from './listing-pages';

export interface InvalidationOptions {
  documents: Pick<DocumentStore, 'invalidate' | 'drop'>;
  /** The read router: its replicas are held back until they have replayed the change. */
  reads: Pick<ReadRouter, 'changed'>;
  /** The primary, where a change set's keys are stored when they did not fit its notice. */
  primary: Pick<pg.Pool, 'query'>;
  log: Logger;
}

/**
 * Turns catalog notices (src/postgres/catalog-notice.ts) into cache invalidation: a new
 * catalog clears the cache; a change set, or a full load that named what it changed, drops
 * exactly those documents and the listing pages holding a position it changed. Either waits first for the replicas' check
 * (replicas.ts), so no read after the drop can come from a replica that has not replayed it.
 * Returns the notice handler; its promise settles once the cache is updated (tests await it).
 */
export function createInvalidation(opts: InvalidationOptions): (payload: string) => Promise<void> {
  const { documents, log } = opts;
  return async (payload) => {
    await opts.reads.changed().catch((err: unknown) => log.warn({ err }, 'could not check replica progress'));
    const notice = parseCatalogNotice(payload);
    if (notice.kind === 'catalog') {
      documents.invalidate();
      log.info({ version: notice.version }, 'catalog changed: document cache cleared');
      return;
    }
    let keys: string[];
    if (notice.kind === 'changes') keys = notice.keys;
    else {
      try {
        const { rows } = await opts.primary.query<{ keys: string[] }>({
          name: 'atelier_change_keys',
          // A change set's keys, or a full load's (db/etl/reload-diff.ts).
          text: 'SELECT keys FROM catalog.catalog_changes WHERE version = $1 UNION ALL SELECT keys FROM catalog.catalog_load_keys WHERE version = $1',
          values: [notice.version],
        });
        // Gone already (a full load replaced the catalog since): that load's notice clears all.
        keys = rows[0]?.keys ?? [];
      } catch (err) {
        // Not knowing what changed, the only safe answer is to forget everything.
        documents.invalidate();
        log.warn({ err, version: notice.version }, 'change set keys unreadable: document cache cleared');
        return;
      }
    }
    const docs: string[] = [];
    const positions: ListChange[] = [];
    let everyPage = false;
    for (const key of keys) {
      if (key[0] !== 'l') docs.push(key);
      else {
        const change = parseListChange(key);
        if (change === 'all') everyPage = true;
        else positions.push(change);
      }
    }
    const stalePage = everyPage ? () => true : positions.length > 0 ? stalePages(positions) : undefined;
    const dropped = documents.drop(docs, stalePage);
    log.info(
      { version: String(notice.version), keys: keys.length, dropped, pages: everyPage ? 'all' : positions.length },
      'catalog change set: documents dropped',
    );
  };
}
