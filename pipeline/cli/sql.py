"""`newsflow sql QUERY`: one SQL statement for analysts, read-only unless `--write`.

The statement runs in a READ ONLY transaction that is always rolled back, and is sent with the
extended query protocol, which takes exactly one statement (`DELETE ...; COMMIT; SELECT 1` is
refused whole, so no COMMIT can end the read-only transaction halfway). With `--write` the one
statement runs in a read-write transaction that is committed. On the embedded server the query runs
as `newsflow_analyst`, a role that is not a superuser (no `pg_read_file`, no `COPY ... PROGRAM`).
PostgreSQL's errors are printed as PostgreSQL words them, position marked, with exit code 2.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import psycopg
import typer
from rich.table import Table

from pipeline import db
from pipeline.cli.common import current_settings, err, out
from pipeline.redaction import redact


class Format(StrEnum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"


def sql_command(
    query: Annotated[str, typer.Argument(help='One SQL statement, e.g. "SELECT * FROM v_events".')],
    write: Annotated[bool, typer.Option("--write", help="Allow the statement to change data (committed).")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table, csv or jsonl.")] = Format.table,
) -> None:
    """Run one SQL statement (read-only unless --write) and print its rows and row count."""
    settings = current_settings()
    with db.connection(settings):
        pass  # the schema is migrated, as the database owner, before the analyst connects
    conn = db.connect(db.analyst_url(settings))
    try:
        conn.read_only = not write
        try:
            cur = conn.execute(query.encode(), prepare=True)
            returns_rows = cur.description is not None
            columns = [d.name for d in cur.description or []]
            rows = cur.fetchall() if returns_rows else []
            affected = cur.rowcount
        except psycopg.Error as exc:
            conn.rollback()
            _fail(exc)
        if write:
            conn.commit()
        else:
            conn.rollback()
    finally:
        conn.close()
    if not returns_rows:
        out.print(f"{affected} row{'' if affected == 1 else 's'} affected")
        return
    _print(columns, rows, fmt)


def _fail(exc: psycopg.Error) -> None:
    """PostgreSQL's message (with its LINE/caret position marker, detail and hint), exit code 2."""
    message = str(exc).strip() or type(exc).__name__
    diag = exc.diag
    extra = [f"{label}: {text}" for label, text in (("DETAIL", diag.message_detail), ("HINT", diag.message_hint))
             if text and text not in message]  # fmt: skip
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        extra.append("HINT: newsflow sql is read-only; add --write to change data")
    err.print(f"[red]error:[/red] {redact(message)}", highlight=False, markup=True)
    for line in extra:
        err.print(redact(line), highlight=False, markup=False)
    raise typer.Exit(2)


def _print(columns: list[str], rows: list[tuple[Any, ...]], fmt: Format) -> None:
    count = f"({len(rows)} row{'' if len(rows) == 1 else 's'})"
    if fmt is Format.table:
        table = Table(*columns)
        for row in rows:
            table.add_row(*["" if v is None else str(v) for v in row])
        out.print(table)
        out.print(count)
        return
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    else:
        for row in rows:
            sys.stdout.write(json.dumps(dict(zip(columns, row, strict=True)), default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    err.print(count)  # on stderr, so that the CSV / JSON lines on stdout stay machine-readable


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("sql")(sql_command)
