"""Fetching commands: `feeds add|list|sync`, `status`, `backfill` (`gaps` is in `pipeline.cli.analyst`).

Each opens the database, calls the library (`pipeline.feeds`, `pipeline.jobs.backfill`) and prints; the
library's named errors become messages in `pipeline.cli.main`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.cli.common import FAST_HELP, connection, current_settings, err, out, parse_day
from pipeline.errors import NewsflowError

feeds_app = typer.Typer(help="The feeds newsflow polls: add, list, sync from config/feeds.yaml.", no_args_is_help=True)


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
    app.command("status")(status_command)
    app.command("backfill")(backfill_command)


# ---------------------------------------------------------------- feeds


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="A feed URL, or a homepage that links to its feed.")],
    name: Annotated[str | None, typer.Option(help="Name to show (default: the feed's title).")] = None,
    poll_interval: Annotated[str, typer.Option(help="Seconds, or 30m / 2h / 1d.")] = "1h",
    topic: Annotated[list[str] | None, typer.Option(help="Topic hint (repeatable).")] = None,
    save: Annotated[bool, typer.Option(help="Also append the feed to the feeds file.")] = True,
) -> None:
    """Find the feed of URL (<link rel="alternate">), check that it parses, and add it."""
    from pipeline.feeds.config import FeedConfig, append_to_config, parse_interval
    from pipeline.feeds.discover import discover_feed
    from pipeline.feeds.store import add_feed

    settings = current_settings()
    interval = parse_interval(poll_interval, "--poll-interval")
    feed_url, parsed = discover_feed(settings, url)
    title = name or parsed.title or feed_url
    with connection(settings) as conn:
        feed_id, added = add_feed(conn, feed_url, title, poll_interval_s=interval, topics=topic or ())
        conn.commit()
    out.print(f"{'added' if added else 'already known'}: feed {feed_id} {title!r} {feed_url} "
              f"({len(parsed.entries)} entries now)")  # fmt: skip
    if save:
        saved = append_to_config(settings.feeds_file, FeedConfig(title, feed_url, interval, tuple(topic or ())))
        out.print(f"{'appended to' if saved else 'already in'} {settings.feeds_file}")


@feeds_app.command("list")
def feeds_list(
    all_feeds: Annotated[bool, typer.Option("--all", help="Also feeds no longer in the feeds file.")] = False,
) -> None:
    """The feeds, with their last poll, failures and next poll."""
    from pipeline.feeds.store import list_feeds

    with connection(current_settings()) as conn:
        rows = list_feeds(conn, include_removed=all_feeds)
    table = Table("id", "name", "url", "interval", "last status", "failures", "last success", "next poll")
    for fid, name, url, in_config, interval, adaptive, wait, status, failures, success, next_poll in rows:
        label = name if in_config else f"{name} [dim](removed)[/dim]"
        every = f"{interval // 60}m" + ("" if adaptive else " fixed")
        if adaptive and wait is not None and wait < interval:  # polled sooner: the feed is publishing
            every += f" (now {wait // 60}m{wait % 60:02d}s)"
        table.add_row(str(fid), label, url, every, str(status or ""), str(failures),
                      success or "", next_poll or "due")  # fmt: skip
    out.print(table)


@feeds_app.command("sync")
def feeds_sync(
    feeds: Annotated[Path | None, typer.Option(help="Feeds file (default: config/feeds.yaml).")] = None,
) -> None:
    """Sync the feeds file into the database (feeds removed from it are kept, marked removed)."""
    from pipeline.feeds import sync_feeds

    settings = current_settings(feeds_file=feeds)
    with connection(settings) as conn:
        counts = sync_feeds(conn, settings.feeds_file)
        conn.commit()
    out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing to do")


# ---------------------------------------------------------------- status


def status_command(
    hours: Annotated[int, typer.Option(help="Fetch outcomes and runs that did not succeed, of the last N hours.")] = 24,
) -> None:
    """Work waiting at each stage, open runs, failing feeds, the frontier by state, and recent fetches."""
    from pipeline.jobs.status import failed_runs, open_runs, stage_work

    with connection(current_settings()) as conn:
        work, running, failed = stage_work(conn), open_runs(conn), failed_runs(conn, hours)
        failing = conn.execute(
            """SELECT id, name, url, failure_count, hard_failures, soft_failures, temp_failures, last_status,
                      last_error, to_char(last_success_at, 'YYYY-MM-DD HH24:MI'),
                      to_char(next_poll_at, 'YYYY-MM-DD HH24:MI')
               FROM feeds WHERE failure_count > 0 OR last_error IS NOT NULL ORDER BY failure_count DESC, id"""
        ).fetchall()
        frontier = conn.execute(
            "SELECT state, coalesce(last_reason, ''), count(*) FROM frontier GROUP BY 1, 2 ORDER BY 1, 3 DESC"
        ).fetchall()
        recent = conn.execute(
            """SELECT kind, outcome, count(*) FROM fetch_log
               WHERE fetched_at > now() - make_interval(hours => %s) GROUP BY 1, 2 ORDER BY 1, 3 DESC""",
            (hours,),
        ).fetchall()
    table = Table("stage", "pending", "oldest pending", "in progress", "failed (retried)", "parked",
                  "example error", title="work by stage")  # fmt: skip
    for w in work:
        table.add_row(w.stage, str(w.pending), w.age(), str(w.in_progress or ""), str(w.failed or ""),
                      str(w.parked or ""), (w.example_error or "")[:80])  # fmt: skip
    out.print(table)
    if running:
        table = Table("run", "kind", "key", "started", "heartbeat", "host:pid", title="open runs")
        for run_id, kind, key, started, beat, owner in running:
            table.add_row(str(run_id), kind, key or "", f"{started:%Y-%m-%d %H:%M}",
                          f"{beat:%H:%M:%S}" if beat else "", owner)  # fmt: skip
        out.print(table)
    if failed:
        title = f"runs that did not succeed, last {hours} h"
        table = Table("run", "kind", "key", "ended", "status", "error", title=title)
        for run_id, kind, key, ended, status, error in failed:
            table.add_row(str(run_id), kind, (key or "")[:40], f"{ended:%Y-%m-%d %H:%M}", status, error[:120])
        out.print(table)
    _print_failing(failing)
    table = Table("state", "reason", "urls", title="frontier")
    for state, reason, n in frontier:
        table.add_row(state, reason, str(n))
    out.print(table)
    table = Table("kind", "outcome", "count", title=f"fetches, last {hours} h")
    for kind, outcome, n in recent:
        table.add_row(kind, outcome, str(n))
    out.print(table)


def _print_failing(rows: list[Any]) -> None:
    if not rows:
        out.print("[green]no failing feeds[/green]")
        return
    table = Table("id", "name", "failures (hard/soft/temp)", "status", "last error", "last success", "next poll",
                  title=f"{len(rows)} failing feed(s)")  # fmt: skip
    for fid, name, url, count, hard, soft, temp, status, error, success, next_poll in rows:
        table.add_row(str(fid), f"{name}\n[dim]{url}[/dim]", f"{count} ({hard}/{soft}/{temp})", str(status or ""),
                      (error or "")[:160], success or "never", next_poll or "due")  # fmt: skip
    out.print(table)


# ---------------------------------------------------------------- backfill


def backfill_command(
    source: Annotated[
        list[str],
        typer.Option("--source", help="KIND:LOCATION, KIND one of warc, sitemap, html, urls (repeatable)."),
    ],  # fmt: skip
    date_from: Annotated[str | None, typer.Option("--from", help="First day (UTC), e.g. 2024-03-01.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (UTC), included.")] = None,
    process: Annotated[bool, typer.Option(help="Extract and classify the pages (else: raw pages only).")] = True,
    include_undated: Annotated[bool, typer.Option(help="Sitemaps: also take URLs without a date.")] = False,
    fast: Annotated[bool | None, typer.Option("--fast/--thorough", help=FAST_HELP)] = None,
) -> None:
    """Load archived news for a window: WARC files, sitemaps, saved HTML, URL lists. Reruns load nothing twice."""
    from pipeline.jobs.backfill import backfill, day_window, parse_source
    from pipeline.jobs.nightly import held_run, link_and_find_events
    from pipeline.runs import load_report

    first, last = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    window = day_window(first, last)
    settings = current_settings(extract_fast=fast)
    sources = [parse_source(s) for s in source]
    totals: dict[str, Counter[str]] = {}
    try:
        with held_run(settings, "backfill", run_key=",".join(source), window_start=window.start,
                      window_end=window.end, sync_feeds=False) as run_id, connection(settings) as conn:  # fmt: skip
            with _progress() as progress:
                for src in sources:
                    task = progress.add_task(f"{src.kind}: {src.location}", total=None)

                    def advance(_outcome: str, task_id: TaskID = task) -> None:
                        progress.advance(task_id)

                    counts = backfill(
                        conn, settings, src, date_from=first, date_to=last, run_id=run_id, process=process,
                        include_undated=include_undated, on_progress=advance,
                    )  # fmt: skip
                    totals[f"{src.kind}:{src.location}"] = Counter(counts)
            if process:
                link_and_find_events(settings, run_id)
            broken = archive_failures(totals)
            if broken:  # the run ends failed, with this error, once the counts are shown
                _print_counts(totals, load_report(conn, run_id).counts)
                raise IncompleteBackfill(f"{broken} archive(s) truncated or corrupt")
    except IncompleteBackfill as exc:
        err.print(f"[red]error:[/red] backfill incomplete: {exc} (the run is marked failed; the pages read "
                  "before the damage are kept)")  # fmt: skip
        raise typer.Exit(1) from exc
    with connection(settings) as conn:
        report = load_report(conn, run_id)
    _print_counts(totals, report.counts)
    _explain_skips(totals)


SKIP_HINTS = {
    "skip:no_url": 'a saved page needs its address: a <link rel="canonical">, an og:url meta tag or the '
    "browser's 'saved from url' comment (or use a urls: list or a WARC, which carry the address)",
    "skip:outside_window": "outside --from/--to: widen the window to take them",
}


def _explain_skips(totals: dict[str, Counter[str]]) -> None:
    """One line for each skip reason whose fix is not obvious from its name, and a warning when the
    sources gave pages but none was loaded or already there."""
    seen = Counter[str]()
    for counts in totals.values():
        seen.update(counts)
    for reason, hint in SKIP_HINTS.items():
        if seen[reason]:
            err.print(f"{reason} {seen[reason]}: {hint}")
    kept = seen["pages_stored"] + seen["pages_already_stored"]
    skipped = sum(n for key, n in seen.items() if key.startswith("skip:"))
    if not kept and skipped:
        err.print(f"[yellow]nothing loaded[/yellow]: every one of the {skipped} item(s) was skipped (reasons above)")


class IncompleteBackfill(NewsflowError):
    """An archive could not be read to its end: what was read is kept, the run fails."""


def archive_failures(totals: dict[str, Counter[str]]) -> int:
    """Archives that could not be read to their end (`failed:truncated_archive`, `failed:corrupt_archive`)."""
    return sum(n for counts in totals.values() for key, n in counts.items()
               if key.startswith("failed:") and key.endswith("_archive"))  # fmt: skip


def _progress() -> Progress:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} items"),
               TimeElapsedColumn())  # fmt: skip
    return Progress(*columns, console=err)


def _print_counts(by_source: dict[str, Counter[str]], stages: dict[str, dict[str, int]]) -> None:
    table = Table("source / stage", "outcome", "count", title="backfill summary")
    for label, counts in [*by_source.items(), *((f"stage {k}", Counter(v)) for k, v in stages.items())]:
        for i, (outcome, n) in enumerate(sorted(counts.items())):
            table.add_row(label if i == 0 else "", outcome, str(n))
    out.print(table)
