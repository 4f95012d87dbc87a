-- `npm run db:refresh` records a version of its own (kind 'refresh'), so every commit that
-- changes documents (a load, a change set, a refresh) adds a catalog_info row: a worker
-- whose catalog listener lost its connection compares the newest row before and after, and
-- keeps its cache when nothing was committed meanwhile (src/postgres/listener.ts).
ALTER TABLE catalog_info DROP CONSTRAINT catalog_info_kind_check;
ALTER TABLE catalog_info ADD CONSTRAINT catalog_info_kind_check CHECK (kind IN ('load', 'changes', 'refresh'));
