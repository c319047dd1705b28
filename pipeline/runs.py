"""Pipeline runs: one row per run in `pipeline_runs`, with per-stage outcome counts and durations.

Stages return plain `dict[str, int]` outcome counts (skip reasons are keys prefixed `skip:`);
a run adds them up per stage so that every discard is counted by reason and reported at the end.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

Counts = dict[str, int]

# The outcome vocabulary (docs/architecture.md, "Outcomes"): a count key is a plain outcome
# ("stored", "fetched", ...) or `<kind>:<reason>`, where the kind says what became of the item.
OUTCOME_KINDS = {
    "skip": "",  # final: the item makes nothing (no_text, http_404, robots_disallowed, ...)
    "failed": " (retried next run)",  # temporary: the item is offered again, up to its attempt limit
    "parked": " (gave up: see newsflow status)",  # failed too often: kept with its error, never blocks others
    "kept": " (old version kept)",  # re-extraction found nothing usable; the article keeps its text
}
RUN_STATUSES = ("running", "success", "failed", "interrupted", "abandoned")
# Session advisory locks of live CLI runs: (RUN_LOCK_SPACE, run id).
RUN_LOCK_SPACE = 7_431_001


def merge_counts(*parts: Mapping[str, int]) -> Counts:
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total)


@dataclass
class RunReport:
    """What one run did, stage by stage."""

    run_id: int | None = None
    counts: dict[str, Counts] = field(default_factory=dict)
    status: str = "running"
    durations: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def skips(self) -> Counts:
        """Every item not loaded as it came, by stage and reason: {"extract: no_text": 1, "fetch: http_500
        (retried next run)": 1}. See OUTCOME_KINDS for what each prefix means."""
        found: Counts = {}
        for stage, counts in self.counts.items():
            for key, n in counts.items():
                kind, _, reason = key.partition(":")
                if n and reason and kind in OUTCOME_KINDS:
                    label = f"{stage}: {reason}{OUTCOME_KINDS[kind]}"
                    found[label] = found.get(label, 0) + n
        return found


def start_run(
    conn: psycopg.Connection[Any],
    kind: str,
    *,
    run_key: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    holds_lock: bool = False,
    commit: bool = True,
) -> int:
    """Open a run (committed unless `commit` is false). With `holds_lock`, the caller holds
    `run_lock(conn, id)` on a connection that lives as long as the run, so that a later run can tell
    whether it died."""
    row = conn.execute(
        """INSERT INTO pipeline_runs (kind, run_key, window_start, window_end, pid, hostname, holds_lock, heartbeat_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, now()) RETURNING id""",
        (kind, run_key, window_start, window_end, os.getpid(), socket.gethostname(), holds_lock),
    ).fetchone()
    if commit:
        conn.commit()
    assert row is not None
    return int(row[0])


def run_lock(conn: psycopg.Connection[Any], run_id: int) -> None:
    """Hold the run's liveness lock for as long as `conn` stays open (autocommit connection)."""
    conn.execute("SELECT pg_advisory_lock(%s, %s::int)", (RUN_LOCK_SPACE, run_id))


def reap_dead_runs(conn: psycopg.Connection[Any]) -> list[int]:
    """Mark `abandoned` every running run whose process died: its liveness lock is free. Runs that
    hold no lock (Airflow's, whose tasks are separate processes) end through their DAG's callbacks."""
    reaped: list[int] = []
    rows = conn.execute("SELECT id FROM pipeline_runs WHERE status = 'running' AND holds_lock ORDER BY id").fetchall()
    for (run_id,) in rows:
        free = conn.execute("SELECT pg_try_advisory_lock(%s, %s::int)", (RUN_LOCK_SPACE, run_id)).fetchone()
        if free and free[0]:
            conn.execute("SELECT pg_advisory_unlock(%s, %s::int)", (RUN_LOCK_SPACE, run_id))
            cur = conn.execute(
                """UPDATE pipeline_runs SET status = 'abandoned', finished_at = now(),
                       error = 'its process ended without closing the run (killed?)'
                   WHERE id = %s AND status = 'running'""",
                (run_id,),
            )
            if cur.rowcount:
                reaped.append(int(run_id))
    conn.commit()
    return reaped


def heartbeat(conn: psycopg.Connection[Any], run_id: int) -> None:
    conn.execute("UPDATE pipeline_runs SET heartbeat_at = now() WHERE id = %s", (run_id,))


def record_stage(
    conn: psycopg.Connection[Any], run_id: int, stage: str, counts: Mapping[str, int], seconds: float
) -> None:
    """Add one stage's counts and time to a run (safe to call from parallel Airflow tasks)."""
    conn.execute(
        """UPDATE pipeline_runs SET
             counts = jsonb_set(counts, ARRAY[%(stage)s],
                 (SELECT coalesce(jsonb_object_agg(k, v), '{}'::jsonb) FROM (
                    SELECT k, sum(v)::int AS v FROM (
                      SELECT key AS k, value::int AS v FROM jsonb_each_text(coalesce(counts -> %(stage)s, '{}'))
                      UNION ALL
                      SELECT key, value::int FROM jsonb_each_text(%(new)s::jsonb)) u GROUP BY k) t)),
             durations = jsonb_set(durations, ARRAY[%(stage)s],
                 to_jsonb(round((coalesce((durations ->> %(stage)s)::numeric, 0) + %(secs)s)::numeric, 3)))
           WHERE id = %(id)s""",
        {"stage": stage, "new": json.dumps(dict(counts)), "secs": seconds, "id": run_id},
    )


def finish_run(
    conn: psycopg.Connection[Any], run_id: int, status: str = "success", error: str | None = None,
    *, supersede_failed: bool = False,
) -> None:  # fmt: skip
    """Close a run that is still running (a run already marked failed or abandoned keeps that, unless
    `supersede_failed`: the orchestrator ran the failed part of the run again, e.g. Airflow's clear,
    and this outcome replaces the earlier `failed`)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    conn.execute(
        """UPDATE pipeline_runs SET finished_at = now(), status = %s,
               error = CASE WHEN status = 'failed' THEN %s ELSE coalesce(%s, error) END
           WHERE id = %s AND (status = 'running' OR (%s AND status = 'failed'))""",
        (status, error[:2000] if error else None, error[:2000] if error else None, run_id, supersede_failed),
    )
    conn.commit()


def fail_run_by_key(conn: psycopg.Connection[Any], run_key: str, error: str | None = None) -> int:
    """Mark the running runs with this key (an Airflow DAG run id) failed; returns how many."""
    cur = conn.execute(
        """UPDATE pipeline_runs SET finished_at = now(), status = 'failed', error = %s
           WHERE run_key = %s AND status = 'running'""",
        ((error or "the Airflow run failed")[:2000], run_key),
    )
    conn.commit()
    return max(cur.rowcount, 0)


def load_report(conn: psycopg.Connection[Any], run_id: int) -> RunReport:
    row = conn.execute("SELECT counts, durations, status, error FROM pipeline_runs WHERE id = %s", (run_id,)).fetchone()
    if row is None:
        raise KeyError(f"no pipeline run {run_id}")
    return RunReport(run_id=run_id, counts=dict(row[0]), durations=dict(row[1]), status=str(row[2]), error=row[3])


def latest_report(conn: psycopg.Connection[Any], kinds: tuple[str, ...]) -> RunReport | None:
    """The latest successful run of one of these kinds, or None."""
    row = conn.execute(
        "SELECT max(id) FROM pipeline_runs WHERE kind = ANY(%s) AND status = 'success'", (list(kinds),)
    ).fetchone()
    return None if row is None or row[0] is None else load_report(conn, int(row[0]))


# ---------------------------------------------------------------- waking watchers

WORK_CHANNEL = "newsflow_work"  # NOTIFY'd when new work was committed (frontier rows, raw pages)


def notify_work(conn: psycopg.Connection[Any]) -> None:
    """Wake every `newsflow watch` listening (delivered when the caller's transaction commits)."""
    conn.execute(f"NOTIFY {WORK_CHANNEL}")


def listen_for_work(conn: psycopg.Connection[Any]) -> None:
    """Subscribe an autocommit connection to the work channel."""
    conn.execute(f"LISTEN {WORK_CHANNEL}")


def wait_for_work(conn: psycopg.Connection[Any], timeout: float) -> int:
    """Block until a NOTIFY arrives on the work channel or `timeout` seconds pass; returns how many
    notifications were taken (0: timed out). Notifications that queued up meanwhile are all taken."""
    taken = 0
    for _ in conn.notifies(timeout=max(timeout, 0.0), stop_after=1):
        taken += 1
    if taken:  # drain the ones that arrived together, without waiting
        for _ in conn.notifies(timeout=0.0):
            taken += 1
    return taken
