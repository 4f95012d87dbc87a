-- The cache keys a full load changed against the catalog it replaced (db/etl/reload-diff.ts),
-- when they are too many for its notification: the workers read them under the load's
-- version, drop those documents and keep the rest of their caches.
CREATE TABLE catalog_load_keys (
  version bigint PRIMARY KEY,
  keys    text[] NOT NULL
);
