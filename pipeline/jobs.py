"""The nightly job, stage by stage. Each function here is one Airflow task of `news_nightly` and one
step of `newsflow run`: it opens its own connection, does one stage for the ids it is given, records
its counts on the run, and returns only ids and counts.

    begin_run -> poll -> plan_batches -> process_batch (one per batch) -> link_and_find_events -> end_run
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from pipeline import db, runs
from pipeline.errors import DatabaseError
from pipeline.runs import Counts, RunReport
from pipeline.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DBNAME = "newsflow"
T = TypeVar("T")


def database_url(settings: Settings) -> str:
    """DATABASE_URL when given, else the embedded server in $NEWSFLOW_HOME (started on demand)."""
    if settings.database_url:
        return settings.database_url
    from pipeline.embedded import start_embedded

    admin_url = start_embedded(settings.home / "pgdata")
    with db.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DBNAME,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DBNAME)))
    return psycopg.conninfo.make_conninfo(admin_url, dbname=EMBEDDED_DBNAME)


@contextmanager
def connection(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the configured database, with every migration applied."""
    conn = db.connect(database_url(settings))
    try:
        db.migrate(conn)
        yield conn
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"the database went away: {exc}") from exc
    finally:
        conn.close()


def _timed(conn: psycopg.Connection[Any], run_id: int, stage: str, work: Callable[[], Counts]) -> Counts:
    counts, seconds = _measure(work)
    _record(conn, run_id, (stage, counts, seconds))
    return counts


def _measure(work: Callable[[], T]) -> tuple[T, float]:
    """What `work` returned, and how many seconds it took."""
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def _record(conn: psycopg.Connection[Any], run_id: int, *stages: tuple[str, Counts, float]) -> None:
    """Add stages' counts and times to the run, after the transaction that did the work committed."""
    for stage, counts, seconds in stages:
        runs.record_stage(conn, run_id, stage, counts, seconds)
    conn.commit()


