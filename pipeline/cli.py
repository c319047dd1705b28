"""The `newsflow` command line. It opens the database, calls the library, and turns the library's
named errors into clear messages. Each area registers its own commands from a `cli_*` module."""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from rich.console import Console

from pipeline.errors import NewsflowError

app = typer.Typer(help="newsflow: news ingestion for conflict analysts.", no_args_is_help=True)
eval_app = typer.Typer(help="Score a stage against an evaluation data set.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

COMMAND_MODULES = (
    "pipeline.cli_core",
    "pipeline.cli_fetch",
    "pipeline.cli_extract",
    "pipeline.cli_classify",
    "pipeline.cli_dedup",
    "pipeline.cli_events",
)


def build() -> typer.Typer:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app, eval_app)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    build()
    try:
        app()  # standalone: click reports usage errors and exits with their codes itself
    except NewsflowError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        sys.exit(2)
