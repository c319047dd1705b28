"""The nightly job, stage by stage. Each function here is one Airflow task of `news_nightly` and one
step of `newsflow run`: it opens its own connection, takes its work from the state in PostgreSQL
(never from ids handed over by a caller that may have died), commits each unit of work together with
its state change, records its counts on the run, and returns only counts.

    begin_run -> poll -> fetch_pending -> process_pending -> link_and_find_events -> end_run

Any of them can run again, in this process or another, at any time: what an earlier run left
pending at any stage is picked up, and nothing done is done twice. Parallel calls never take the same
item (row locks with SKIP LOCKED for pages and articles, PostgreSQL locks per host for fetching, one
lock for linking and one for events). See docs/reliability.md.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg

from pipeline import db, runs
from pipeline.classify import classify_articles, load_taxonomy
from pipeline.classify import store as classify_store
from pipeline.classify.store import load_for
from pipeline.db import connection
from pipeline.errors import DatabaseError, TransientError
from pipeline.events import refind_events
from pipeline.events import store as events_store
from pipeline.extract import extract_pages, extractor_version
from pipeline.extract import store as extract_store
from pipeline.feeds import is_outage, poll_feeds
from pipeline.feeds import store as feeds_store
from pipeline.feeds import sync_feeds as sync_feed_list
from pipeline.fetch import pages
from pipeline.jobs.common import checkpoint, measure, record, timed, with_retries
from pipeline.runs import Counts, RunReport
from pipeline.settings import Settings
from pipeline.syndication import link_articles
from pipeline.syndication import store as link_store

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]  # (stage, items done so far)


def begin_run(
    settings: Settings,
    kind: str,
    *,
    run_key: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> int:
    """Migrate, mark runs whose process died `abandoned`, sync the feed list into `feeds`, and open a
    run (for a run that spans Airflow tasks; `newsflow run` uses `held_run`). Returns the run id."""
    check_taxonomy(settings)
    with connection(settings) as conn:
        runs.reap_dead_runs(conn)
        run_id = runs.start_run(conn, kind, run_key=run_key, window_start=window_start, window_end=window_end)
        timed(conn, run_id, "feeds", lambda: sync_feed_list(conn, settings.feeds_file))
    checkpoint("begin:done")
    return run_id


def check_taxonomy(settings: Settings) -> None:
    """Read and validate the taxonomy file before any work (a ConfigError naming the place), so that a
    broken or missing file stops a run at its start, not after it polled and fetched everything."""
    load_taxonomy(settings.topics_file)


class RunStopped(Exception):  # noqa: N818 - a stop asked for, not an error
    """Raised inside `held_run` by a job that was asked to stop (`newsflow watch`): ends it `interrupted`."""


@contextmanager
def held_run(
    settings: Settings,
    kind: str,
    *,
    run_key: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    sync_feeds: bool = True,
) -> Iterator[int]:
    """A run owned by this process: its liveness lock is held on a connection of its own for as long
    as the run lasts, so a run whose process dies is marked `abandoned` by the next one. The run ends
    `success`, `interrupted` (SIGINT, SIGTERM) or `failed` (with the error) as the block does."""
    check_taxonomy(settings)
    keeper = db.connect(db.database_url(settings))
    try:
        db.migrate(keeper)
        runs.reap_dead_runs(keeper)
        run_id = runs.start_run(
            keeper, kind, run_key=run_key, window_start=window_start, window_end=window_end, holds_lock=True,
            commit=False,
        )  # fmt: skip
        runs.run_lock(keeper, run_id)  # taken before the row is visible to anyone else
        keeper.commit()
        try:
            if sync_feeds:  # a broken feed list fails this run (recorded), not a run left open
                with connection(settings) as conn:
                    timed(conn, run_id, "feeds", lambda: sync_feed_list(conn, settings.feeds_file))
            checkpoint("begin:done")
            yield run_id
        except (KeyboardInterrupt, SystemExit, RunStopped) as exc:
            runs.finish_run(keeper, run_id, "interrupted", error=f"stopped by {type(exc).__name__}")
            raise
        except BaseException as exc:
            runs.finish_run(keeper, run_id, "failed", error=f"{type(exc).__name__}: {db.redact(str(exc))}")
            raise
        runs.finish_run(keeper, run_id, "success")
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"the database went away: {db.redact(str(exc))}") from exc
    finally:
        keeper.close()


def poll(settings: Settings, run_id: int, *, now: datetime, window_end: datetime | None) -> Counts:
    """Poll the due feeds; new entry URLs go to the frontier (one transaction: a poll that dies leaves
    its feeds due). Raises TransientError on an outage (`feeds.is_outage`: every feed it polled failed
    for a temporary reason, on two hosts or more or every feed of the list). Those failures are
    recorded (`newsflow status` lists the feeds, the fetch log has their rows) but do not back the
    feeds off: they stay due, so a retry of the same run, at the same `now`, polls them again."""
    polled: list[int] = []
    with connection(settings) as conn, db.connect(db.database_url(settings), autocommit=True) as locks:
        counts, seconds = measure(
            lambda: poll_feeds(
                conn, settings, now=now, window_end=window_end, run_id=run_id, lock_conn=locks, polled=polled
            )
        )
        outage = is_outage(counts, lambda: feeds_store.listed_count(conn))
        if outage:
            feeds_store.keep_due_after_outage(conn, polled, now)
        elif counts.get("entries_new"):  # wake any `newsflow watch` (this process's or another's)
            runs.notify_work(conn)
        record(conn, run_id, ("poll", counts, seconds))
    checkpoint("poll:done")
    if outage:
        raise TransientError(f"every one of the {counts['feeds_polled']} due feeds failed for a temporary reason")
    return counts


def fetch_pending(settings: Settings, run_id: int, *, sources: list[str] | None = None) -> Counts:
    """Fetch every pending frontier URL whose host no other process is fetching (see
    `pipeline.fetch.pages.fetch_pending`); each page commits on its own."""
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    with connection(settings) as conn, db.connect(db.database_url(settings), autocommit=True) as locks:
        try:
            pages.fetch_pending(conn, locks, settings, run_id=run_id, sources=sources, checkpoint=checkpoint,
                                counts=counts)  # fmt: skip
        finally:  # what was fetched is counted on the run, also when the stage fails as a whole
            if counts.get("fetched"):
                runs.notify_work(conn)  # committed by `record`
            record(conn, run_id, ("fetch", dict(counts), time.perf_counter() - started))
    checkpoint("fetch:done")
    return dict(counts)


def process_pending(
    settings: Settings, run_id: int, *, on_progress: Progress | None = None, extract_batches: int | None = None
) -> Counts:
    """Extract every pending raw page into articles (at most `extract_batches` batches: a backfill
    that stores its next pages meanwhile), then label every unlabelled article, one batch
    (`batch_size` items) per transaction. Safe beside other processes doing the same."""
    with connection(settings) as conn:
        tried: set[int] = set()  # pages that failed here are left for a later run, not retried now
        extracted = _drain(
            conn, run_id, "extract", lambda: _extract_batch(conn, settings, tried), on_progress, extract_batches
        )
        checkpoint("extract:done")
        classified = _drain(conn, run_id, "classify", lambda: _classify_batch(conn, settings), on_progress)
        checkpoint("classify:done")
    return runs.merge_counts(extracted, classified)


def link_and_find_events(
    settings: Settings, run_id: int, *, on_progress: Progress | None = None, batches: int | None = None
) -> Counts:
    """Syndication, then events, for every article still waiting for them (in batches, one process
    at a time for each: see the locks in their stores).

    `batches`: at most that many batches of each, and none while another process holds a stage's
    lock (it does the work): a backfill keeps up with what it extracts while its workers extract
    the next batch, and never waits for a nightly run's linker."""
    wait = batches is None
    with connection(settings) as conn:
        linked = _drain(conn, run_id, "syndication", lambda: _link_batch(conn, settings, wait), on_progress, batches)
        if wait:
            checkpoint("syndication:done")
        found = _drain(conn, run_id, "events", lambda: _events_batch(conn, settings, wait), on_progress, batches)
        if wait:
            checkpoint("events:done")
    return runs.merge_counts(linked, found)


