"""`newsflow watch`: the nightly stages in one long-running process, each run as soon as it has work.

One `held_run(settings, "watch")` spans the watcher's life. Each cycle polls the feeds that are due
now (each feed's own interval, backoff and conditional GET), fetches what is pending within the host
limits, extracts and classifies, then links and finds events, with the same functions as the nightly
run (`pipeline.jobs.nightly`), so a watcher beside a nightly run, a backfill or another watcher never
takes the same item and never exceeds a host's limit. A cycle that did work is followed by another at
once; a cycle that found none sleeps until the next feed falls due or until a `NOTIFY newsflow_work`
(sent by any process that committed new frontier rows or raw pages) wakes it, whichever is first,
bounded by `idle_s`. Nothing is kept per item: each cycle's counts are summed into one Counter.

Stopping: `stop` (a threading.Event) is checked between stages and after every committed batch; the
unit of work in flight commits or rolls back as a whole. The CLI sets it on SIGTERM/SIGINT and raises
SystemExit if the stop has not happened within its grace time; either way the run ends `interrupted`
and what it left pending is picked up by the next start (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from pipeline import db, runs
from pipeline.errors import TransientError
from pipeline.feeds.store import next_poll_due
from pipeline.jobs.common import checkpoint
from pipeline.jobs.nightly import RunStopped, fetch_pending, held_run, link_and_find_events, poll, process_pending
from pipeline.runs import Counts
from pipeline.settings import Settings

log = logging.getLogger(__name__)

STAGES = ("poll", "fetch", "process", "link")


class Stopped(Exception):
    """Raised between committed batches when the watcher was asked to stop."""


@dataclass
class Cycle:
    """One pass over every stage: its counts by stage, and how long it took."""

    number: int
    counts: dict[str, Counts] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def did_work(self) -> bool:
        """Whether any stage took an item (a feed polled, a page fetched, a batch processed); a stage that
        failed as a whole for a temporary reason (the network is down) did none."""
        return any(
            n > 0 and not key.endswith("_transient") for counts in self.counts.values() for key, n in counts.items()
        )

    @property
    def poll_outage(self) -> bool:
        return "failed:poll_transient" in self.counts.get("poll", {})

    def line(self) -> str:
        parts = []
        for stage in STAGES:
            counts = self.counts.get(stage, {})
            shown = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()) if n)
            if shown:
                parts.append(f"{stage}: {shown}")
        return f"cycle {self.number} ({self.seconds:.1f} s): " + ("; ".join(parts) or "no work")


@dataclass
class WatchReport:
    run_id: int = 0
    cycles: int = 0
    busy_cycles: int = 0
    wakeups: int = 0  # sleeps ended by a NOTIFY rather than by the clock
    totals: dict[str, Counter[str]] = field(default_factory=lambda: {stage: Counter() for stage in STAGES})


def watch(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    idle_s: float = 60.0,
    on_batch: Callable[[Cycle], None] | None = None,
    report: WatchReport | None = None,
    max_cycles: int | None = None,
) -> WatchReport:
    """Run every stage whenever it has work until `stop` is set (the run ends `interrupted`) or
    `max_cycles` cycles ran (`success`). Returns the summed counts; `report`, when given, is filled in
    as the watcher goes (so a caller that is interrupted still has the figures)."""
    stop = stop or threading.Event()
    report = report or WatchReport()
    with contextlib.suppress(RunStopped):  # closed `interrupted`: what it left is the next start's
        _watch(settings, stop, idle_s, on_batch, report, max_cycles)
    return report


def _watch(
    settings: Settings,
    stop: threading.Event,
    idle_s: float,
    on_batch: Callable[[Cycle], None] | None,
    report: WatchReport,
    max_cycles: int | None,
) -> None:
    with held_run(settings, "watch", sync_feeds=True) as run_id:
        report.run_id = run_id
        listener = db.connect(db.database_url(settings), autocommit=True)
        try:
            runs.listen_for_work(listener)
            pause = OutagePause()
            while not stop.is_set() and (max_cycles is None or report.cycles < max_cycles):
                runs.wait_for_work(listener, 0.0)  # this cycle handles what was announced before it
                cycle = _cycle(settings, run_id, report.cycles + 1, stop, lambda: runs.heartbeat(listener, run_id),
                               poll_feeds=pause.over())  # fmt: skip
                pause.after(cycle)
                report.cycles += 1
                for stage, counts in cycle.counts.items():
                    report.totals[stage].update(counts)
                runs.heartbeat(listener, run_id)
                log.info("%s", cycle.line())
                if on_batch is not None:
                    on_batch(cycle)
                checkpoint("watch:cycle_done")
                if cycle.did_work:
                    report.busy_cycles += 1
                    continue
                if stop.is_set() or (max_cycles is not None and report.cycles >= max_cycles):
                    break
                report.wakeups += _sleep(listener, idle_s, stop, not_before=pause.left())
        finally:
            listener.close()
        if stop.is_set():
            raise RunStopped("stopped on request")


HEARTBEAT_EVERY_S = 10.0
OUTAGE_PAUSE_S = (30.0, 1800.0)  # after a poll in which every due feed failed: first pause, longest pause


class OutagePause:
    """How long the watcher leaves the feeds alone after polls in which every due feed failed for a
    temporary reason: 30 s after the first, doubling with each one after it, at most 30 minutes; the
    first poll that is not an outage ends it. Those feeds stay due in the database (`poll` does not back
    them off, for a retry of a nightly run), so without it the watcher would poll them in every cycle,
    many times a minute, while the network or the sites are down."""

    def __init__(self) -> None:
        self.wait = 0.0
        self.until = 0.0

    def over(self) -> bool:
        return time.monotonic() >= self.until

    def left(self) -> float:
        return max(self.until - time.monotonic(), 0.0)

    def after(self, cycle: Cycle) -> None:
        if "poll" not in cycle.counts:
            return  # no poll this cycle (paused, or stopped before it)
        if not cycle.poll_outage:
            self.wait = self.until = 0.0
            return
        first, longest = OUTAGE_PAUSE_S
        self.wait = min(longest, self.wait * 2 if self.wait else first)
        self.until = time.monotonic() + self.wait
        log.warning("every due feed failed: the next poll in %.0f s (other stages go on)", self.wait)


def _cycle(
    settings: Settings, run_id: int, number: int, stop: threading.Event, heartbeat: Callable[[], None],
    *, poll_feeds: bool = True,
) -> Cycle:  # fmt: skip
    cycle = Cycle(number)
    started = last_beat = time.perf_counter()

    def check(_stage: str = "", _done: int = 0) -> None:
        """After every committed batch: stop if asked to; keep the heartbeat fresh in a long cycle."""
        nonlocal last_beat
        if stop.is_set():
            raise Stopped
        if time.perf_counter() - last_beat >= HEARTBEAT_EVERY_S:
            heartbeat()
            last_beat = time.perf_counter()

    steps: tuple[tuple[str, Callable[[], Counts]], ...] = (
        ("poll", lambda: poll(settings, run_id, now=datetime.now(UTC), window_end=None)),
        ("fetch", lambda: fetch_pending(settings, run_id)),
        ("process", lambda: process_pending(settings, run_id, on_progress=check)),
        ("link", lambda: link_and_find_events(settings, run_id, on_progress=check)),
    )
    try:
        for stage, step in steps:
            check()
            if stage == "poll" and not poll_feeds:
                continue
            try:
                cycle.counts[stage] = step()
            except TransientError as exc:  # the sites or the network are down: the next cycle retries
                log.warning("%s: %s", stage, exc)
                cycle.counts[stage] = {f"failed:{stage}_transient": 1}
    except Stopped:
        pass
    cycle.seconds = time.perf_counter() - started
    return cycle


def _sleep(listener: psycopg.Connection[Any], idle_s: float, stop: threading.Event, *, not_before: float = 0.0) -> int:
    """Wait until the next feed is due (but not within `not_before` seconds: an outage pause), a NOTIFY
    arrives, `stop` is set or `idle_s` passed (in slices of at most a second, so that a stop from another
    thread is seen promptly). Returns the number of notifications taken."""
    due = next_poll_due(listener)
    wait = idle_s if due is None else min(idle_s, max((due - datetime.now(UTC)).total_seconds(), not_before))
    deadline = time.monotonic() + max(wait, 0.0)
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        taken = runs.wait_for_work(listener, min(left, 1.0))
        if taken:
            return taken
    return 0
