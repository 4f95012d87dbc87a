-- The built-in sample catalog: deterministic, shaped like the Atelier export (per product
-- about 2.2 features, 2 styles and 4.5 related rows; per style about 2.9 photos and 5.8
-- skus), with the export's quirks: id gaps, null feature values, styles without photos or
-- skus, products without styles, and related rows naming 0, the product itself, duplicates
-- and unknown ids. Runs inside the loader's transaction with search_path set to the catalog
-- schema and atelier.sample_products set to the number of ids to draw from.
-- sample_rand(i, salt, n): a fixed multiplicative hash in [0, n), the same on every server.

CREATE TEMPORARY TABLE sample_words (kind text PRIMARY KEY, words text[] NOT NULL) ON COMMIT DROP;
INSERT INTO sample_words VALUES
  ('adj',  ARRAY['Camo','Bright','Heir','Pumped','Slacker''s','Morning','Summer','Alpine','Urban','Velvet','Coastal','Midnight']),
  ('noun', ARRAY['Onesie','Sunglasses','Forever','Up','Slacks','Joggers','Jacket','Kicks','Cap','Shorts','Sweater','Boots']),
  ('cat',  ARRAY['Jackets','Accessories','Pants','Kicks','Dress Shoes','Basketball Shoes','Heels','Shirts']),
  ('feat', ARRAY['Fabric','Sole','Material','Buttons','Lenses','Frame','Stitching','Fit','Cut']),
  ('val',  ARRAY['Canvas','Rubber','FullControlSkin','Brass','Ultrasheen','"Chrome"','Double Stitch','Skinny','100% Cotton']),
  ('col',  ARRAY['Forest Green & Black','Desert Brown & Tan','Ocean Blue & Grey','Digital Red & Black','Sky Blue & White','Black','Goldenrod','Cream & Navy']),
  ('size', ARRAY['XS','S','M','L','XL','XXL','7','7.5','8','8.5','9','9.5','10','11']);

CREATE FUNCTION pg_temp.sample_rand(i bigint, salt integer, n integer) RETURNS integer
  LANGUAGE sql IMMUTABLE
  RETURN ((((i + salt * 1000003::bigint) * 2654435761) % 4294967296) % n)::integer;

CREATE FUNCTION pg_temp.sample_word(kind text, i bigint, salt integer) RETURNS text
  LANGUAGE sql STABLE
  RETURN (SELECT words[1 + pg_temp.sample_rand(i, salt, cardinality(words))] FROM sample_words w WHERE w.kind = $1);

-- Every 37th id is missing, so positions and ids differ as in the real export.
INSERT INTO product (id, name, slogan, description, category, default_price, created_at, updated_at)
SELECT i,
       pg_temp.sample_word('adj', i, 1) || ' ' || pg_temp.sample_word('noun', i, 2) || ' ' || i,
       CASE WHEN i % 10 = 3 THEN 'Say "hello" to comfort' ELSE 'Blend in to your crowd' END,
       CASE WHEN i % 50 = 7
            THEN E'Line one of a two-line description.\nLine two, with a tab\tand a café.'
            ELSE repeat('The So Fatigues will wake you up and fit you in. ', 2 + pg_temp.sample_rand(i, 3, 6)) END,
       pg_temp.sample_word('cat', i, 4),
       5 + pg_temp.sample_rand(i, 5, 995),
       timestamptz '2026-11-20 10:00:00+00' + make_interval(secs => i),
       timestamptz '2026-11-20 10:00:00+00' + make_interval(secs => i)
FROM generate_series(1, current_setting('atelier.sample_products')::integer) AS i
WHERE i % 37 <> 0;

INSERT INTO features (id, product_id, feature, value)
SELECT row_number() OVER (ORDER BY p.id, k), p.id,
       pg_temp.sample_word('feat', p.id * 8 + k, 6),
       CASE WHEN pg_temp.sample_rand(p.id * 8 + k, 7, 9) = 0 THEN NULL
            ELSE pg_temp.sample_word('val', p.id * 8 + k, 8) END
FROM product p, generate_series(1, pg_temp.sample_rand(p.id, 9, 5)) AS k;

-- Products whose id ends in 7 get no styles one time in three.
INSERT INTO styles (id, product_id, name, sale_price, original_price, default_style)
SELECT row_number() OVER (ORDER BY p.id, k), p.id,
       pg_temp.sample_word('col', p.id * 8 + k, 10),
       CASE WHEN pg_temp.sample_rand(p.id * 8 + k, 11, 4) = 0 THEN p.default_price * 0.75 END,
       p.default_price,
       k = 1
FROM product p, generate_series(1, CASE WHEN p.id % 30 = 7 THEN 0 ELSE 1 + pg_temp.sample_rand(p.id, 12, 3) END) AS k;

-- 0 to 5 photos per style (0 yields the null placeholder).
INSERT INTO photos (id, style_id, url, thumbnail_url)
SELECT row_number() OVER (ORDER BY s.id, k), s.id,
       'https://images.unsplash.com/photo-' || (1500000000000 + s.id * 16 + k)
         || '-' || lpad(to_hex(pg_temp.sample_rand(s.id * 16 + k, 13, 16777216)), 6, '0')
         || '?ixlib=rb-1.2.1&ixid=eyJhcHBfaWQiOjEyMDd9&auto=format&fit=crop&w=668&q=80',
       'https://images.unsplash.com/photo-' || (1500000000000 + s.id * 16 + k)
         || '-' || lpad(to_hex(pg_temp.sample_rand(s.id * 16 + k, 13, 16777216)), 6, '0')
         || '?ixlib=rb-1.2.1&ixid=eyJhcHBfaWQiOjEyMDd9&auto=format&fit=crop&w=300&q=80'
FROM styles s, generate_series(1, pg_temp.sample_rand(s.id, 14, 6)) AS k;

-- 0 to 11 skus per style (0 yields the null placeholder).
INSERT INTO skus (id, style_id, size, quantity)
SELECT row_number() OVER (ORDER BY s.id, k), s.id,
       pg_temp.sample_word('size', s.id * 16 + k, 15),
       pg_temp.sample_rand(s.id * 16 + k, 16, 60)
FROM styles s, generate_series(1, pg_temp.sample_rand(s.id, 17, 12)) AS k;

-- 0 to 8 related rows per product, among them 0, the product itself, repeats and ids past
-- the end of the catalog; the documents leave those out.
INSERT INTO related (id, current_product_id, related_product_id)
SELECT row_number() OVER (ORDER BY p.id, k), p.id,
       CASE pg_temp.sample_rand(p.id * 8 + k, 18, 20)
         WHEN 0 THEN 0
         WHEN 1 THEN p.id
         WHEN 2 THEN current_setting('atelier.sample_products')::integer + 1000 + k
         ELSE 1 + pg_temp.sample_rand(p.id * 8 + k / 2, 19, current_setting('atelier.sample_products')::integer)
       END
FROM product p, generate_series(1, pg_temp.sample_rand(p.id, 20, 9)) AS k;