def end_run(
    settings: Settings, run_id: int, status: str = "success", error: str | None = None,
    *, supersede_failed: bool = False,
) -> RunReport:  # fmt: skip
    """Close the run. `supersede_failed`: an Airflow run whose failed tasks were cleared and then
    succeeded is a success, although its failure callback had marked it failed."""
    with connection(settings) as conn:
        runs.finish_run(conn, run_id, status, error=error, supersede_failed=supersede_failed)
        return runs.load_report(conn, run_id)


def fail_run(settings: Settings, run_key: str, error: str | None = None) -> int:
    """Mark the running run(s) of an Airflow DAG run failed (its failure callback calls this)."""
    with connection(settings) as conn:
        return runs.fail_run_by_key(conn, run_key, error)


def run_once(
    settings: Settings,
    *,
    kind: str = "run",
    now: datetime | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    run_key: str | None = None,
    on_progress: Progress | None = None,
) -> RunReport:
    """Every stage once, in this process: what `newsflow run` and `newsflow demo` do. A stage that fails
    as a whole for a temporary reason (every feed unreachable) does not stop the others, which work on
    what is already there; the run then ends `failed` with that reason (its report says what was done),
    so a scheduler that runs it sees the outage."""
    now = now or datetime.now(UTC)
    failures: list[str] = []
    run_id = None
    try:
        with held_run(settings, kind, run_key=run_key, window_start=window_start, window_end=window_end) as run_id:
            _tolerate_transient(lambda: poll(settings, run_id, now=now, window_end=window_end), failures)
            _tolerate_transient(lambda: fetch_pending(settings, run_id), failures)
            process_pending(settings, run_id, on_progress=on_progress)
            link_and_find_events(settings, run_id, on_progress=on_progress)
            if failures:
                raise StagesFailed("; ".join(failures))
    except StagesFailed:
        pass  # recorded on the run by held_run
    assert run_id is not None
    with connection(settings) as conn:
        return runs.load_report(conn, run_id)


