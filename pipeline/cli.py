"""The `newsflow` command line. It opens the database, calls the library, and turns the library's
named errors into clear messages. Each area registers its own commands from a `cli_*` module."""

from __future__ import annotations

import typer

app = typer.Typer(help="newsflow: news ingestion for conflict analysts.", no_args_is_help=True)
eval_app = typer.Typer(help="Score a stage against an evaluation data set.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def main() -> None:
    from pipeline import cli_core

    cli_core.register(app, eval_app)
    app()
