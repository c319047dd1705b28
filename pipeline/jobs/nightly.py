"""The nightly job, stage by stage. Each function here is one Airflow task of `news_nightly` and one
step of `newsflow run`: it opens its own connection, does one stage for the ids it is given, records
its counts on the run, and returns only ids and counts.

    begin_run -> poll -> plan_batches -> process_batch (one per batch) -> link_and_find_events -> end_run
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg

from pipeline import runs
from pipeline.classify import classify_articles
from pipeline.db import connection
from pipeline.events import extract_events
from pipeline.extract import extract_pages
from pipeline.feeds import poll_feeds, sync_feeds
from pipeline.fetch import fetch_pages
from pipeline.fetch.store import frontier_urls, pending_frontier
from pipeline.jobs.common import measure, record, timed
from pipeline.runs import Counts, RunReport
from pipeline.settings import Settings
from pipeline.syndication import link_articles

log = logging.getLogger(__name__)


def begin_run(
    settings: Settings,
    kind: str,
    *,
    run_key: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> int:
    """Migrate, sync the feed list into `feeds`, and open a run. Returns the run id."""
    with connection(settings) as conn:
        run_id = runs.start_run(conn, kind, run_key=run_key, window_start=window_start, window_end=window_end)
        timed(conn, run_id, "feeds", lambda: sync_feeds(conn, settings.feeds_file))
    return run_id


def poll(settings: Settings, run_id: int, *, now: datetime, window_end: datetime | None) -> Counts:
    """Poll the due feeds; new entry URLs go to the frontier."""
    with connection(settings) as conn:
        return timed(
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
    with connection(settings) as conn:
        raw_ids: list[int] = []

        def fetch() -> Counts:
            counts, stored = fetch_pages(conn, settings, frontier_ids, run_id=run_id)
            raw_ids.extend(stored)
            return counts

        timed(conn, run_id, "fetch", fetch)
        return process_raw_pages(conn, settings, run_id, raw_ids)


def process_raw_pages(
    conn: psycopg.Connection[Any], settings: Settings, run_id: int, raw_page_ids: Sequence[int]
) -> list[int]:
    """Extract and classify stored raw pages in one transaction (also the entry point of backfills)."""
    with conn.transaction():
        (extracted, article_ids), extract_s = measure(
            lambda: extract_pages(conn, settings, raw_page_ids)
        )
        classified, classify_s = measure(
            lambda: classify_articles(conn, article_ids, settings.topics_file, cache_dir=settings.home / "models")
        )
    record(conn, run_id, ("extract", extracted, extract_s), ("classify", classified, classify_s))
    return article_ids


def link_and_find_events(settings: Settings, run_id: int, article_ids: Sequence[int]) -> Counts:
    """Syndication over the archive window, then events: sequential, after every batch is in."""

    ids = sorted(set(article_ids))
    with connection(settings) as conn:
        with conn.transaction():
            linked, link_s = measure(lambda: link_articles(conn, ids, window_days=settings.dedup_window_days))
            found, events_s = measure(lambda: extract_events(conn, ids))
        record(conn, run_id, ("syndication", linked, link_s), ("events", found, events_s))
    return runs.merge_counts(linked, found)


def end_run(settings: Settings, run_id: int, status: str = "success") -> RunReport:
    with connection(settings) as conn:
        runs.finish_run(conn, run_id, status)
        return runs.load_report(conn, run_id)


def fail_run(settings: Settings, run_key: str) -> None:
    """Mark the `pipeline_runs` row of this orchestrator run (Airflow's run id) failed."""
    with connection(settings) as conn:
        runs.fail_run_by_key(conn, run_key)


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
