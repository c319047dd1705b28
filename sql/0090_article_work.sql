-- The later stages' work state moves out of `articles` into a narrow table of its own.
--
-- `classify_state`, `link_state` and `events_state` were columns of `articles`, each with a partial
-- index for its claim, so every change of state was a non-HOT update of the wide row: a new row
-- version with new entries in every index, the two full-text GIN indexes included. Measured on 993
-- real articles: 65-73 ms to set one state on 50 articles, against 4.4 ms with the GIN indexes
-- dropped and 3.1 ms on a narrow table; three or four such updates per article, so several seconds of
-- PostgreSQL's CPU per thousand articles and as many dead row versions (D39).
--
-- One row per article, made by a trigger whatever inserts the article; removed with it.
CREATE TABLE article_work (
    article_id      bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    classify_state  text NOT NULL DEFAULT 'pending' CHECK (classify_state IN ('pending', 'done')),
    link_state      text NOT NULL DEFAULT 'pending' CHECK (link_state IN ('pending', 'done')),
    events_state    text NOT NULL DEFAULT 'pending' CHECK (events_state IN ('pending', 'done'))
);

INSERT INTO article_work (article_id, classify_state, link_state, events_state)
SELECT id, classify_state, link_state, events_state FROM articles;

CREATE INDEX article_work_classify_todo_idx ON article_work (article_id) WHERE classify_state = 'pending';
CREATE INDEX article_work_link_todo_idx ON article_work (article_id) WHERE link_state = 'pending';
CREATE INDEX article_work_events_todo_idx ON article_work (article_id) WHERE events_state = 'pending';

CREATE FUNCTION article_work_for_new_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO article_work (article_id) VALUES (NEW.id) ON CONFLICT (article_id) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER articles_work_row AFTER INSERT ON articles
    FOR EACH ROW EXECUTE FUNCTION article_work_for_new_article();

ALTER TABLE articles DROP COLUMN classify_state, DROP COLUMN link_state, DROP COLUMN events_state;
