"""JSON-lines files (data sets, labelled examples): one object a line, errors that name the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError


def iter_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, object) for each non-blank line; `where` is "path:line" for the caller's own errors."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: not valid JSON: {exc}") from exc
            if not isinstance(row, dict):
                raise ConfigError(f"{where}: expected a JSON object")
            yield where, row


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A JSON-lines file as a list of objects."""
    return [row for _, row in iter_jsonl(path)]
