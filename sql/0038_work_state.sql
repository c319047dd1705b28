-- Durable work state: every page's progress is state in PostgreSQL, and every stage takes its work
-- from that state (never from ids handed over by a process that may die). See docs/reliability.md.

-- fetch: the host of each frontier URL (per-host claims), a back-off for temporary failures, the
-- last error, and `parked` for an item that kept failing.
ALTER TABLE frontier
    ADD COLUMN host text GENERATED ALWAYS AS (
        btrim(lower(substring(url FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(\[[^]]*\]|[^:/?#]*)')), '[]')
    ) STORED,
    ADD COLUMN last_error text,
    ADD COLUMN last_run_id bigint;  -- the run that last tried it: a run does not retry what failed in it
ALTER TABLE frontier DROP CONSTRAINT frontier_state_check;
ALTER TABLE frontier ADD CONSTRAINT frontier_state_check
    CHECK (state IN ('new', 'fetched', 'skipped', 'failed', 'parked'));
CREATE INDEX frontier_pending_idx ON frontier (host, discovered_at, id) WHERE state IN ('new', 'failed');

-- Politeness across processes: when a host was last sent a request, by any process.
CREATE TABLE hosts (
    host             text PRIMARY KEY,
    last_request_at  timestamptz NOT NULL
);

-- extract: each raw page is pending until an article was made from it (done), it was found to make
-- none (skipped, with the reason and the extractor version that said so: a new extractor version
-- looks again), or it kept failing (failed with attempts, then parked with the error).
ALTER TABLE raw_pages
    ADD COLUMN extract_state text NOT NULL DEFAULT 'pending'
        CHECK (extract_state IN ('pending', 'done', 'skipped', 'failed', 'parked')),
    ADD COLUMN extract_reason text,
    ADD COLUMN extract_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN extracted_by text,
    ADD COLUMN extracted_at timestamptz;
UPDATE raw_pages r SET extract_state = 'done', extracted_at = now()
WHERE EXISTS (SELECT 1 FROM articles a WHERE a.raw_page_id = r.id);
CREATE INDEX raw_pages_todo_idx ON raw_pages (id) WHERE extract_state IN ('pending', 'failed', 'skipped');

-- syndication and events: each article is pending until the stage has looked at it. Existing
-- articles start pending: the first run after this migration links and finds events for each once
-- (both are idempotent), which also repairs what an interrupted run of an older version left out.
ALTER TABLE articles
    ADD COLUMN link_state text NOT NULL DEFAULT 'pending' CHECK (link_state IN ('pending', 'done')),
    ADD COLUMN events_state text NOT NULL DEFAULT 'pending' CHECK (events_state IN ('pending', 'done'));
CREATE INDEX articles_link_todo_idx ON articles (id) WHERE link_state = 'pending';
CREATE INDEX articles_events_todo_idx ON articles (id) WHERE events_state = 'pending';

-- runs: who runs it and whether it is alive. A run started by the CLI holds a session advisory lock
-- on its id for its whole life, so the next run can tell a dead one (lock free) and mark it
-- `abandoned`; Airflow runs update `heartbeat_at` from every task and end `failed` from the DAG's
-- failure callback.
ALTER TABLE pipeline_runs
    ADD COLUMN pid integer,
    ADD COLUMN hostname text,
    ADD COLUMN holds_lock boolean NOT NULL DEFAULT false,
    ADD COLUMN heartbeat_at timestamptz,
    ADD COLUMN error text;
ALTER TABLE pipeline_runs DROP CONSTRAINT pipeline_runs_status_check;
ALTER TABLE pipeline_runs ADD CONSTRAINT pipeline_runs_status_check
    CHECK (status IN ('running', 'success', 'failed', 'interrupted', 'abandoned'));
