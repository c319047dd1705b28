-- Full-text search for a multilingual archive. `articles.tsv` (0001) uses the `english` config:
-- stemming makes "attacks" find "attacked", but it stems and drops stop words of every language as
-- if it were English. `tsv_simple` indexes the same title and text with the `simple` config (lower-
-- cased words, no stemming, no stop words), so a name or a word in any language (Arabic, French,
-- Kurdish transliterations) matches as written. `newsflow search` matches either vector and ranks by
-- the better of the two (pipeline/analysis/queries.py).
ALTER TABLE articles ADD COLUMN tsv_simple tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('simple'::regconfig, left(text, 200000)), 'B')
) STORED;
CREATE INDEX articles_tsv_simple_idx ON articles USING gin (tsv_simple);

-- Crawl-date lookups for `newsflow gaps --by crawl` (the date a backfill window selects by).
CREATE INDEX raw_pages_fetched_idx ON raw_pages (fetched_at);
