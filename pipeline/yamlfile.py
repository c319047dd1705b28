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
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping{expected}")
    return data
