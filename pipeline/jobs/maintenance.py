"""Maintenance jobs: re-extraction after an extractor upgrade, relabelling after a taxonomy change,
and pruning of what no article needs any more. Each records a run in `pipeline_runs` and commits per
batch, so an interrupted job resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from pipeline import runs
from pipeline.classify import classify_articles, stale_article_ids
from pipeline.classify.store import load_for
from pipeline.db import connection
from pipeline.events import refind_events
from pipeline.extract import reextract_articles
from pipeline.extract.store import stale_extractions
from pipeline.jobs.common import measure, record, timed
from pipeline.runs import Counts, RunReport
from pipeline.settings import Settings
from pipeline.syndication import link_articles


def plan_reclassify(settings: Settings, *, max_batches: int = 256, min_batch: int = 500) -> list[list[int]]:
    """Id ranges [first, last] of the articles whose labels are stale (another taxonomy or
    classifier version), cut so that the relabelling fans out over at most `max_batches` tasks."""

    with connection(settings) as conn:
        taxonomy, classifier = load_for(settings.topics_file, settings.home / "models")
        ids = stale_article_ids(conn, classifier.version, taxonomy.hash)
    size = max(min_batch, -(-len(ids) // max_batches))
    return [[ids[i], ids[min(i + size, len(ids)) - 1]] for i in range(0, len(ids), size)]


def reclassify_range(settings: Settings, run_id: int, first: int, last: int) -> Counts:
    """Relabel the stale articles with ids in [first, last], one transaction per 500 articles."""

    with connection(settings) as conn:
        taxonomy, classifier = load_for(settings.topics_file, settings.home / "models")
        ids = stale_article_ids(conn, classifier.version, taxonomy.hash, first=first, last=last)
        total: Counts = {}
        for start in range(0, len(ids), 500):
            counts = timed(
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
            linked, link_s = measure(lambda: link_articles(conn, changed, window_days=settings.dedup_window_days))
        record(conn, run_id, ("syndication", linked, link_s))
        runs.finish_run(conn, run_id)
        return runs.load_report(conn, run_id)


def _reextract_batch(conn: psycopg.Connection[Any], settings: Settings, run_id: int, batch: Sequence[int]) -> list[int]:
    """One transaction: new text and metadata, then new labels and event mentions for what changed."""

    with conn.transaction():
        (extracted, changed), extract_s = measure(lambda: reextract_articles(conn, settings, batch))
        classified, classify_s = measure(
            lambda: classify_articles(conn, changed, settings.topics_file, cache_dir=settings.home / "models")
        )
        found, events_s = measure(lambda: refind_events(conn, changed))
    record(
        conn,
        run_id,
        ("extract", extracted, extract_s),
        ("classify", classified, classify_s),
        ("events", found, events_s),
    )
    return changed
