-- Core schema: feeds, fetching, raw pages, articles, topics, clusters, events, runs.
-- Plain SQL, applied once in one transaction by `newsflow db migrate`.
-- Only core PostgreSQL and its built-in full-text search (no extensions).

CREATE TABLE feeds (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL,
    url              text NOT NULL UNIQUE,
    poll_interval_s  integer NOT NULL DEFAULT 3600 CHECK (poll_interval_s > 0),
    topic_hints      text[] NOT NULL DEFAULT '{}',
    in_config        boolean NOT NULL DEFAULT true,   -- false once removed from feeds.yaml (kept, never dropped)
    etag             text,
    last_modified    text,
    last_body_hash   text,
    failure_count    integer NOT NULL DEFAULT 0,       -- consecutive failures (0 after a success)
    hard_failures    integer NOT NULL DEFAULT 0,
    soft_failures    integer NOT NULL DEFAULT 0,
    temp_failures    integer NOT NULL DEFAULT 0,
    last_error       text,
    last_status      integer,
    last_polled_at   timestamptz,
    last_success_at  timestamptz,
    next_poll_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- URLs discovered (from feeds, sitemaps, files) and not yet turned into articles.
CREATE TABLE frontier (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url            text NOT NULL UNIQUE,             -- normalized
    feed_id        bigint REFERENCES feeds (id) ON DELETE SET NULL,
    source         text NOT NULL,                    -- feed:<id> | backfill:<kind> | demo ...
    title_hint     text,
    published_hint timestamptz,
    discovered_at  timestamptz NOT NULL DEFAULT now(),
    state          text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'fetched', 'skipped', 'failed')),
    attempts       integer NOT NULL DEFAULT 0,
    last_reason    text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX frontier_state_idx ON frontier (state, discovered_at);

CREATE TABLE fetch_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint,
    kind        text NOT NULL CHECK (kind IN ('feed', 'page', 'robots', 'sitemap')),
    url         text NOT NULL,
    final_url   text,
    status      integer,
    outcome     text NOT NULL,           -- ok | not_modified | unchanged | <skip reason>
    error       text,
    bytes       integer,
    elapsed_ms  integer,
    fetched_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fetch_log_url_idx ON fetch_log (url);
CREATE INDEX fetch_log_time_idx ON fetch_log (fetched_at);

-- The bytes as fetched, gzip-compressed, so re-extraction never re-downloads.
CREATE TABLE raw_pages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url           text NOT NULL UNIQUE,      -- normalized request URL
    final_url     text,
    status        integer,
    content_type  text,
    charset       text,
    headers       jsonb NOT NULL DEFAULT '{}',
    body_gz       bytea NOT NULL,
    body_sha256   text NOT NULL,
    body_bytes    integer NOT NULL,
    source        text NOT NULL,
    fetched_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE articles (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url             text NOT NULL UNIQUE,       -- normalized canonical URL
    raw_page_id     bigint REFERENCES raw_pages (id) ON DELETE SET NULL,
    source          text NOT NULL,              -- the outlet's registered domain, e.g. nytimes.com
    sitename        text,
    title           text,
    authors         text[] NOT NULL DEFAULT '{}',
    published_at    timestamptz,
    date_source     text,                       -- json-ld | meta | url | text | feed | none
    date_note       text,                       -- why a found date was not trusted
    language        text,
    text            text NOT NULL,
    word_count      integer NOT NULL,
    content_hash    text NOT NULL,              -- sha256 of the normalized text
    extractor       text NOT NULL,              -- extractor version
    relevant        boolean,                    -- null until classified
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    tsv             tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, left(text, 200000)), 'B')
    ) STORED
);
CREATE INDEX articles_tsv_idx ON articles USING gin (tsv);
CREATE INDEX articles_published_idx ON articles (published_at);
CREATE INDEX articles_hash_idx ON articles (content_hash);
CREATE INDEX articles_source_idx ON articles (source, published_at);

-- Every URL an article is known under (fetched, final, canonical, og:url, feed link).
CREATE TABLE article_urls (
    url         text PRIMARY KEY,
    article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    kind        text NOT NULL
);
CREATE INDEX article_urls_article_idx ON article_urls (article_id);

CREATE TABLE topics (
    id           text PRIMARY KEY,
    label        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    taxonomy     text NOT NULL DEFAULT 'default',
    taxonomy_hash text NOT NULL DEFAULT ''
);

CREATE TABLE article_topics (
    article_id          bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic_id            text NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    score               real NOT NULL,
    classifier_version  text NOT NULL,
    taxonomy_hash       text NOT NULL,
    labelled_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, topic_id)
);
CREATE INDEX article_topics_topic_idx ON article_topics (topic_id);

-- Which classifier last looked at an article (also for articles that got no topic).
CREATE TABLE article_classifications (
    article_id          bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    relevant            boolean NOT NULL,
    classifier_version  text NOT NULL,
    taxonomy_hash       text NOT NULL,
    classified_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE story_clusters (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    original_article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cluster_members (
    article_id   bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    cluster_id   bigint NOT NULL REFERENCES story_clusters (id) ON DELETE CASCADE,
    relation     text NOT NULL CHECK (relation IN ('original', 'duplicate', 'copy')),
    similarity   real NOT NULL,          -- containment of this article's text in the original (1 for the original)
    dropped      jsonb NOT NULL DEFAULT '[]',   -- paragraphs of the original missing from the copy
    added        jsonb NOT NULL DEFAULT '[]',   -- paragraphs of the copy missing from the original
    linked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cluster_members_cluster_idx ON cluster_members (cluster_id);

CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_key       text NOT NULL UNIQUE,      -- type|date|place: one event, many mentions
    event_type      text NOT NULL,
    event_date      date,
    date_precision  text NOT NULL CHECK (date_precision IN ('day', 'month', 'year', 'unknown')),
    place           text,
    country         text,
    actors          text[] NOT NULL DEFAULT '{}',
    killed          integer,
    injured         integer,
    detained        integer,
    extractor       text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_date_idx ON events (event_date);

CREATE TABLE event_mentions (
    event_id    bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    sentence    text NOT NULL,
    killed      integer,
    injured     integer,
    detained    integer,
    PRIMARY KEY (event_id, article_id)
);
CREATE INDEX event_mentions_article_idx ON event_mentions (article_id);

CREATE TABLE pipeline_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,               -- nightly | run | demo | backfill | reclassify
    run_key       text,                        -- e.g. the Airflow run id
    window_start  timestamptz,
    window_end    timestamptz,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'success', 'failed')),
    counts        jsonb NOT NULL DEFAULT '{}', -- {"stage": {"outcome": n}}
    durations     jsonb NOT NULL DEFAULT '{}'  -- {"stage": seconds}
);
