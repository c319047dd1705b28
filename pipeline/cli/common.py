"""What every command shares: the consoles, the settings, the database connection, progress bars
and the run report. Commands open the database, call the library and print; the library's named
errors become one-line messages in `pipeline.cli.main`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from typing import Any

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import db
from pipeline.runs import RunReport
from pipeline.settings import Settings, load_settings

err = Console(stderr=True)
# Piped output (a log, CI) gets wide tables instead of rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160)

FAST_HELP = (
    "--fast: trafilatura's fast mode, about a quarter less extraction CPU for about half a point of F1; "
    "--thorough: the default mode. Neither: NEWSFLOW_EXTRACT_FAST decides."
)
STAGE_ORDER = ("feeds", "poll", "fetch", "extract", "classify", "reclassify", "syndication", "events")


def current_settings(**overrides: Any) -> Settings:
    """The environment's settings with these overrides (None values leave a setting as it is). A
    command extracts on every core (`workers` 0) unless NEWSFLOW_WORKERS names a number."""
    settings = load_settings()
    if not os.environ.get("NEWSFLOW_WORKERS"):
        settings = settings.with_overrides(workers=0)
    return settings.with_overrides(**overrides)


def connection(config: Settings) -> AbstractContextManager[psycopg.Connection[Any]]:
    """A connection to the configured database, migrations applied."""
    return db.connection(config)


@contextmanager
def batch_progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar (on stderr) over batches; yields the `on_batch(done, total)` callback."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task(description, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int], None]]:
    """One progress line per stage (on stderr): items done so far; yields `on_progress(stage, done)`."""
    columns = (TextColumn("{task.description:<12}"), BarColumn(), TextColumn("{task.completed} items"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=None)
            progress.update(tasks[stage], completed=done)

        yield update


def print_report(report: RunReport) -> None:
    """The run's counts by stage and outcome, then every skip by reason."""
    table = Table("stage", "outcome", "count", "seconds", title=f"run {report.run_id}")
    order = list(STAGE_ORDER)
    stages = sorted(report.counts, key=lambda st: (order.index(st) if st in order else len(order), st))
    for stage in stages:
        first = True
        for outcome, n in sorted(report.counts[stage].items()):
            seconds = f"{report.durations.get(stage, 0):.2f}" if first else ""
            table.add_row(stage if first else "", outcome, str(n), seconds)
            first = False
    out.print(table)
    skips = report.skips()
    if skips:
        out.print("skipped, by reason: " + ", ".join(f"{k} = {v}" for k, v in sorted(skips.items())))
    else:
        out.print("skipped: nothing")


def print_query(conn: Any, query: str) -> None:
    cur = conn.execute(query)
    table = Table(*[d.name for d in cur.description or []])
    for row in cur.fetchall():
        table.add_row(*["" if v is None else str(v) for v in row])
    out.print(table)


def parse_day(value: str | None, option: str) -> date | None:
    """A `--from`/`--to` option's day (ISO, e.g. 2024-03-05), or a usage error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date like 2024-03-05", param_hint=option) from exc
