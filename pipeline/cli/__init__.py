"""The `newsflow` command line. It opens the database, calls the library, and turns the library's
named errors into clear messages. Each command group lives in its own module here (`core`, `sql`,
`fetch`, `extract`, `classify`, `dedup`, `events`, `analyst`) and shares `common`."""

from __future__ import annotations

import logging
import signal
import sys

import typer
from rich.console import Console

from pipeline.cli import analyst, classify, core, dedup, events, extract, fetch, sql, watch
from pipeline.errors import NewsflowError
from pipeline.redaction import RedactingFilter

app = typer.Typer(help="newsflow: news ingestion for conflict analysts.", no_args_is_help=True)
eval_app = typer.Typer(help="Score a stage against an evaluation data set.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

COMMAND_MODULES = (core, sql, fetch, extract, classify, dedup, events, analyst, watch)


def build() -> typer.Typer:
    for module in COMMAND_MODULES:
        module.register(app, eval_app)
    return app


def _stop(signum: int, _frame: object) -> None:
    """SIGTERM ends a command like Ctrl-C does: the run in progress is closed `interrupted`, and
    whatever it left pending is picked up by the next one."""
    raise SystemExit(128 + signum)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    signal.signal(signal.SIGTERM, _stop)
    build()
    try:
        app()  # standalone: click reports usage errors and exits with their codes itself
    except NewsflowError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        sys.exit(2)
