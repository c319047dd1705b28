"""What every job shares: timing a stage and recording its counts on the run after it commits,
retrying a unit of work that PostgreSQL broke off (deadlock, serialization), and the named fault
points of the kill-anywhere suite."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from pipeline import runs
from pipeline.errors import DatabaseError
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


# Fault injection for the kill-anywhere suite (tests/test_reliability.py): a named point in a job
# kills this process (NEWSFLOW_KILL_AT=<point>) or every connection of the database
# (NEWSFLOW_DB_KILL_AT=<point>) the `NEWSFLOW_KILL_AFTER`-th time (default 1) it is reached.
_REACHED: dict[str, int] = {}


def checkpoint(point: str) -> None:
    """A named point of a job: does nothing unless a fault is asked for at `point`."""
    kill_at, db_kill_at = os.environ.get("NEWSFLOW_KILL_AT"), os.environ.get("NEWSFLOW_DB_KILL_AT")
    if point not in (kill_at, db_kill_at):
        return
    _REACHED[point] = _REACHED.get(point, 0) + 1
    if _REACHED[point] != int(os.environ.get("NEWSFLOW_KILL_AFTER", "1")):
        return
    if point == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    url = os.environ.get("DATABASE_URL")
    if url:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()"""
            )


RETRIED_ERRORS = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def with_retries(conn: psycopg.Connection[Any], work: Callable[[], T], *, tries: int = 4) -> T:
    """Run one unit of work (its own transaction) again when PostgreSQL broke it off to resolve a
    deadlock or a serialization conflict; if that keeps happening, say so."""
    for attempt in range(1, tries + 1):
        try:
            return work()
        except RETRIED_ERRORS as exc:
            conn.rollback()
            if attempt == tries:
                raise DatabaseError(f"{type(exc).__name__} persisted after {tries} tries: {exc}") from exc
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")