def begin_run(
    settings: Settings,
    kind: str,
    *,
    run_key: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> int:
    """Migrate, sync the feed list into `feeds`, and open a run. Returns the run id."""
    from pipeline.feeds import sync_feeds

    with connection(settings) as conn:
        run_id = runs.start_run(conn, kind, run_key=run_key, window_start=window_start, window_end=window_end)
        _timed(conn, run_id, "feeds", lambda: sync_feeds(conn, settings.feeds_file))
    return run_id


def poll(settings: Settings, run_id: int, *, now: datetime, window_end: datetime | None) -> Counts:
    """Poll the due feeds; new entry URLs go to the frontier."""
    from pipeline.feeds import poll_feeds

    with connection(settings) as conn:
        return _timed(
            conn,
            run_id,
            "poll",
            lambda: poll_feeds(conn, settings, now=now, window_end=window_end, run_id=run_id),
        )


def plan_batches(settings: Settings, *, batch_size: int | None = None) -> list[list[int]]:
    """The pending frontier, cut into batches of frontier ids (one Airflow task each).

    All URLs of one host go to the same batch, so batches fetched at the same time by parallel
    tasks never share a host and each host's politeness limit holds across tasks.
    """
    from pipeline.fetch.store import frontier_urls, pending_frontier

    size = batch_size or settings.batch_size
    with connection(settings) as conn:
        rows = frontier_urls(conn, pending_frontier(conn))
    return batches_by_host(rows, size)


def batches_by_host(items: Sequence[tuple[int, str]], size: int) -> list[list[int]]:
    """About len/size batches; a host's items all land in one batch (chosen by a stable hash)."""
    count = max(1, -(-len(items) // size))
    buckets: list[list[int]] = [[] for _ in range(count)]
    for item_id, url in sorted(items):
        host = urlsplit(url).hostname or ""
        buckets[zlib.crc32(host.encode()) % count].append(item_id)
    return [bucket for bucket in buckets if bucket]


def process_batch(settings: Settings, run_id: int, frontier_ids: Sequence[int]) -> list[int]:
    """Fetch a batch of pages, then extract and classify them in one transaction. Returns article ids."""
    from pipeline.fetch import fetch_pages

    with connection(settings) as conn:
        raw_ids: list[int] = []

        def fetch() -> Counts:
            counts, stored = fetch_pages(conn, settings, frontier_ids, run_id=run_id)
            raw_ids.extend(stored)
            return counts

        _timed(conn, run_id, "fetch", fetch)
        return process_raw_pages(conn, settings, run_id, raw_ids)


def process_raw_pages(
    conn: psycopg.Connection[Any], settings: Settings, run_id: int, raw_page_ids: Sequence[int]
) -> list[int]:
    """Extract and classify stored raw pages in one transaction (also the entry point of backfills)."""
    from pipeline.classify import classify_articles
    from pipeline.extract.articles import extract_pages

    with conn.transaction():
        (extracted, article_ids), extract_s = _measure(
            lambda: extract_pages(conn, settings, raw_page_ids)
        )
        classified, classify_s = _measure(
            lambda: classify_articles(conn, article_ids, settings.topics_file, cache_dir=settings.home / "models")
        )
    _record(conn, run_id, ("extract", extracted, extract_s), ("classify", classified, classify_s))
    return article_ids


def link_and_find_events(settings: Settings, run_id: int, article_ids: Sequence[int]) -> Counts:
    """Syndication over the archive window, then events: sequential, after every batch is in."""
    from pipeline.events import extract_events
    from pipeline.syndication import link_articles

    ids = sorted(set(article_ids))
    with connection(settings) as conn:
        with conn.transaction():
            linked, link_s = _measure(lambda: link_articles(conn, ids, window_days=settings.dedup_window_days))
            found, events_s = _measure(lambda: extract_events(conn, ids))
        _record(conn, run_id, ("syndication", linked, link_s), ("events", found, events_s))
    return runs.merge_counts(linked, found)


def end_run(settings: Settings, run_id: int, status: str = "success") -> RunReport:
    with connection(settings) as conn:
        runs.finish_run(conn, run_id, status)
        return runs.load_report(conn, run_id)


def run_once(
    settings: Settings,
    *,
    kind: str = "run",
    now: datetime | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    run_key: str | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Every stage once, in this process: what `newsflow run` and `newsflow demo` do."""
    now = now or datetime.now(UTC)
    run_id = begin_run(settings, kind, run_key=run_key, window_start=window_start, window_end=window_end)
    try:
        poll(settings, run_id, now=now, window_end=window_end)
        batches = plan_batches(settings)
        article_ids: list[int] = []
        for number, batch in enumerate(batches, 1):
            article_ids += process_batch(settings, run_id, batch)
            if on_batch:
                on_batch(number, len(batches))
        link_and_find_events(settings, run_id, article_ids)
    except BaseException:
        end_run(settings, run_id, "failed")
        raise
    return end_run(settings, run_id)


def plan_reclassify(settings: Settings, *, max_batches: int = 256, min_batch: int = 500) -> list[list[int]]:
    """Id ranges [first, last] of the articles whose labels are stale (another taxonomy or
    classifier version), cut so that the relabelling fans out over at most `max_batches` tasks."""
    from pipeline.classify import stale_article_ids
    from pipeline.classify.store import load_for

    with connection(settings) as conn:
        taxonomy, classifier = load_for(settings.topics_file, settings.home / "models")
        ids = stale_article_ids(conn, classifier.version, taxonomy.hash)
    size = max(min_batch, -(-len(ids) // max_batches))
    return [[ids[i], ids[min(i + size, len(ids)) - 1]] for i in range(0, len(ids), size)]


def reclassify_range(settings: Settings, run_id: int, first: int, last: int) -> Counts:
    """Relabel the stale articles with ids in [first, last], one transaction per 500 articles."""
    from pipeline.classify import classify_articles, stale_article_ids
    from pipeline.classify.store import load_for

    with connection(settings) as conn:
        taxonomy, classifier = load_for(settings.topics_file, settings.home / "models")
        ids = stale_article_ids(conn, classifier.version, taxonomy.hash, first=first, last=last)
        total: Counts = {}
        for start in range(0, len(ids), 500):
            counts = _timed(
                conn,
                run_id,
                "reclassify",
                lambda chunk=ids[start : start + 500]: classify_articles(  # type: ignore[misc]
                    conn, chunk, settings.topics_file, cache_dir=settings.home / "models"
                ),
            )
            total = runs.merge_counts(total, counts)
    return total


def reextract(
    settings: Settings, *, everything: bool = False, on_batch: Callable[[int, int], None] | None = None
) -> RunReport:
    """Extract stored articles again from their raw pages (after an extractor upgrade, or all of them
    with `everything`), then relabel, re-find events and relink those whose text changed. Batches
    commit one by one, so an interrupted run resumes where it stopped."""
    from pipeline.extract.store import stale_extractions
    from pipeline.syndication import link_articles

    with connection(settings) as conn:
        run_id = runs.start_run(conn, "reextract")
        ids = stale_extractions(conn, everything=everything)
        batches = [ids[i : i + settings.batch_size] for i in range(0, len(ids), settings.batch_size)]
        changed: list[int] = []
        for number, batch in enumerate(batches, 1):
            changed += _reextract_batch(conn, settings, run_id, batch)
            if on_batch:
                on_batch(number, len(batches))
        with conn.transaction():
            linked, link_s = _measure(lambda: link_articles(conn, changed, window_days=settings.dedup_window_days))
        _record(conn, run_id, ("syndication", linked, link_s))
        runs.finish_run(conn, run_id)
        return runs.load_report(conn, run_id)


def _reextract_batch(conn: psycopg.Connection[Any], settings: Settings, run_id: int, batch: Sequence[int]) -> list[int]:
    """One transaction: new text and metadata, then new labels and event mentions for what changed."""
    from pipeline.classify import classify_articles
    from pipeline.events import refind_events
    from pipeline.extract.articles import reextract_articles

    with conn.transaction():
        (extracted, changed), extract_s = _measure(lambda: reextract_articles(conn, settings, batch))
        classified, classify_s = _measure(
            lambda: classify_articles(conn, changed, settings.topics_file, cache_dir=settings.home / "models")
        )
        found, events_s = _measure(lambda: refind_events(conn, changed))
    _record(
        conn,
        run_id,
        ("extract", extracted, extract_s),
        ("classify", classified, classify_s),
        ("events", found, events_s),
    )
    return changed
