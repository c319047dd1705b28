-- Adaptive polling (docs/watch.md, "Adaptive polling"): a feed's `poll_interval_s` is its quiet rate,
-- the longest wait between two polls; a feed whose polls keep finding new entries is polled sooner,
-- down to the 60-s minimum. `adaptive` (from config/feeds.yaml, default true) turns this off per feed.
-- The rule needs nothing else stored: the next wait is derived from the time since the last
-- successful poll (`last_success_at`) and the entries that poll found new, then written to
-- `next_poll_at`; `poll_wait_s` keeps the wait chosen (or the backoff after a failure), for
-- `newsflow feeds list` and the tests.
ALTER TABLE feeds ADD COLUMN adaptive boolean NOT NULL DEFAULT true;
ALTER TABLE feeds ADD COLUMN poll_wait_s integer CHECK (poll_wait_s > 0);
