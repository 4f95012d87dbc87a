-- The normalized catalog, one table per file of the Atelier CSV export.
-- Unqualified names: the migrator runs every file with search_path set to the catalog
-- schema it is building ("catalog" for the live one), so a reload can build a complete
-- second catalog beside the live one and swap schemas in one transaction.

CREATE TABLE product (
  id            integer       PRIMARY KEY,
  name          text          NOT NULL,
  slogan        text,
  description   text,
  category      text,
  default_price numeric(12,2) NOT NULL,
  created_at    timestamptz   NOT NULL DEFAULT now(),
  updated_at    timestamptz   NOT NULL DEFAULT now()
);

CREATE TABLE features (
  id         integer PRIMARY KEY,
  product_id integer NOT NULL REFERENCES product (id),
  feature    text    NOT NULL,
  value      text
);
CREATE INDEX features_product_id_idx ON features (product_id, id);

CREATE TABLE styles (
  id             integer       PRIMARY KEY,
  product_id     integer       NOT NULL REFERENCES product (id),
  name           text          NOT NULL,
  sale_price     numeric(12,2),
  original_price numeric(12,2) NOT NULL,
  default_style  boolean       NOT NULL
);
CREATE INDEX styles_product_id_idx ON styles (product_id, id);

CREATE TABLE photos (
  id            integer PRIMARY KEY,
  style_id      integer NOT NULL REFERENCES styles (id),
  url           text,
  thumbnail_url text
);
CREATE INDEX photos_style_id_idx ON photos (style_id, id);

CREATE TABLE skus (
  id       integer PRIMARY KEY,
  style_id integer NOT NULL REFERENCES styles (id),
  size     text,
  quantity integer NOT NULL
);
CREATE INDEX skus_style_id_idx ON skus (style_id, id);

-- related_product_id is not a foreign key: the export names ids that are not products,
-- and the documented behaviour is to leave them out of the answer, not to reject them.
CREATE TABLE related (
  id                 integer PRIMARY KEY,
  current_product_id integer NOT NULL REFERENCES product (id),
  related_product_id integer NOT NULL
);
CREATE INDEX related_current_product_id_idx ON related (current_product_id, id);

-- One row per load of this catalog: what it came from and when it became live.
CREATE TABLE catalog_info (
  version   bigint      PRIMARY KEY,
  source    text        NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
);
