"""Pipeline runs: one row per run in `pipeline_runs`, with per-stage outcome counts and durations.

Stages return plain `dict[str, int]` outcome counts (skip reasons are keys prefixed `skip:`);
a run adds them up per stage so that every discard is counted by reason and reported at the end.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

Counts = dict[str, int]


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
    durations: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, counts: Mapping[str, int], seconds: float = 0.0) -> None:
        self.counts[stage] = merge_counts(self.counts.get(stage, {}), counts)
        self.durations[stage] = round(self.durations.get(stage, 0.0) + seconds, 3)

    def skips(self) -> Counts:
        """Every item not loaded, by stage and reason: {"extract: no_text": 1, "fetch: http_500 (retried
        next run)": 1}. `skip:` outcomes are final; `failed:` ones are tried again by a later run."""
        found: Counts = {}
        for stage, counts in self.counts.items():
            for key, n in counts.items():
                kind, _, reason = key.partition(":")
                if n and reason and kind in ("skip", "failed"):
                    label = f"{stage}: {reason}" + (" (retried next run)" if kind == "failed" else "")
                    found[label] = found.get(label, 0) + n
        return found


def start_run(
    conn: psycopg.Connection[Any],
    kind: str,
    *,
    run_key: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> int:
    row = conn.execute(
        """INSERT INTO pipeline_runs (kind, run_key, window_start, window_end)
           VALUES (%s, %s, %s, %s) RETURNING id""",
        (kind, run_key, window_start, window_end),
    ).fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


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


def finish_run(conn: psycopg.Connection[Any], run_id: int, status: str = "success") -> None:
    conn.execute("UPDATE pipeline_runs SET finished_at = now(), status = %s WHERE id = %s", (status, run_id))
    conn.commit()


def fail_run_by_key(conn: psycopg.Connection[Any], run_key: str) -> int:
    """Mark the unfinished or successful runs with this key failed (an orchestrator's run id: its
    run failed after newsflow's stages had recorded what they did). Returns how many rows changed."""
    changed = conn.execute(
        """UPDATE pipeline_runs SET status = 'failed', finished_at = coalesce(finished_at, now())
           WHERE run_key = %s AND status <> 'failed'""",
        (run_key,),
    ).rowcount
    conn.commit()
    return changed


def latest_report(conn: psycopg.Connection[Any], kinds: tuple[str, ...]) -> RunReport | None:
    """The latest successful run of one of these kinds, or None."""
    row = conn.execute(
        "SELECT max(id) FROM pipeline_runs WHERE kind = ANY(%s) AND status = 'success'", (list(kinds),)
    ).fetchone()
    return None if row is None or row[0] is None else load_report(conn, int(row[0]))


def load_report(conn: psycopg.Connection[Any], run_id: int) -> RunReport:
    row = conn.execute("SELECT counts, durations FROM pipeline_runs WHERE id = %s", (run_id,)).fetchone()
    if row is None:
        raise KeyError(f"no pipeline run {run_id}")
    return RunReport(run_id=run_id, counts=dict(row[0]), durations=dict(row[1]))
