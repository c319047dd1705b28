-- Syndication candidate index: a bounded set of text fingerprints per article, looked up by
-- (fingerprint, day) so a new article only meets the archive inside its date window.

-- One row per indexed article: what it was indexed under, so a rerun can tell "unchanged" and a
-- changed text can remove exactly its old postings.
CREATE TABLE syndication_docs (
    article_id   bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    day          integer NOT NULL,          -- days since 1970-01-01 of published_at (created_at if null)
    text_hash    text NOT NULL,             -- sha256 of the normalized token stream (exact duplicates)
    fps          bigint[] NOT NULL,         -- the fingerprints posted below
    indexed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX syndication_docs_hash_idx ON syndication_docs (text_hash);

-- Postings: fingerprint -> article, with the article's day. No foreign key (tens of millions of rows);
-- postings of a deleted article are ignored at lookup (the article is gone) and removed by
-- `pipeline.syndication.store.prune_postings`.
CREATE TABLE syndication_postings (
    fp          bigint NOT NULL,
    day         integer NOT NULL,
    article_id  bigint NOT NULL
);
CREATE INDEX syndication_postings_idx ON syndication_postings (fp, day, article_id);
