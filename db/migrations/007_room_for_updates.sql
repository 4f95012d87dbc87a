-- Live changes (006) rewrite rows in place all day: a sku's quantity with every order, a
-- product's or style's price with every sale. A page loaded full leaves no room, so each
-- updated row version lands on another page and gets new entries in every index of its table
-- (two for skus). Pages filled to 90 % keep room for the new version beside the old one: the
-- update is heap-only (HOT: no index entry; the old version is pruned with the page), as
-- long as it changes no indexed column (ids and parent ids, which changes rarely touch).
-- Set before a load's COPY, so it shapes every page a load writes; for a catalog loaded
-- before this migration it applies to the pages written from now on.
ALTER TABLE product SET (fillfactor = 90);
ALTER TABLE styles  SET (fillfactor = 90);
ALTER TABLE skus    SET (fillfactor = 90);
