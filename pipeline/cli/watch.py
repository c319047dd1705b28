"""`newsflow watch`: the continuous mode (see pipeline/jobs/watch.py and docs/watch.md)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from pipeline.cli.common import current_settings, err, out
from pipeline.jobs.watch import Cycle, WatchReport, watch


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("watch")(watch_command)


def watch_command(
    feeds: Path | None = typer.Option(None, help="Feed list (default: config/feeds.yaml or $NEWSFLOW_FEEDS)."),
    idle: float = typer.Option(60.0, min=0.5, help="Longest sleep (seconds) when there is no work."),
    grace: int = typer.Option(30, min=1, help="Seconds a SIGTERM/SIGINT waits for the work in flight."),
    cycles: int | None = typer.Option(None, min=1, help="Stop after this many cycles (default: run until stopped)."),
) -> None:
    """Run every stage as soon as it has work, until SIGTERM or Ctrl-C: news is queryable minutes after
    it appears. One line per cycle; a summary by stage and outcome at the end."""
    settings = current_settings().with_overrides(feeds_file=feeds)
    stop = threading.Event()

    def ask_to_stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():  # a second signal: stop now (the unit in flight rolls back)
            raise SystemExit(128 + signum)
        err.print(f"stopping: finishing the work in flight (at most {grace} s)")
        stop.set()
        signal.alarm(grace)

    def out_of_grace(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, ask_to_stop)
    signal.signal(signal.SIGINT, ask_to_stop)
    signal.signal(signal.SIGALRM, out_of_grace)
    report = WatchReport()

    def show(cycle: Cycle) -> None:
        if cycle.did_work:
            out.print(cycle.line(), highlight=False)

    try:
        watch(settings, stop=stop, idle_s=idle, on_batch=show, report=report, max_cycles=cycles)
    finally:
        signal.alarm(0)
        _summary(report, interrupted=stop.is_set())
    if stop.is_set():  # the run is closed `interrupted`: say so to the caller too
        raise SystemExit(128 + signal.SIGTERM)


def _summary(report: WatchReport, *, interrupted: bool) -> None:
    err.print(
        f"watch run {report.run_id}: {report.cycles} cycles ({report.busy_cycles} with work, "
        f"{report.wakeups} woken by NOTIFY){', interrupted' if interrupted else ''}",
        highlight=False,
    )
    for stage, counts in report.totals.items():
        shown = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()) if n)
        if shown:
            err.print(f"  {stage}: {shown}", highlight=False)
