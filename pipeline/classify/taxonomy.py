"""The topic taxonomy: a YAML file analysts edit, validated strictly, with a hash of its meaning.

Shape (see docs/classification.md)::

    name: satp                      # free text
    examples: [satp-train.jsonl]    # optional; paths relative to this file; JSON lines {"text", "labels"}
    relevance:                      # optional; how "relevant" is decided
      require_any: ['\\bISIS\\b']   # a document must match one of these to be relevant at all
    topics:
      - id: bombing_explosion
        label: Bombing or explosion
        description: ...
        keywords: [bomb, blast, IED]   # optional regular expressions (case-insensitive, whole words)
        examples: bombing.jsonl        # optional, more labelled examples (same format)
        threshold: 0.5                 # optional fixed decision threshold for this topic

Every error names the file and the place in it (`topics[2].keywords[0]`). The hash covers what
changes the labels (ids, descriptions, keywords, thresholds, relevance rules and the *contents* of
the example files), not comments, key order or formatting.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.jsonl import iter_jsonl
from pipeline.yamlfile import read_mapping

TOP_KEYS = {"name", "description", "examples", "relevance", "topics"}
TOPIC_KEYS = {"id", "label", "description", "keywords", "examples", "threshold"}
RELEVANCE_KEYS = {"require_any"}
TOPIC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_EXAMPLE_BYTES = 200_000_000


@dataclass(frozen=True)
class Example:
    text: str
    labels: frozenset[str]


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    threshold: float | None = None
    examples_file: Path | None = None

    def keyword_pattern(self) -> re.Pattern[str] | None:
        """All keywords as one case-insensitive, whole-word alternation (None without keywords)."""
        return compile_keywords(self.keywords)


@dataclass(frozen=True)
class Taxonomy:
    name: str
    path: Path
    hash: str
    topics: tuple[Topic, ...]
    example_files: tuple[Path, ...] = ()
    require_any: tuple[str, ...] = ()
    description: str = ""
    _examples: tuple[Example, ...] = field(default=(), repr=False, compare=False)

    @property
    def topic_ids(self) -> list[str]:
        return [t.id for t in self.topics]

    @property
    def examples(self) -> tuple[Example, ...]:
        """Every labelled example from the top-level and per-topic files (read at load time)."""
        return self._examples

    @property
    def has_examples(self) -> bool:
        return bool(self._examples)

    def relevance_pattern(self) -> re.Pattern[str] | None:
        return compile_keywords(self.require_any)


def compile_keywords(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    # One whole-word check around the alternation: twice as fast as one per pattern, same matches.
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p in patterns) + r")(?!\w)", re.IGNORECASE)


def load_taxonomy(path: Path) -> Taxonomy:
    """Read, validate and hash a taxonomy file. Raises ConfigError naming the file and place."""
    path = Path(path)
    data = _read_yaml(path)
    where = str(path)
    _check_keys(data, TOP_KEYS, where, "the file")
    if "topics" not in data:
        raise ConfigError(f"{where}: no 'topics' list")
    name = _text(data.get("name", path.stem), f"{where}: name")
    examples = _paths(data.get("examples", []), path, f"{where}: examples")
    require_any = _relevance(data.get("relevance"), where)
    topics = _topics(data["topics"], path)
    all_files = list(examples) + [t.examples_file for t in topics if t.examples_file]
    loaded = tuple(_read_examples(all_files, {t.id for t in topics}))
    for topic in topics:
        if not (topic.keywords or topic.description or any(topic.id in e.labels for e in loaded)):
            raise ConfigError(
                f"{where}: topics[{topic.id}] is empty: give it a description, keywords or labelled examples"
            )
    digest = _hash(name, require_any, topics, all_files)
    return Taxonomy(
        name=name,
        path=path,
        hash=digest,
        topics=tuple(topics),
        example_files=tuple(examples),
        require_any=require_any,
        description=str(data.get("description") or ""),
        _examples=loaded,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    return read_mapping(path, "taxonomy file", " with 'name' and 'topics'")


def _check_keys(data: dict[str, Any], allowed: set[str], where: str, what: str) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} in {what} (allowed: {', '.join(sorted(allowed))})"
        )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ConfigError(f"{where}: expected text, got {type(value).__name__}")
    return str(value).strip()


def _string_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of strings")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where}[{i}]: expected a non-empty string, got {item!r}")
        out.append(item.strip())
    return out


def _paths(value: Any, base: Path, where: str) -> list[Path]:
    out = []
    for i, name in enumerate(_string_list(value, where)):
        candidate = (base.parent / name).resolve()
        if not candidate.is_file():
            raise ConfigError(f"{where}[{i}]: examples file {name!r} not found (looked for {candidate})")
        out.append(candidate)
    return out


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    patterns = _string_list(value, where)
    for i, pattern in enumerate(patterns):
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"{where}[{i}]: bad regular expression {pattern!r}: {exc}") from exc
        if compiled.search(""):
            raise ConfigError(f"{where}[{i}]: pattern {pattern!r} matches the empty string")
    return tuple(patterns)


def _relevance(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: relevance: expected a mapping with 'require_any'")
    _check_keys(value, RELEVANCE_KEYS, f"{where}: relevance", "relevance")
    return _patterns(value.get("require_any"), f"{where}: relevance.require_any")


def _topics(value: Any, path: Path) -> list[Topic]:
    where = str(path)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: 'topics' must be a non-empty list")
    topics: list[Topic] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(value):
        topic = _topic(item, path, f"{where}: topics[{i}]")
        if topic.id in seen:
            raise ConfigError(f"{where}: topics[{i}]: duplicate id {topic.id!r} (first at topics[{seen[topic.id]}])")
        seen[topic.id] = i
        topics.append(topic)
    return topics


def _topic(item: Any, path: Path, where: str) -> Topic:
    if not isinstance(item, dict) or not item:
        raise ConfigError(f"{where}: empty topic (expected a mapping with at least 'id')")
    _check_keys(item, TOPIC_KEYS, where, "a topic")
    if "id" not in item:
        raise ConfigError(f"{where}: topic has no 'id'")
    topic_id = _text(item["id"], f"{where}.id")
    if not TOPIC_ID.match(topic_id):
        raise ConfigError(f"{where}.id: {topic_id!r} is not a valid id (letters, digits, _ . : -; up to 64)")
    where = f"{where} ({topic_id})"
    threshold = item.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold < 1
    ):
        raise ConfigError(f"{where}.threshold: expected a number between 0 and 1, got {threshold!r}")
    files = _paths(item.get("examples"), path, f"{where}.examples")
    if len(files) > 1:
        raise ConfigError(f"{where}.examples: one file per topic (list more in the top-level 'examples')")
    return Topic(
        id=topic_id,
        label=_text(item.get("label", topic_id), f"{where}.label") or topic_id,
        description=_text(item.get("description", ""), f"{where}.description"),
        keywords=_patterns(item.get("keywords"), f"{where}.keywords"),
        threshold=float(threshold) if threshold is not None else None,
        examples_file=files[0] if files else None,
    )


def _read_examples(files: Sequence[Path], topic_ids: set[str]) -> Iterator[Example]:
    for path in files:
        if path.stat().st_size > MAX_EXAMPLE_BYTES:
            raise ConfigError(f"{path}: examples file larger than {MAX_EXAMPLE_BYTES} bytes")
        for where, row in iter_jsonl(path):
            yield _example(row, where, topic_ids)


def _example(row: dict[str, Any], where: str, topic_ids: set[str]) -> Example:
    if not isinstance(row.get("text"), str):
        raise ConfigError(f'{where}: expected {{"text": str, "labels": [topic ids]}}')
    labels = row.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise ConfigError(f"{where}: 'labels' must be a list of topic ids")
    unknown = sorted(set(labels) - topic_ids)
    if unknown:
        raise ConfigError(f"{where}: unknown topic id(s) {', '.join(unknown)}")
    return Example(row["text"], frozenset(labels))


def _hash(name: str, require_any: Sequence[str], topics: Sequence[Topic], files: Sequence[Path]) -> str:
    meaning = {
        "name": name,
        "require_any": list(require_any),
        "topics": [
            {
                "id": t.id,
                "label": t.label,
                "description": t.description,
                "keywords": list(t.keywords),
                "threshold": t.threshold,
                "examples": _file_digest(t.examples_file) if t.examples_file else None,
            }
            for t in topics
        ],
        "examples": sorted(_file_digest(f) for f in files),
    }
    blob = json.dumps(meaning, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
