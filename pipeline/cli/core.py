"""Core commands: `db`, `run`, `demo`, `reextract` (`sql` is in `pipeline.cli.sql`)."""

from __future__ import annotations

import os
import socket
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from pipeline import db
from pipeline.cli.common import (
    FAST_HELP,
    batch_progress,
    connection,
    current_settings,
    err,
    out,
    print_query,
    print_report,
    stage_progress,
)
from pipeline.jobs.maintenance import reextract
from pipeline.jobs.nightly import run_once
from pipeline.runs import RunReport
from pipeline.settings import Settings

db_app = typer.Typer(help="The newsflow database: migrations and where it is.", no_args_is_help=True)

EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Relevant articles with their topics and, for copies, the original",
        """SELECT id, left(title, 60) AS title, source, topics, relation, original_id
FROM v_articles WHERE relevant ORDER BY published_at DESC NULLS LAST LIMIT 8""",
    ),
    (
        "Events with their mentions and independent sources",
        """SELECT event_type, event_date, date_precision, place, killed, injured, detained,
       mention_count, independent_sources
FROM v_events ORDER BY independent_sources DESC, mention_count DESC, event_date DESC NULLS LAST LIMIT 8""",
    ),
    (
        "Stories per topic per day",
        """SELECT day, topic_id, articles, stories FROM v_daily_topic_counts
ORDER BY day DESC, articles DESC LIMIT 10""",
    ),
)


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.callback()(_global_options)
    app.add_typer(db_app, name="db")
    app.command("run")(run_command)
    app.command("demo")(demo_command)
    app.command("reextract")(reextract_command)
    app.command("prune")(prune_command)


def _global_options(
    database_url: str | None = typer.Option(
        None, "--database-url", help="PostgreSQL URL (default: $DATABASE_URL, else the embedded server)."
    ),
) -> None:
    """newsflow: news ingestion for conflict analysts."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations (idempotent)."""

    settings = current_settings()
    with db.connect(db.database_url(settings)) as conn:
        applied = db.migrate(conn)
    err.print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "up to date")


@db_app.command("status")
def db_status() -> None:
    """Show which migrations are applied."""

    settings = current_settings()
    with db.connect(db.database_url(settings)) as conn:
        rows = db.status(conn)
    table = Table("version", "name", "applied at", "note")
    for row in rows:
        note = "file changed since applied" if row.changed else ""
        table.add_row(row.version, row.name, row.applied_at or "pending", note)
    out.print(table)


@db_app.command("url")
def db_url_command() -> None:
    """Print the database URL (starting the embedded server if that is the one in use)."""

    out.print(db.database_url(current_settings()), soft_wrap=True)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL server, if it runs."""
    from pipeline.embedded import stop_embedded

    pgdata = current_settings().home / "pgdata"
    err.print("stopped" if stop_embedded(pgdata) else f"no embedded server runs in {pgdata}")


def run_command(
    feeds: Path | None = typer.Option(None, help="Feed list (default: config/feeds.yaml or $NEWSFLOW_FEEDS)."),
) -> None:
    """Run the nightly job once against the configured feeds, without an Airflow server."""
    settings = current_settings().with_overrides(feeds_file=feeds)
    report = _run_with_progress(settings, kind="run")
    print_report(report)
    if report.status != "success":  # e.g. every feed unreachable: what could be done was done, but say so
        err.print(f"[red]run {report.run_id} {report.status}[/red]: {report.error or 'see the counts above'}")
        raise typer.Exit(1)


def _run_with_progress(settings: Settings, *, kind: str, now: datetime | None = None) -> RunReport:

    with stage_progress() as on_progress:
        return run_once(settings, kind=kind, now=now, window_end=now, on_progress=on_progress)


def _demo_port(home: Path, host: str = "127.0.0.1", name: str = "demo-port") -> int:
    """A random free port on the first demo, the same one after, so the demo site's URLs stay stable."""
    remembered = home / name
    if remembered.exists():
        port = int(remembered.read_text().strip() or 0)
        with socket.socket() as probe:
            if port and probe.connect_ex((host, port)) != 0:
                return port
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = int(probe.getsockname()[1])
    home.mkdir(parents=True, exist_ok=True)
    remembered.write_text(str(port))
    return port


