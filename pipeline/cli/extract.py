"""Commands `newsflow extract PATH...` and `newsflow eval extraction --dataset aeb|trafilatura-eval`."""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.cli.common import err, out
from pipeline.errors import NewsflowError, Skip
from pipeline.extract.core import SiteLoader
from pipeline.extract.decode import MAX_HTML_BYTES


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    )  # fmt: skip


def read_html_file(path: Path) -> bytes:
    """A .html or .html.gz file's bytes (gzip undone), never more than `MAX_HTML_BYTES` read or
    inflated: the size is checked before reading, and gzip is inflated as a bounded stream."""
    try:
        size = path.stat().st_size
        if size > MAX_HTML_BYTES:
            raise Skip("too_large", f"{path}: {size} bytes, over {MAX_HTML_BYTES}")
        if path.suffix != ".gz":
            return path.read_bytes()
        with gzip.open(path, "rb") as stream:
            data = stream.read(MAX_HTML_BYTES + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise Skip("not_html", f"{path}: broken gzip: {exc}") from exc
    except OSError as exc:
        raise Skip("unreadable", f"{path}: {exc}") from exc
    if len(data) > MAX_HTML_BYTES:
        raise Skip("too_large", f"{path}: more than {MAX_HTML_BYTES} bytes once decompressed")
    return data


def _profile_loader(stack: ExitStack) -> SiteLoader | None:
    """Loads stored site profiles when a database is configured; None (and a note) otherwise."""
    from pipeline.db import connect
    from pipeline.extract.store import load_site_profiles
    from pipeline.settings import load_settings

    settings = load_settings()
    if not settings.database_url:
        return None
    try:
        conn = stack.enter_context(connect(settings.database_url))
    except NewsflowError as exc:
        err.print(f"[yellow]stored site profiles not used: {exc}[/]")
        return None
    return lambda texts_of: load_site_profiles(conn, texts_of)


def extract_command(
    paths: Annotated[list[Path], typer.Argument(help="HTML files (.html or .html.gz)")],
    url: Annotated[str | None, typer.Option(help="URL of the page (only with a single file)")] = None,
    use_database: Annotated[
        bool,
        typer.Option("--database/--no-database", help="Also learn from site profiles stored in the database"),
    ] = True,
) -> None:
    """Extract main text and metadata; one JSON object per file on stdout."""
    from pipeline.extract.core import Extraction, extract_many

    if url and len(paths) != 1:
        raise typer.BadParameter("--url names the URL of a single file")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file: {', '.join(missing)}", param_hint="PATHS")
    pages: list[tuple[bytes, str | None]] = []
    unreadable: dict[int, Skip] = {}
    for index, path in enumerate(paths):
        try:
            pages.append((read_html_file(path), url))
        except Skip as skip:
            unreadable[index] = skip
            pages.append((b"", url))
    outcomes: Counter[str] = Counter()
    with ExitStack() as stack, _progress() as bar:
        loader = _profile_loader(stack) if use_database else None
        task = bar.add_task("extracting", total=len(pages))
        results = extract_many(pages, sites=loader, tick=lambda n: bar.advance(task, n))
    for index, (path, result) in enumerate(zip(paths, results, strict=True)):
        result = unreadable.get(index, result)
        if isinstance(result, Extraction):
            outcomes["ok"] += 1
            record = {"path": str(path), **result.as_json()}
        else:
            outcomes[f"skip:{result.reason}"] += 1
            record = {"path": str(path), "url": url, "skip": result.reason, "detail": result.detail}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    err.print("extract: " + ", ".join(f"{k}={v}" for k, v in sorted(outcomes.items())))


def eval_extraction_command(
    dataset: Annotated[str, typer.Option(help="aeb or trafilatura-eval")] = "aeb",
    baseline: Annotated[bool, typer.Option(help="Also run trafilatura's default on the same pages")] = True,
    site_learning: Annotated[bool, typer.Option(help="Learn site boilerplate from the dataset's pages")] = True,
    limit: Annotated[int | None, typer.Option(help="Only the first N pages (quick look)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
    fast: Annotated[bool, typer.Option("--fast", help="newsflow in trafilatura's fast mode (extract_fast)")] = False,
) -> None:
    """Score newsflow's extraction (and trafilatura's default) with the benchmark authors' metric."""
    from pipeline.extract.evaluate import evaluate, load_dataset

    pages, _ = load_dataset(dataset)  # ConfigError (no such dataset or folder) -> message and exit 2
    total = min(len(pages), limit or len(pages)) * (2 if baseline else 1)
    with _progress() as bar:
        task = bar.add_task(f"eval {dataset}", total=total)
        result = evaluate(
            dataset, baseline=baseline, site_learning=site_learning, limit=limit,
            tick=lambda n: bar.advance(task, n), fast=fast,
        )  # fmt: skip
    rows = {"newsflow fast" if fast else "newsflow": result.newsflow.as_dict()}
    if result.trafilatura:
        rows["trafilatura default"] = result.trafilatura.as_dict()
    if as_json:
        print(json.dumps({"dataset": dataset, "pages": result.pages, "skips": result.skips, **rows}, indent=2))
        return
    table = Table(title=f"extraction: {dataset} ({result.pages} pages)")
    for column in ("system", "F1", "precision", "recall", "accuracy"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, score in rows.items():
        table.add_row(name, *(f"{score[k]:.4f}" for k in ("f1", "precision", "recall", "accuracy")))
    out.print(table)
    if result.trafilatura:
        out.print(f"F1 gain over trafilatura default: {result.newsflow.f1 - result.trafilatura.f1:+.4f}")
    err.print("outcomes: " + (", ".join(f"{k}={v}" for k, v in sorted(result.skips.items())) or "all extracted"))


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("extract")(extract_command)
    eval_app.command("extraction")(eval_extraction_command)
