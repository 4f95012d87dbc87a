-- Live catalog changes (`npm run etl -- --changes DIR`, db/etl/apply-changes.ts).
--
-- The materialized views stay the bulk build of every document. A change set rebuilds the
-- documents of the products it touches with the per-product functions below and stores them
-- in the overlays; the service's statements prefer an overlay row to the view's. The next
-- full load (a new schema, empty overlays) or `npm run db:refresh` (views refreshed and
-- overlays emptied in one transaction) folds them back into the views.

-- Each row is a load ('load') or an applied change set ('changes'); versions are one sequence.
ALTER TABLE catalog_info ADD COLUMN kind text NOT NULL DEFAULT 'load' CHECK (kind IN ('load', 'changes'));

-- Which related documents name a product that was added or removed.
CREATE INDEX related_related_product_id_idx ON related (related_product_id);

-- Whether a product is in the bulk-built listing, and where.
CREATE UNIQUE INDEX product_list_doc_id_idx ON product_list_doc (id);

-- Documents rebuilt since the views were: kind is the service's cache-key letter
-- (p product, s styles, r related). A NULL body: the product no longer exists (404).
CREATE TABLE doc_overlay (
  kind "char"  NOT NULL CHECK (kind IN ('p', 's', 'r')),
  id   integer NOT NULL,
  body text,
  PRIMARY KEY (kind, id)
);

-- List entries rebuilt since product_list_doc was (a NULL body: removed).
CREATE TABLE list_overlay (
  id   integer PRIMARY KEY,
  body text
);
-- Products added to (+1) or removed from (-1) the listing since product_list_doc was built:
-- the listing statement shifts the view's positions by the moves before each id. Apart from
-- list_overlay, so a page reads every move (few) and only its own entries' bodies.
CREATE TABLE list_moves (
  id   integer  PRIMARY KEY,
  move smallint NOT NULL CHECK (move IN (-1, 1))
);

-- One row per applied change set, under the catalog_info version it created: what the
-- workers drop (cache keys; 'l' stands for every listing page) when they are too many
-- for the notification, and the counts the service's metrics export.
CREATE TABLE catalog_changes (
  version    bigint      PRIMARY KEY,
  source     text        NOT NULL,
  products   integer     NOT NULL,
  documents  integer     NOT NULL,
  keys       text[]      NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- The documents of some products, exactly as the views build them (003, 005), one product
-- at a time through its indexes instead of whole-table aggregates. The oracle test
-- (test/db/etl/changes-oracle.test.ts) holds the two definitions to the same bytes.
CREATE FUNCTION product_docs(ids integer[]) RETURNS TABLE (id integer, body text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT p.id,
         '{' || product_fields(p.id, c.campus, p.name, p.slogan, p.description, p.category,
                               p.default_price, p.created_at, p.updated_at)
           || ',"features":[' || coalesce((
                SELECT string_agg('{"feature":' || json_str(f.feature) || ',"value":' || json_str(f.value) || '}',
                                  ',' ORDER BY f.id)
                FROM features f WHERE f.product_id = p.id), '') || ']}'
  FROM product p
  CROSS JOIN catalog_campus c
  WHERE p.id = ANY (ids);
END;

CREATE FUNCTION list_docs(ids integer[]) RETURNS TABLE (id integer, body text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT p.id,
         '{' || product_fields(p.id, c.campus, p.name, p.slogan, p.description, p.category,
                               p.default_price, p.created_at, p.updated_at) || '}'
  FROM product p
  CROSS JOIN catalog_campus c
  WHERE p.id = ANY (ids);
END;

CREATE FUNCTION styles_docs(ids integer[]) RETURNS TABLE (id integer, body text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT p.id,
         '{"product_id":"' || p.id || '","results":[' || coalesce((
           SELECT string_agg('{"style_id":' || s.id
                               || ',"name":' || json_str(s.name)
                               || ',"original_price":' || json_price(s.original_price)
                               || ',"sale_price":' || json_price(s.sale_price)
                               || ',"default?":' || CASE WHEN s.default_style THEN 'true' ELSE 'false' END
                               || ',"photos":' || coalesce('[' || (
                                    SELECT string_agg('{"thumbnail_url":' || json_str(ph.thumbnail_url) || ',"url":' || json_str(ph.url) || '}',
                                                      ',' ORDER BY ph.id)
                                    FROM photos ph WHERE ph.style_id = s.id) || ']', '[{"thumbnail_url":null,"url":null}]')
                               || ',"skus":' || coalesce('{' || (
                                    SELECT string_agg('"' || k.id || '":{"quantity":' || k.quantity || ',"size":' || json_str(k.size) || '}',
                                                      ',' ORDER BY k.id)
                                    FROM skus k WHERE k.style_id = s.id) || '}', '{"null":{"quantity":null,"size":null}}')
                               || '}',
                             ',' ORDER BY s.id)
           FROM styles s WHERE s.product_id = p.id), '') || ']}'
  FROM product p
  WHERE p.id = ANY (ids);
END;

CREATE FUNCTION related_docs(ids integer[]) RETURNS TABLE (id integer, body text)
  LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT p.id,
         '[' || coalesce((
           SELECT string_agg(f.related_product_id::text, ',' ORDER BY f.first_row)
           FROM (SELECT r.related_product_id, min(r.id) AS first_row
                   FROM related r
                  WHERE r.current_product_id = p.id
                    AND r.related_product_id <> 0 AND r.related_product_id <> p.id
                  GROUP BY r.related_product_id) f
           WHERE EXISTS (SELECT 1 FROM product target WHERE target.id = f.related_product_id)), '') || ']'
  FROM product p
  WHERE p.id = ANY (ids);
END;
