import type { ClientBase } from 'pg';
import { listChangeKey, mergeListChanges, type ListChange } from '../../src/postgres/catalog-notice';

/**
 * A change set's listing (`/products?page&count`): its entries rebuilt into list_overlay, the
 * moves of products added or removed recorded, and where the listing changed, as the keys the
 * workers drop their cached pages by (catalog-notice.ts, src/catalog/listing-pages.ts).
 * Runs inside the change set's transaction, after its documents (change-set.ts).
 */

/**
 * The affected entries rebuilt (as change-set.ts rebuilds documents), with each entry's move
 * relative to product_list_doc (list_moves). Answers the entries whose bytes changed, in
 * positions before this set (what the workers' cached pages hold): those changed in place, and
 * the moves in id order, each with the position before it (a removed entry's own, an added
 * one's predecessor's). A position is the entries up to the id: the view's position of the
 * greatest id not above it (the entry's own when the view holds it, already read), plus the
 * moves up to it, read in the statement's snapshot (list_moves as it was before this set).
 */
const REBUILD_LIST = `WITH a AS (
    SELECT DISTINCT id FROM pg_temp.affected WHERE kind = 'l'
  ), n AS (
    SELECT a.id, d.body, v.id IS NOT NULL AS in_view, v.pos AS view_pos, v.body AS view_body
      FROM a LEFT JOIN catalog.list_docs(ARRAY(SELECT id FROM a)) d ON d.id = a.id LEFT JOIN catalog.product_list_doc v ON v.id = a.id
  ), served AS (
    SELECT n.id, CASE WHEN o.id IS NOT NULL THEN o.body ELSE n.view_body END AS body
      FROM n LEFT JOIN catalog.list_overlay o ON o.id = n.id
  ), stored AS (
    INSERT INTO catalog.list_overlay (id, body) SELECT id, body FROM n
    ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body
  ), unmoved AS (
    DELETE FROM catalog.list_moves WHERE id IN (SELECT id FROM a)
  ), moved AS (
    INSERT INTO catalog.list_moves (id, move)
    SELECT id, CASE WHEN in_view THEN -1 ELSE 1 END FROM n WHERE in_view <> (body IS NOT NULL)
    ON CONFLICT (id) DO UPDATE SET move = EXCLUDED.move
  ), changed AS (
    SELECT n.id, s.body IS NOT NULL AS was, n.body IS NOT NULL AS now,
           coalesce(n.view_pos, (SELECT v.pos FROM catalog.product_list_doc v WHERE v.id < n.id ORDER BY v.id DESC LIMIT 1), 0)
             + coalesce((SELECT sum(m.move) FROM catalog.list_moves m WHERE m.id <= n.id), 0) AS pos
      FROM n JOIN served s ON s.id = n.id WHERE n.body IS DISTINCT FROM s.body
  )
  SELECT count(*)::int AS changed,
         coalesce(array_agg(pos ORDER BY pos) FILTER (WHERE was AND now), '{}')::int[] AS in_place,
         coalesce(array_agg(pos ORDER BY id) FILTER (WHERE was <> now), '{}')::int[] AS move_at,
         coalesce(array_agg(CASE WHEN now THEN 1 ELSE -1 END ORDER BY id) FILTER (WHERE was <> now), '{}')::int[] AS move,
         ((SELECT coalesce(max(pos), 0) FROM catalog.product_list_doc) + (SELECT coalesce(sum(move), 0) FROM catalog.list_moves))::int AS entries
    FROM changed`;

interface ListRow {
  changed: number;
  in_place: number[];
  move_at: number[];
  move: number[];
  /** Entries before the set. */
  entries: number;
}

/**
 * Where the listing changed, as position ranges: everywhere up to the end of the longer list,
 * but the runs of entries both lists hold at the same position (between moves, where the
 * moves before cancel out: a product removed and one added further on leave the positions
 * after both as they were), and there the entries changed in place.
 */
export function listChanges(list: Omit<ListRow, 'changed'>): ListChange[] {
  const kept: ListChange[] = [];
  let shift = 0;
  let start = 1;
  list.move_at.forEach((at, i) => {
    const move = list.move[i]!;
    // The run before this move ends before a removed entry, or at an added one's predecessor.
    const end = move < 0 ? at - 1 : at;
    if (shift === 0 && end >= start) kept.push({ from: start, to: end });
    shift += move;
    start = at + 1;
  });
  if (shift === 0 && list.entries >= start) kept.push({ from: start, to: list.entries });
  const last = Math.max(list.entries, list.entries + shift);
  const changes: ListChange[] = [];
  let next = 1;
  for (const run of kept) {
    if (run.from > next) changes.push({ from: next, to: run.from - 1 });
    next = run.to + 1;
  }
  if (last >= next) changes.push({ from: next, to: last });
  for (const pos of list.in_place) changes.push({ from: pos, to: pos });
  return mergeListChanges(changes);
}

export interface ListRebuilt {
  /** List entries whose bytes changed. */
  changed: number;
  /** The notice's listing keys. */
  keys: string[];
}

/** Rebuilds the entries of the products in pg_temp.affected (kind 'l'). */
export async function rebuildList(client: ClientBase): Promise<ListRebuilt> {
  const { rows } = await client.query<ListRow>(REBUILD_LIST);
  const row = rows[0];
  return row === undefined
    ? { changed: 0, keys: [] }
    : { changed: row.changed, keys: listChanges(row).map(listChangeKey) };
}