def demo_command(
    serve: Path | None = typer.Option(
        None,
        "--serve",
        metavar="FEEDS_FILE",
        help="Only serve the demo site until stopped, and write its feed list to FEEDS_FILE (for Airflow).",
    ),
) -> None:
    """Serve the demo news site on 127.0.0.1, run the nightly job against it, show what landed."""
    from pipeline.demo import DemoSite, feeds_yaml
    from pipeline.demo.outlets import SECOND_HOST

    base = current_settings()
    if serve is not None:
        _serve_demo(serve, base.home)
        return
    second_port = _demo_port(base.home, SECOND_HOST, "demo-port-2")
    with DemoSite(port=_demo_port(base.home), outlets=2, second_port=second_port) as site, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        feeds_file = Path(tmp) / "feeds.yaml"
        feeds_file.write_text(feeds_yaml(site), encoding="utf-8")
        assert site.second is not None
        own = (site.base_url.removeprefix("http://"), site.second.base_url.removeprefix("http://"))
        settings = base.with_overrides(
            feeds_file=feeds_file, allow_private=own,  # the demo's two outlets, their own ports only
            per_host_delay_s=0.0, per_host_concurrency=4,
        )  # fmt: skip
        err.print(f"demo site: {site.base_url}  (feeds: {site.rss_url}, {site.atom_url}); "
                  f"second outlet: {site.second.base_url}")  # fmt: skip
        report = _run_with_progress(settings, kind="demo", now=datetime.now(UTC))
    print_report(report)
    new_articles = report.counts.get("extract", {}).get("stored", 0)
    if new_articles == 0:
        out.print("[bold]Nothing new:[/bold] every demo article is already in the database.")
    with connection(settings) as conn:
        print_totals(conn)
        for title, query in EXAMPLE_QUERIES:
            out.print(f"\n[bold]{title}[/bold]\n{query}")
            print_query(conn, query)


def _serve_demo(feeds_file: Path, home: Path) -> None:
    """The demo site alone, its articles dated before the last 02:00 UTC: the data interval of the
    latest scheduled `news_nightly` run (and of `airflow dags test news_nightly`) holds them all."""
    import time

    from pipeline.demo import DemoSite, feeds_yaml

    now = datetime.now(UTC)
    reference = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if reference > now:
        reference -= timedelta(days=1)
    with DemoSite(reference_time=reference, port=_demo_port(home)) as site:
        feeds_file.write_text(feeds_yaml(site), encoding="utf-8")
        err.print(f"demo site: {site.base_url}; its feed list: {feeds_file}. Stop it with Ctrl-C or kill.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            err.print("demo site stopped")


def print_totals(conn: Any) -> None:
    row = conn.execute(
        """SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM articles WHERE relevant),
                  (SELECT count(*) FROM article_topics), (SELECT count(*) FROM story_clusters),
                  (SELECT count(*) FROM events), (SELECT count(*) FROM event_mentions)"""
    ).fetchone()
    out.print(
        f"\nIn the database: {row[0]} articles ({row[1]} relevant), {row[2]} topic labels, "
        f"{row[3]} story clusters, {row[4]} events ({row[5]} mentions)"
    )


def reextract_command(
    everything: bool = typer.Option(False, "--all", help="Every article with a stored page, not only stale ones."),
    fast: bool | None = typer.Option(None, "--fast/--thorough", help=FAST_HELP),
) -> None:
    """Extract stored articles again from their raw pages (never re-downloading), after an extractor upgrade
    (or, with `--thorough`, to redo in the default mode what a `--fast` backfill extracted)."""
    with batch_progress("re-extract (batches)") as on_batch:
        report = reextract(current_settings(extract_fast=fast), everything=everything, on_batch=on_batch)
    print_report(report)


def prune_command() -> None:
    """Remove what no article needs any more (syndication index entries of deleted articles)."""
    from pipeline.jobs.maintenance import prune

    counts = prune(current_settings())
    out.print(", ".join(f"{k} = {v}" for k, v in sorted(counts.items())))
