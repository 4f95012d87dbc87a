/**
 * Path lists of page views for wrk, expanded with a page-view model (lib/page-views.ts): the
 * related ids of each drawn product are read from the catalog's related documents (what the
 * page would read from `/products/P/related`), a batch of page views at a time.
 */
import fs from 'node:fs';
import type pg from 'pg';
import { expandPageView, fansOut, type PageView, type PageViewModel } from '../lib/page-views';

// Page views drawn, and their products' related lists read, per statement.
const BATCH_VIEWS = 2000;

export interface PageViewPaths {
  paths: string[];
  /** Page views the list holds (the last one whole). */
  views: number;
  /** Mean HTTP requests a page view of the list makes: paths over views. */
  requestsPerView: number;
}

/** The related ids of each of `ids` (an id without a related document maps to none). */
export async function readRelated(db: pg.ClientBase, ids: readonly number[]): Promise<Map<number, number[]>> {
  const related = new Map<number, number[]>();
  if (ids.length === 0) return related;
  const { rows } = await db.query<{ id: number; body: string }>(
    'SELECT id, body FROM catalog.related_doc WHERE id = ANY($1::int[])',
    [ids],
  );
  for (const row of rows) related.set(row.id, JSON.parse(row.body) as number[]);
  return related;
}

/**
 * Draws page views until at least `n` paths, expands each with `model` (related ids from the
 * catalog, read once per product), writes the paths to `file`, one a line.
 */
export async function writePageViewPaths(
  db: pg.ClientBase,
  file: string,
  draw: () => PageView,
  model: PageViewModel,
  n: number,
): Promise<PageViewPaths> {
  const related = new Map<number, number[]>();
  const paths: string[] = [];
  let views = 0;
  while (paths.length < n) {
    const batch = Array.from({ length: BATCH_VIEWS }, draw);
    const missing = [...new Set(batch.flatMap((v) => (fansOut(v, model) && !related.has(v.productId) ? [v.productId] : [])))];
    for (const [id, ids] of await readRelated(db, missing)) related.set(id, ids);
    for (const view of batch) {
      if (paths.length >= n) break;
      for (const r of expandPageView(view, model, (id) => related.get(id) ?? [])) paths.push(r.path);
      views++;
    }
  }
  fs.writeFileSync(file, paths.join('\n') + '\n');
  return { paths, views, requestsPerView: paths.length / views };
}
