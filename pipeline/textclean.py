"""Strings that PostgreSQL and UTF-8 output can hold.

JSON can carry what neither can: a lone UTF-16 surrogate (`"\\ud800"`, which `json.loads` turns into a
code point no UTF-8 encoder accepts) and NUL (`"\\u0000"`, which a PostgreSQL `text` rejects). One such
character in a page's JSON-LD, a JSON Feed entry or a line on stdin used to fail the whole batch
around it; here a surrogate becomes U+FFFD and a NUL is dropped, where the data is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.errors import Skip

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without NULs, each lone surrogate replaced by U+FFFD (the same object when clean)."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def storable_data(value: Any) -> Any:
    """The same JSON value with every string (keys included) made `storable`."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [storable_data(v) for v in value]
    if isinstance(value, dict):
        return {storable(k) if isinstance(k, str) else k: storable_data(v) for k, v in value.items()}
    return value


def loads_json(text: str | bytes, *, strict: bool = True) -> Any:
    """`json.loads`, with its strings made `storable` (raises what `json.loads` raises)."""
    value = json.loads(text, strict=strict)
    if isinstance(text, bytes):
        return storable_data(value)
    return storable_data(value) if "\\u" in text or "\x00" in text else value


def json_objects(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any] | Skip]]:
    """(line number, object) for each non-blank line of a JSON-lines byte stream, or (line number,
    Skip) for a line that is not UTF-8 (`bad_encoding`) or not a JSON object (`bad_json`): one bad
    line is one skip, never the end of the stream."""
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, Skip("bad_encoding", f"not UTF-8 (byte {exc.start})")
            continue
        try:
            row = loads_json(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield lineno, Skip("bad_json", f"not valid JSON ({getattr(exc, 'msg', 'nested too deeply')})")
            continue
        if not isinstance(row, dict):
            yield lineno, Skip("bad_json", "expected a JSON object")
            continue
        yield lineno, row
