-- Precomputed response bodies, one row per product and route, stored as the exact bytes
-- the API sends. Each view has a unique index, so REFRESH ... CONCURRENTLY works and
-- readers never block. Every product has a row in each view: a missing row means 404.

-- GET /products/:id
CREATE MATERIALIZED VIEW product_doc AS
WITH feature_lists AS (
  SELECT product_id,
         string_agg('{"feature":' || json_str(feature) || ',"value":' || json_str(value) || '}',
                    ',' ORDER BY id) AS items
  FROM features
  GROUP BY product_id
)
SELECT p.id,
       '{"id":' || p.id
         || ',"name":' || json_str(p.name)
         || ',"slogan":' || json_str(p.slogan)
         || ',"description":' || json_str(p.description)
         || ',"category":' || json_str(p.category)
         || ',"default_price":' || json_price(p.default_price)
         || ',"created_at":' || json_time(p.created_at)
         || ',"updated_at":' || json_time(p.updated_at)
         || ',"features":[' || coalesce(f.items, '') || ']}' AS body
FROM product p
LEFT JOIN feature_lists f ON f.product_id = p.id;
CREATE UNIQUE INDEX product_doc_id_idx ON product_doc (id);

-- GET /products: one list entry per product with its 1-based position in id order, so a
-- page is an index range scan on pos (page 200000 costs what page 1 costs).
CREATE MATERIALIZED VIEW product_list_doc AS
SELECT row_number() OVER (ORDER BY p.id) AS pos,
       p.id,
       '{"id":' || p.id
         || ',"name":' || json_str(p.name)
         || ',"slogan":' || json_str(p.slogan)
         || ',"description":' || json_str(p.description)
         || ',"category":' || json_str(p.category)
         || ',"default_price":' || json_price(p.default_price)
         || ',"created_at":' || json_time(p.created_at)
         || ',"updated_at":' || json_time(p.updated_at) || '}' AS body
FROM product p;
CREATE UNIQUE INDEX product_list_doc_pos_idx ON product_list_doc (pos);

-- GET /products/:id/styles, with the replaced API's placeholders for a style without
-- photos or skus.
CREATE MATERIALIZED VIEW styles_doc AS
WITH photo_lists AS (
  SELECT style_id,
         string_agg('{"thumbnail_url":' || json_str(thumbnail_url) || ',"url":' || json_str(url) || '}',
                    ',' ORDER BY id) AS items
  FROM photos
  GROUP BY style_id
), sku_maps AS (
  SELECT style_id,
         string_agg('"' || id || '":{"quantity":' || quantity || ',"size":' || json_str(size) || '}',
                    ',' ORDER BY id) AS items
  FROM skus
  GROUP BY style_id
), style_lists AS (
  SELECT s.product_id,
         string_agg('{"style_id":' || s.id
                      || ',"name":' || json_str(s.name)
                      || ',"original_price":' || json_price(s.original_price)
                      || ',"sale_price":' || json_price(s.sale_price)
                      || ',"default?":' || CASE WHEN s.default_style THEN 'true' ELSE 'false' END
                      || ',"photos":' || coalesce('[' || ph.items || ']', '[{"thumbnail_url":null,"url":null}]')
                      || ',"skus":' || coalesce('{' || sk.items || '}', '{"null":{"quantity":null,"size":null}}')
                      || '}',
                    ',' ORDER BY s.id) AS items
  FROM styles s
  LEFT JOIN photo_lists ph ON ph.style_id = s.id
  LEFT JOIN sku_maps sk ON sk.style_id = s.id
  GROUP BY s.product_id
)
SELECT p.id,
       '{"product_id":"' || p.id || '","results":[' || coalesce(sl.items, '') || ']}' AS body
FROM product p
LEFT JOIN style_lists sl ON sl.product_id = p.id;
CREATE UNIQUE INDEX styles_doc_id_idx ON styles_doc (id);

-- GET /products/:id/related: source row order, first occurrence wins, without 0, the
-- product itself, or ids that are not products.
CREATE MATERIALIZED VIEW related_doc AS
WITH firsts AS (
  SELECT current_product_id, related_product_id, min(id) AS first_row
  FROM related
  WHERE related_product_id <> 0 AND related_product_id <> current_product_id
  GROUP BY current_product_id, related_product_id
), related_lists AS (
  SELECT f.current_product_id,
         string_agg(f.related_product_id::text, ',' ORDER BY f.first_row) AS items
  FROM firsts f
  JOIN product target ON target.id = f.related_product_id
  GROUP BY f.current_product_id
)
SELECT p.id, '[' || coalesce(r.items, '') || ']' AS body
FROM product p
LEFT JOIN related_lists r ON r.current_product_id = p.id;
CREATE UNIQUE INDEX related_doc_id_idx ON related_doc (id);