class StagesFailed(Exception):  # noqa: N818 - the run's outcome, recorded as its error
    """Stages of a one-shot run that failed as a whole for a temporary reason (the others ran)."""


def _tolerate_transient(step: Callable[[], Counts], failures: list[str]) -> None:
    """In a one-shot CLI run, a stage that failed as a whole for a temporary reason is reported (its
    counts are on the run, the reason in `failures`) and the run goes on with what it has; Airflow
    retries such a task."""
    try:
        step()
    except TransientError as exc:
        log.warning("%s", exc)
        failures.append(str(exc))


# ---------------------------------------------------------------- units of work

Batch = tuple[Counts, int]  # (counts, items taken): a batch that took nothing ends the stage


def _drain(
    conn: psycopg.Connection[Any],
    run_id: int,
    stage: str,
    batch: Callable[[], Batch],
    on_progress: Progress | None,
    limit: int | None = None,
) -> Counts:
    """Run one stage's batches until one takes nothing (or `limit` batches ran); each batch is a
    transaction, recorded on the run after it commits."""
    total: Counts = {}
    done = 0
    for _ in itertools.count() if limit is None else range(limit):
        (counts, taken), seconds = measure(lambda: with_retries(conn, batch))
        if not taken:
            return total
        record(conn, run_id, (stage, counts, seconds))
        checkpoint(f"{stage}:batch_committed")
        total = runs.merge_counts(total, counts)
        done += taken
        if on_progress is not None:
            on_progress(stage, done)
    return total


def _extract_batch(conn: psycopg.Connection[Any], settings: Settings, tried: set[int]) -> Batch:
    with conn.transaction():
        ids = extract_store.claim_raw_pages(
            conn, settings.batch_size, exclude=sorted(tried), fast=settings.extract_fast
        )
        if not ids:
            return {}, 0
        checkpoint("extract:claimed")
        counts = _extract_isolating(conn, settings, ids)
        checkpoint("extract:before_commit")
    tried.update(ids)
    return counts, len(ids)


# A value the encoder or PostgreSQL refuses (a character, a date or number out of range): one page's
# data, which no extraction rule foresaw. Anything else (the connection, a bug) still fails the batch.
ITEM_DATA_ERRORS = (UnicodeError, psycopg.errors.DataError)


def _extract_isolating(conn: psycopg.Connection[Any], settings: Settings, ids: list[int]) -> Counts:
    """The batch's pages in one go; when storing them fails on one page's data, again page by page (each
    in a savepoint), so that page fails alone (`failed:bad_data`, parked after its attempts) and the
    rest of its batch is stored: a bad page never blocks the pages claimed with it, run after run. The
    fallback extracts each page again, alone: twice the CPU for that batch, and a page's site profile
    then lacks the rest of the batch (its boilerplate lines may differ). Both are acceptable for what
    should be rare; the cleaning in extraction (`textclean`) is what keeps it rare."""
    try:
        with conn.transaction():
            return extract_pages(conn, settings, ids)[0]
    except ITEM_DATA_ERRORS as exc:
        log.warning("a batch of %d pages failed on its data (%s: %s); page by page", len(ids), type(exc).__name__, exc)
    total: Counts = {}
    for raw_id in ids:
        try:
            with conn.transaction():
                counts = extract_pages(conn, settings, [raw_id])[0]
        except ITEM_DATA_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("raw page %s failed on its data: %s", raw_id, error)
            extract_store.mark_extracted(conn, [(raw_id, "failed", error)], extractor_version(settings.extract_fast))
            counts = {"failed:bad_data": 1}
        total = runs.merge_counts(total, counts)
    return total


def _classify_batch(conn: psycopg.Connection[Any], settings: Settings) -> Batch:
    taxonomy, classifier = load_for(settings.topics_file, settings.home / "models")
    with conn.transaction():
        ids = classify_store.claim_unclassified(conn, classifier.version, taxonomy.hash, settings.batch_size)
        if not ids:
            return {}, 0
        counts = classify_articles(conn, ids, settings.topics_file, cache_dir=settings.home / "models")
        checkpoint("classify:before_commit")
    return counts, len(ids)


def _link_batch(conn: psycopg.Connection[Any], settings: Settings, wait: bool = True) -> Batch:
    with conn.transaction():
        ids = link_store.claim_unlinked(conn, settings.batch_size, wait=wait)
        if not ids:
            return {}, 0
        counts = link_articles(conn, ids, window_days=settings.dedup_window_days)
        link_store.mark_linked(conn, ids)
        checkpoint("syndication:before_commit")
    return counts, len(ids)


def _events_batch(conn: psycopg.Connection[Any], settings: Settings, wait: bool = True) -> Batch:
    with conn.transaction():
        ids = events_store.claim_unread(conn, settings.batch_size, wait=wait)
        if not ids:
            return {}, 0
        counts = refind_events(conn, ids)
        events_store.mark_read(conn, ids)
        checkpoint("events:before_commit")
    return counts, len(ids)
