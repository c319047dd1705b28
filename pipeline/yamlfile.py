"""Reading a YAML configuration file whose top level is a mapping, with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError


def read_mapping(path: Path, what: str = "file", expected: str = "") -> dict[str, Any]:
    """The file's top-level mapping; a ConfigError naming `path` when it is missing, unreadable, not
    YAML, or not a mapping (`expected` says what the mapping should hold)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: {what} not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc}") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error(path, exc)) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping{expected}")
    return data


def yaml_error(path: Path | str, exc: yaml.YAMLError) -> str:
    """ "<path>:<line>:<column>: not valid YAML: <what the parser says>", without the parser's own
    `in "<unicode string>", line N` and its excerpt."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else f"{path}"
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"{where}: not valid YAML: {problem}" + (f" ({context})" if context else "")
