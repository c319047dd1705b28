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
from pipeline.classify.store import drop_unused_topics, forget_labels, load_for
from pipeline.db import connection
from pipeline.events.store import mark_read
from pipeline.extract import reextract_articles
from pipeline.extract.core import extractor_version
from pipeline.extract.store import stale_extractions
from pipeline.jobs.common import measure, record, timed, with_retries
from pipeline.jobs.nightly import held_run, link_and_find_events, process_pending
from pipeline.runs import Counts, RunReport
from pipeline.settings import Settings
from pipeline.syndication.store import mark_linked, prune_postings


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


def reclassify(settings: Settings, *, on_batch: Callable[[int, int], None] | None = None) -> RunReport:
    """Relabel every article whose labels came from another taxonomy or classifier: what `newsflow
    reclassify` runs, and what `news_reclassify` runs as mapped tasks (plan -> ranges -> finish).
    Records a run, commits per batch, and prunes topics no article and no taxonomy uses any more."""
    with held_run(settings, "reclassify", sync_feeds=False) as run_id:
        ranges = plan_reclassify(settings)
        for number, (first, last) in enumerate(ranges, 1):
            reclassify_range(settings, run_id, first, last)
            if on_batch:
                on_batch(number, len(ranges))
        finish_reclassify(settings, run_id)
    with connection(settings) as conn:
        return runs.load_report(conn, run_id)


def finish_reclassify(settings: Settings, run_id: int) -> Counts:
    """After every range is relabelled: drop the topics that left the taxonomy and no article has."""
    with connection(settings) as conn:
        taxonomy, _ = load_for(settings.topics_file, settings.home / "models")
        return timed(conn, run_id, "reclassify", lambda: {"topics_removed": drop_unused_topics(conn, taxonomy)})


def reextract(
    settings: Settings, *, everything: bool = False, on_batch: Callable[[int, int], None] | None = None
) -> RunReport:
    """Extract stored articles again from their raw pages (after an extractor upgrade, or all of them
    with `everything`); those whose text changed wait again for labels, syndication and events, which
    then run on them. Batches commit one by one, so an interrupted run resumes where it stopped."""
    with held_run(settings, "reextract", sync_feeds=False) as run_id:
        with connection(settings) as conn:
            ids = stale_extractions(conn, everything=everything, version=extractor_version(settings.extract_fast))
            batches = [ids[i : i + settings.batch_size] for i in range(0, len(ids), settings.batch_size)]
            for number, batch in enumerate(batches, 1):
                with_retries(conn, lambda batch=batch: _reextract_batch(conn, settings, run_id, batch))  # type: ignore[misc]
                if on_batch:
                    on_batch(number, len(batches))
        process_pending(settings, run_id)
        link_and_find_events(settings, run_id)
    with connection(settings) as conn:
        return runs.load_report(conn, run_id)


def _reextract_batch(conn: psycopg.Connection[Any], settings: Settings, run_id: int, batch: Sequence[int]) -> None:
    """One transaction: new text and metadata; what changed waits again for the later stages."""
    with conn.transaction():
        (extracted, changed), seconds = measure(lambda: reextract_articles(conn, settings, batch))
        forget_labels(conn, changed)
        mark_linked(conn, changed, "pending")
        mark_read(conn, changed, "pending")
    record(conn, run_id, ("extract", extracted, seconds))


def prune(settings: Settings) -> Counts:
    """Remove syndication index entries of articles that no longer exist (run by the nightly DAG's
    maintenance task and `newsflow prune`)."""
    with connection(settings) as conn, conn.transaction():
        return {"postings_removed": prune_postings(conn)}
