"""What every job shares: timing a stage and recording its counts on the run after it commits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from pipeline import runs
from pipeline.runs import Counts

T = TypeVar("T")


def timed(conn: psycopg.Connection[Any], run_id: int, stage: str, work: Callable[[], Counts]) -> Counts:
    """Run one stage's work, then record its counts and time on the run (and commit)."""
    counts, seconds = measure(work)
    record(conn, run_id, (stage, counts, seconds))
    return counts


def measure(work: Callable[[], T]) -> tuple[T, float]:
    """What `work` returned, and how many seconds it took."""
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def record(conn: psycopg.Connection[Any], run_id: int, *stages: tuple[str, Counts, float]) -> None:
    """Add stages' counts and times to the run, after the transaction that did the work committed."""
    for stage, counts, seconds in stages:
        runs.record_stage(conn, run_id, stage, counts, seconds)
    conn.commit()
