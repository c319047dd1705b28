"""What is waiting where: per stage, the items pending, failed (to be retried), parked (given up,
with their error) and in progress, with the age of the oldest pending item; and the runs that are
still open. `newsflow status` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from pipeline.classify.store import unclassified_count
from pipeline.events.store import unread_count
from pipeline.extract.store import work_counts as extract_counts
from pipeline.fetch.store import HOST_LOCK_SPACE
from pipeline.fetch.store import work_counts as frontier_counts
from pipeline.syndication.store import unlinked_count

PENDING_STATES = {"new", "pending"}


@dataclass
class StageWork:
    stage: str
    pending: int = 0
    failed: int = 0
    parked: int = 0
    in_progress: int = 0
    oldest: datetime | None = None
    example_error: str | None = None

    def age(self, now: datetime | None = None) -> str:
        if self.oldest is None or not self.pending:
            return ""
        seconds = int(((now or datetime.now(UTC)) - self.oldest).total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
            if seconds >= size:
                return f"{seconds // size} {unit}"
        return f"{seconds} s"


def stage_work(conn: psycopg.Connection[Any]) -> list[StageWork]:
    fetch = _from_states("fetch", frontier_counts(conn))
    fetch.in_progress = _held_hosts(conn)
    extract = _from_states("extract", extract_counts(conn))
    rows = [fetch, extract]
    for stage, (pending, oldest) in (
        ("classify", unclassified_count(conn)),
        ("syndication", unlinked_count(conn)),
        ("events", unread_count(conn)),
    ):
        rows.append(StageWork(stage, pending=pending, oldest=oldest))
    return rows


def _from_states(stage: str, counts: list[tuple[str, int, Any, str | None]]) -> StageWork:
    work = StageWork(stage)
    for state, n, oldest, example in counts:
        if state in PENDING_STATES:
            work.pending += n
            work.oldest = oldest
        elif state == "failed":
            work.failed += n
            work.example_error = work.example_error or example
        elif state == "parked":
            work.parked += n
            work.example_error = example or work.example_error
    return work


def _held_hosts(conn: psycopg.Connection[Any]) -> int:
    """Hosts some process is fetching now (their session locks)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted",
        (HOST_LOCK_SPACE,),
    ).fetchone()
    return int(row[0]) if row else 0


def open_runs(conn: psycopg.Connection[Any]) -> list[tuple[int, str, str | None, datetime, datetime | None, str]]:
    """Runs still marked running: (id, kind, run key, started, last heartbeat, host:pid)."""
    rows = conn.execute(
        """SELECT id, kind, run_key, started_at, heartbeat_at, coalesce(hostname, '') || ':' || coalesce(pid::text, '')
           FROM pipeline_runs WHERE status = 'running' ORDER BY id"""
    ).fetchall()
    return [(int(a), str(b), c, d, e, str(f)) for a, b, c, d, e, f in rows]


def failed_runs(conn: psycopg.Connection[Any], hours: int) -> list[tuple[int, str, str | None, datetime, str, str]]:
    """Runs of the last `hours` that did not succeed (failed, interrupted, abandoned): (id, kind, run key,
    finished, status, error), newest first."""
    rows = conn.execute(
        """SELECT id, kind, run_key, coalesce(finished_at, started_at), status, coalesce(error, '')
           FROM pipeline_runs
           WHERE status NOT IN ('running', 'success')
             AND coalesce(finished_at, started_at) > now() - make_interval(hours => %s)
           ORDER BY id DESC LIMIT 20""",
        (hours,),
    ).fetchall()
    return [(int(a), str(b), c, d, str(e), str(f)) for a, b, c, d, e, f in rows]
