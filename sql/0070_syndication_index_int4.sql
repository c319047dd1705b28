-- Syndication candidate index, narrower (decision D30): 32-bit fingerprints, and of an article's bounded
-- fingerprint subset only the even values (one in two, chosen by value: the same ones in every text).
-- `pipeline.syndication.core.posting_fps` is the same rule in Python.
--
-- Converted in place, no text is re-read: `syndication_docs.fps` holds each article's old 64-bit postings;
-- the new ones are those with an even value, narrowed to their low 32 bits (signed), exactly what the
-- linker now computes, so a rerun of the linker finds every converted article `unchanged`.
-- Both tables are rebuilt from `syndication_docs` (postings of deleted articles, which had no docs row,
-- are not carried over). The migration runner applies this file in one transaction with its
-- `schema_migrations` row: killed mid-way, nothing is changed; once applied, it is not run again.

SET LOCAL maintenance_work_mem = '256MB';

CREATE TABLE syndication_docs_new (
    article_id   bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    day          integer NOT NULL,          -- days since 1970-01-01 of published_at (created_at if null)
    text_hash    text NOT NULL,             -- sha256 of the normalized token stream (exact duplicates)
    fps          integer[] NOT NULL,        -- the fingerprints posted below
    indexed_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO syndication_docs_new (article_id, day, text_hash, fps, indexed_at)
SELECT d.article_id, d.day, d.text_hash,
       ARRAY(SELECT DISTINCT ((f << 32) >> 32)::integer FROM unnest(d.fps) AS f WHERE f & 1 = 0 ORDER BY 1),
       d.indexed_at
FROM syndication_docs d;

DROP TABLE syndication_docs;
ALTER TABLE syndication_docs_new RENAME TO syndication_docs;
ALTER INDEX syndication_docs_new_pkey RENAME TO syndication_docs_pkey;
ALTER TABLE syndication_docs RENAME CONSTRAINT syndication_docs_new_article_id_fkey
    TO syndication_docs_article_id_fkey;
CREATE INDEX syndication_docs_hash_idx ON syndication_docs (text_hash);

-- Postings: 16 bytes of data per row (int4 fp, int4 day, int8 article id: no alignment padding) instead
-- of 24; the btree on all three columns keeps lookups index-only.
DROP TABLE syndication_postings;
CREATE TABLE syndication_postings (
    fp          integer NOT NULL,
    day         integer NOT NULL,
    article_id  bigint NOT NULL
);
INSERT INTO syndication_postings (fp, day, article_id)
SELECT f, d.day, d.article_id FROM syndication_docs d, unnest(d.fps) AS f;
CREATE INDEX syndication_postings_idx ON syndication_postings (fp, day, article_id);
