"""The analyst's commands: `search`, `brief`, `gaps`, `export`.

Each opens the database, calls `pipeline.analysis` and prints; the library's named errors become
messages in `pipeline.cli.main`. Everywhere here `--outlet` names an outlet by its domain (e.g.
bbc.co.uk), checked against the database; `--source` means only what it means in `backfill`, an
archive to load (KIND:LOCATION), and is refused here with a message that names `--outlet`.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import connection, current_settings, err, out, parse_day

FORMATS = ("table", "jsonl", "csv")


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("search")(search_command)
    app.command("brief")(brief_command)
    app.command("gaps")(gaps_command)
    app.command("export")(export_command)


def _choice(value: str, choices: tuple[str, ...], option: str) -> str:
    if value not in choices:
        raise typer.BadParameter(f"{value!r}: give one of {', '.join(choices)}", param_hint=option)
    return value


Outlets = Annotated[
    list[str] | None,
    typer.Option("--outlet", help="Outlet domain, e.g. bbc.co.uk (repeatable); unknown names are refused."),
]  # fmt: skip
# `--source` means one thing in newsflow: an archive to load (`backfill --source KIND:LOCATION`).
# Here it is refused with a message that names --outlet, rather than typer's bare "no such option".
NotSource = Annotated[list[str] | None, typer.Option("--source", hidden=True)]


def _refuse_source(source: list[str] | None) -> None:
    if source:
        raise typer.BadParameter(
            "--source names an archive to load (newsflow backfill --source KIND:LOCATION); "
            f"to name an outlet here use --outlet {source[0]}",
            param_hint="--source",
        )


DateFrom = Annotated[str | None, typer.Option("--from", help="First day (UTC), e.g. 2024-03-01.")]
DateTo = Annotated[str | None, typer.Option("--to", help="Last day (UTC), included.")]


# ---------------------------------------------------------------- search


def search_command(
    query: Annotated[str, typer.Argument(help='Words, "a phrase", OR, -word (web search syntax).')],
    topic: Annotated[
        list[str] | None, typer.Option("--topic", help="Only articles with this topic (repeatable).")
    ] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    outlet: Outlets = None,
    relevant: Annotated[bool, typer.Option("--relevant", help="Only articles the classifier found relevant.")] = False,
    originals_only: Annotated[bool, typer.Option("--originals-only", help="Leave out syndicated copies.")] = False,
    language: Annotated[list[str] | None, typer.Option("--language", help="Language code, e.g. en, ar.")] = None,
    limit: Annotated[int, typer.Option(help="How many hits.")] = 20,
    fmt: Annotated[str, typer.Option("--format", help="table, jsonl or csv.")] = "table",
    source: NotSource = None,
) -> None:
    """Full-text search of the archive, best first, with outlet, date, topics, story size and a snippet."""
    from pipeline.analysis.search import SearchFilters, search
    from pipeline.analysis.synonyms import load_synonyms

    _refuse_source(source)
    fmt = _choice(fmt, FORMATS, "--format")
    filters = SearchFilters(
        topics=tuple(topic or ()), date_from=parse_day(date_from, "--from"), date_to=parse_day(date_to, "--to"),
        outlets=tuple(outlet or ()), languages=tuple(language or ()), relevant_only=relevant,
        originals_only=originals_only,
    )  # fmt: skip
    settings = current_settings()
    synonyms = load_synonyms(settings.synonyms_file)
    with connection(settings) as conn:
        hits = search(conn, query, filters, limit, synonyms)
    if fmt == "jsonl":
        for hit in hits:
            sys.stdout.write(json.dumps(hit.as_record(), ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        records = [hit.as_record() for hit in hits]
        keys = list(records[0]) if records else ["id"]
        writer.writerow(keys)
        for r in records:
            writer.writerow([_csv_cell(v) for v in r.values()])
        return
    if not hits:
        out.print(f"no article matches {query!r} with these filters")
        return
    table = Table("#", "date", "outlet", "title and snippet", "topics", "story", title=f"search: {query}")
    for i, hit in enumerate(hits, 1):
        when = hit.published_at.strftime("%Y-%m-%d") if hit.published_at else "undated"
        snippet = _bold(hit.snippet)
        story = f"{hit.relation}, {hit.cluster_size} article(s)"
        if hit.cluster_size > 1:
            story += "\n" + ", ".join(hit.cluster_outlets)
        if hit.events:
            snippet += "\n[dim]events: " + escape("; ".join(hit.event_lines())) + "[/dim]"
        table.add_row(str(i), when, hit.outlet, f"[bold]{escape(hit.title or hit.url)}[/bold]\n{snippet}",
                      ", ".join(hit.topics), story)  # fmt: skip
    out.print(table)


def _csv_cell(value: object) -> object:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _bold(snippet: str) -> str:
    from pipeline.analysis.search import highlight

    marked = highlight(escape(snippet), "\x02", "\x03")
    return marked.replace("\x02", "[bold yellow]").replace("\x03", "[/bold yellow]")


# ---------------------------------------------------------------- brief


def brief_command(
    out_path: Annotated[
        Path | None, typer.Option("--out", help="HTML file or folder (default: the brief_dir setting).")
    ] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="The day (UTC); default: the latest day with articles.")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Days of timeline and events, ending on --date.")] = 7,
) -> None:
    """The daily brief: one HTML file that opens offline (stories by topic, timeline, events, map)."""
    from pipeline.analysis.brief import write_brief

    settings = current_settings()
    target = out_path or settings.briefs
    with connection(settings) as conn:
        brief = write_brief(conn, target, parse_day(day, "--date"), days)
    shown = sum(len(stories) for _, stories in brief.stories_by_topic())
    out.print(f"brief of {brief.day}: {shown} stories, {len(brief.events)} events "
              f"({len(brief.geocoded())} on the map) -> {brief.path}")  # fmt: skip
    for note in brief.notes:
        err.print(f"note: {note}")


# ---------------------------------------------------------------- gaps


def gaps_command(
    date_from: Annotated[str, typer.Option("--from", help="First day (UTC).")],
    date_to: Annotated[str, typer.Option("--to", help="Last day (UTC), included.")],
    outlet: Outlets = None,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Count days by 'published' (publication date) or 'crawl' "
            "(fetch / WARC date, what a WARC backfill selects by).",
        ),
    ] = "published",
    every_outlet: Annotated[bool, typer.Option("--all", help="Every outlet in the database.")] = False,
    near: Annotated[
        int, typer.Option("--near", help="Default outlets: those with articles within this many days of the window.")
    ] = 30,
    source: NotSource = None,
) -> None:
    """Days with no article, per outlet, each with the backfill command that would fill it."""
    from pipeline.analysis.gaps import COUNT_BY, find_gaps

    _refuse_source(source)
    by = _choice(by, COUNT_BY, "--by")
    first, last = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    assert first is not None and last is not None
    with connection(current_settings()) as conn:
        report = find_gaps(conn, first, last, outlets=outlet or (), by=by, every_outlet=every_outlet,
                           margin_days=near)  # fmt: skip
    counted = "publication date" if by == "published" else "crawl date"
    scope = "named" if outlet else ("all" if every_outlet else f"with articles within {near} days of the window")
    out.print(f"gaps {first} .. {last}, counted by {counted}; {len(report.outlets)} outlet(s) ({scope})")
    if not report.outlets:
        out.print("no outlet has articles in or near this window (use --all for every outlet, or --outlet)")
        return
    if not report.gaps:
        out.print(f"no gaps: every outlet has an article on every day (by {counted})")
        return
    table = Table("outlet", "from", "to", "days", "fill it with")
    for gap in report.gaps:
        table.add_row(gap.outlet, str(gap.first), str(gap.last), str(gap.days), report.backfill_command(gap))
    out.print(table)


# ---------------------------------------------------------------- export


def export_command(
    kind: Annotated[str, typer.Argument(help="articles, events or clusters.")],
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet (parquet needs pyarrow).")] = "csv",
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = None,
    with_text: Annotated[bool, typer.Option("--with-text", help="Articles: include the full text.")] = False,
) -> None:
    """Articles, events or story clusters of a window as CSV, JSON lines or Parquet (pandas, R)."""
    from pipeline.analysis.export import FORMATS as EXPORT_FORMATS
    from pipeline.analysis.export import KINDS, export

    kind = _choice(kind, KINDS, "KIND")
    fmt = _choice(fmt, EXPORT_FORMATS, "--format")
    with connection(current_settings()) as conn:
        n = export(conn, kind, fmt, out_file if out_file else sys.stdout, first=parse_day(date_from, "--from"),
                   last=parse_day(date_to, "--to"), with_text=with_text)  # fmt: skip
    err.print(f"{n} {kind} row(s) written{f' to {out_file}' if out_file else ''}")
