import { DOCUMENT_VIEWS } from '../../src/postgres/live-catalog';
import type { Task } from './tasks';

// Heaviest first so two connections finish together: styles_doc aggregates photos and
// skus (17M rows at full scale), product_doc the products with their features.
const WEIGHT: Record<string, number> = { styles_doc: 4, product_doc: 3, related_doc: 2, product_list_doc: 1 };

/**
 * Tasks that build every document view of `schema` from its loaded tables. Not
 * CONCURRENTLY: nobody reads this schema yet, and a plain refresh writes each view
 * once instead of diffing it against its previous contents.
 */
export function viewTasks(schema: string): Task[] {
  return [...DOCUMENT_VIEWS]
    .sort((a, b) => (WEIGHT[b] ?? 0) - (WEIGHT[a] ?? 0))
    .map((view) => ({
      name: `view ${view}`,
      run: async (client) => {
        await client.query(`REFRESH MATERIALIZED VIEW ${schema}.${view}`);
      },
    }));
}
