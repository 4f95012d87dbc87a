-- The catalog's code, "campus": the second key of every list item and product document
-- (`{"id":1,"campus":"hr-rfp","name":…}`), as every response of the replaced API carried it.
-- One row per catalog schema, chosen when the catalog is loaded (`npm run etl -- --campus
-- CODE`; the built-in sample and test fixtures keep this default) and baked into the
-- document bytes below, so no request splices it in. Changing it is a reload.
CREATE TABLE catalog_campus (
  -- Always true: the primary key then allows exactly one row.
  single boolean PRIMARY KEY DEFAULT true CHECK (single),
  -- 1 to 64 printable ASCII characters without spaces: the rule db/etl checks first, kept
  -- here too so no other writer can put a code in the documents that the ETL would refuse.
  campus text    NOT NULL CHECK (campus ~ '^[!-~]{1,64}$')
);
INSERT INTO catalog_campus (campus) VALUES ('hr-rfp');

-- The product's own fields, from "id" to "updated_at", as both documents below carry them
-- (braces left to the caller). A SQL function of plain arguments: inlined into the views'
-- query, so it costs what the expression written out costs.
CREATE FUNCTION product_fields(id integer, campus text, name text, slogan text, description text,
                               category text, default_price numeric, created_at timestamptz,
                               updated_at timestamptz) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN '"id":' || id
    || ',"campus":' || json_str(campus)
    || ',"name":' || json_str(name)
    || ',"slogan":' || json_str(slogan)
    || ',"description":' || json_str(description)
    || ',"category":' || json_str(category)
    || ',"default_price":' || json_price(default_price)
    || ',"created_at":' || json_time(created_at)
    || ',"updated_at":' || json_time(updated_at);

-- The two documents that carry campus, as in 003 with the code after the id. Recreated, not
-- altered (a materialized view's query cannot change): a live catalog migrated here is
-- rebuilt once from its tables, inside this migration's transaction.
DROP MATERIALIZED VIEW product_doc;
CREATE MATERIALIZED VIEW product_doc AS
WITH feature_lists AS (
  SELECT product_id,
         string_agg('{"feature":' || json_str(feature) || ',"value":' || json_str(value) || '}',
                    ',' ORDER BY id) AS items
  FROM features
  GROUP BY product_id
)
SELECT p.id,
       '{' || product_fields(p.id, c.campus, p.name, p.slogan, p.description, p.category,
                             p.default_price, p.created_at, p.updated_at)
         || ',"features":[' || coalesce(f.items, '') || ']}' AS body
FROM product p
CROSS JOIN catalog_campus c
LEFT JOIN feature_lists f ON f.product_id = p.id;
CREATE UNIQUE INDEX product_doc_id_idx ON product_doc (id);

DROP MATERIALIZED VIEW product_list_doc;
CREATE MATERIALIZED VIEW product_list_doc AS
SELECT row_number() OVER (ORDER BY p.id) AS pos,
       p.id,
       '{' || product_fields(p.id, c.campus, p.name, p.slogan, p.description, p.category,
                             p.default_price, p.created_at, p.updated_at) || '}' AS body
FROM product p
CROSS JOIN catalog_campus c;
CREATE UNIQUE INDEX product_list_doc_pos_idx ON product_list_doc (pos);
