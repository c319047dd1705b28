-- classify: like syndication and events, each article is pending until labels of the current classifier
-- and taxonomy are stored. The claim used to find its work by joining every article with its labels
-- (139 ms a batch at 200,000 articles, growing with the archive); it now reads a partial index.
-- A new classifier version or taxonomy marks the articles labelled by another one pending, once:
-- `classifier_current` holds the pair the archive was last marked for (pipeline/classify/store.py).
ALTER TABLE articles
    ADD COLUMN classify_state text NOT NULL DEFAULT 'pending' CHECK (classify_state IN ('pending', 'done'));
UPDATE articles a SET classify_state = 'done'
WHERE EXISTS (SELECT 1 FROM article_classifications c WHERE c.article_id = a.id);
CREATE INDEX articles_classify_todo_idx ON articles (id) WHERE classify_state = 'pending';

CREATE TABLE classifier_current (
    only_row            boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    classifier_version  text NOT NULL,
    taxonomy_hash       text NOT NULL,
    since               timestamptz NOT NULL DEFAULT now()
);
