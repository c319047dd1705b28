"""`newsflow export`: articles, events or story clusters of a date window as CSV, JSON lines or
Parquet, for analysts who work in pandas or R. Rows are streamed (a server-side cursor, chunks of a
few thousand), so an export of years does not have to fit in memory.

Parquet needs pyarrow, an optional extra (`pip install 'newsflow[parquet]'`); without it the export
stops with a message saying so. Arrays (topics, sources) stay lists in JSON lines and Parquet and
become `a;b;c` in CSV; timestamps are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from pipeline.analysis import queries
from pipeline.analysis.queries import Conn
from pipeline.errors import ConfigError

KINDS = tuple(queries.EXPORTS)
FORMATS = ("csv", "jsonl", "parquet")


def export(
    conn: Conn,
    kind: str,
    fmt: str,
    out: IO[str] | Path,
    *,
    first: date | None = None,
    last: date | None = None,
    with_text: bool = False,
) -> int:
    """Write the rows of `kind` in [first, last] to `out` (a text stream for csv/jsonl, a path for
    any format). Returns the number of rows written."""
    if kind not in KINDS:
        raise ConfigError(f"export: {kind!r} is not one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ConfigError(f"export --format {fmt!r}: give one of {', '.join(FORMATS)}")
    if first and last and last < first:
        raise ConfigError(f"--to {last} is before --from {first}")
    if fmt == "parquet":
        if not isinstance(out, Path):
            raise ConfigError("export --format parquet writes a file: give --out FILE.parquet")
        pq = _pyarrow()
        columns, chunks = queries.export_rows(conn, kind, first, last, with_text=with_text)
        return _write_parquet(pq, out, columns, chunks)
    columns, chunks = queries.export_rows(conn, kind, first, last, with_text=with_text)
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8", newline="") as handle:
            return _write_text(fmt, handle, columns, chunks)
    return _write_text(fmt, out, columns, chunks)


def _write_text(
    fmt: str, handle: IO[str], typed: list[tuple[str, str]], chunks: Iterator[list[tuple[Any, ...]]]
) -> int:
    written = 0
    columns = [name for name, _ in typed]
    if fmt == "csv":
        writer = csv.writer(handle)
        writer.writerow(columns)
        for rows in chunks:
            writer.writerows([[_csv_value(v) for v in row] for row in rows])
            written += len(rows)
        return written
    for rows in chunks:
        for row in rows:
            record = {c: _json_value(v) for c, v in zip(columns, row, strict=True)}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += len(rows)
    return written


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return _json_value(value)


def _pyarrow() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError(
            "export --format parquet needs pyarrow, which is not installed: "
            "pip install 'newsflow[parquet]' (or use --format csv / jsonl)"
        ) from exc
    return pq


def _arrow_type(pa: Any, pg_type: str) -> Any:
    """The Arrow type of a PostgreSQL column type (arrays are `_name`); text for anything else."""
    if pg_type.startswith("_"):
        return pa.list_(_arrow_type(pa, pg_type[1:]))
    return {
        "int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(), "float4": pa.float32(),
        "float8": pa.float64(), "numeric": pa.float64(), "bool": pa.bool_(), "date": pa.date32(),
        "timestamptz": pa.timestamp("us", tz="UTC"), "timestamp": pa.timestamp("us"),
    }.get(pg_type, pa.string())  # fmt: skip


def _write_parquet(pq: Any, path: Path, typed: list[tuple[str, str]], chunks: Iterator[list[tuple[Any, ...]]]) -> int:
    import pyarrow as pa

    schema = pa.schema([(name, _arrow_type(pa, pg_type)) for name, pg_type in typed])
    strings = [pa.types.is_string(field.type) for field in schema]
    written = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for rows in chunks:
            data = {field.name: [_parquet_value(row[i], strings[i]) for row in rows] for i, field in enumerate(schema)}
            writer.write_table(pa.table(data, schema=schema))
            written += len(rows)
    return written


def _parquet_value(value: Any, as_string: bool) -> Any:
    if value is None or not as_string or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
