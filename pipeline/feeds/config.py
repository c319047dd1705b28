"""The feed list (`config/feeds.yaml`): loading, validation with errors naming file and line, and
appending a discovered feed as text (comments kept).

    defaults: {poll_interval: 1h, adaptive: true}   # optional
    feeds:
      - name: Example News – Middle East
        url: https://example.com/rss/middle-east.xml
        poll_interval: 30m                 # optional: seconds, or 90s / 30m / 2h / 1d
        adaptive: false                    # optional: never poll sooner than poll_interval
        topics: [isis, syria]              # optional topic hints

`poll_interval` is the longest wait between two polls of a feed; with `adaptive` (the default) a
feed that keeps publishing is polled sooner, down to MIN_POLL_INTERVAL_S (pipeline/feeds/poll.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError, Skip
from pipeline.urls import normalize_url
from pipeline.yamlfile import yaml_error

DEFAULT_POLL_INTERVAL_S = 3600


MIN_POLL_INTERVAL_S = 60


FEED_KEYS = frozenset({"name", "url", "poll_interval", "adaptive", "topics", "topic_hints"})


DEFAULT_KEYS = frozenset({"poll_interval", "adaptive", "topics"})


_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


_FEEDS_KEY = re.compile(r"^feeds:\s*(?:\[\s*\])?\s*(?:#.*)?$|^feeds:\s*(\S.*)$")


_TOP_LEVEL = re.compile(r"^[^\s#-]")


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    poll_interval_s: int = DEFAULT_POLL_INTERVAL_S
    topic_hints: tuple[str, ...] = ()
    adaptive: bool = True


def parse_interval(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: poll_interval must be seconds or like 30m / 2h / 1d, not {value!r}")
    match = _INTERVAL.match(str(value))
    if not match:
        raise ConfigError(f"{where}: poll_interval must be seconds or like 30m / 2h / 1d, not {value!r}")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds < MIN_POLL_INTERVAL_S:
        raise ConfigError(f"{where}: poll_interval {value!r} is under the minimum of {MIN_POLL_INTERVAL_S}s")
    return seconds


def parse_adaptive(value: Any, where: str) -> bool:
    """`adaptive` must be a YAML boolean (true / false): a quoted "no" or a number is a mistake."""
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: adaptive must be true or false, not {value!r}")
    return value


def load_feed_config(path: Path) -> list[FeedConfig]:
    """Read and check a feeds file; ConfigError names the file, line and key of any mistake."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the feeds file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error(path, exc)) from exc
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("feeds", []), list):
        raise ConfigError(f"{path}: expected a mapping with a 'feeds:' list")
    unknown = set(data) - {"feeds", "defaults"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)} (known: defaults, feeds)")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - DEFAULT_KEYS:
        raise ConfigError(f"{path}: 'defaults' may hold {', '.join(sorted(DEFAULT_KEYS))} only")
    parse_adaptive(defaults.get("adaptive", True), f"{path}: defaults")
    lines = _feed_lines(root)
    feeds = [_feed_entry(item, defaults, f"{path}:{lines.get(i, '?')}: feeds[{i}]")
             for i, item in enumerate(data.get("feeds") or [])]  # fmt: skip
    _check_unique(feeds, path)
    return feeds


def _feed_lines(root: yaml.Node | None) -> dict[int, int]:
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if key.value == "feeds" and isinstance(value, yaml.SequenceNode):
            return {i: node.start_mark.line + 1 for i, node in enumerate(value.value)}
    return {}


def _feed_entry(item: Any, defaults: dict[str, Any], where: str) -> FeedConfig:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping with name and url, got {type(item).__name__}")
    unknown = set(item) - FEED_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)} (known: {', '.join(sorted(FEED_KEYS))})")
    for key in ("name", "url"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ConfigError(f"{where}: '{key}' is required and must be text")
    try:
        url = normalize_url(item["url"])
    except Skip as exc:
        raise ConfigError(f"{where} ({item['name']}): bad url {item['url']!r}: {exc.detail}") from exc
    interval = item.get("poll_interval", defaults.get("poll_interval", DEFAULT_POLL_INTERVAL_S))
    topics = item.get("topics", item.get("topic_hints", defaults.get("topics", [])))
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ConfigError(f"{where} ({item['name']}): topics must be a list of names")
    adaptive = parse_adaptive(item.get("adaptive", defaults.get("adaptive", True)), f"{where} ({item['name']})")
    return FeedConfig(item["name"].strip(), url, parse_interval(interval, f"{where} ({item['name']})"),
                      tuple(topics), adaptive)  # fmt: skip


def _check_unique(feeds: list[FeedConfig], path: Path) -> None:
    seen: dict[str, str] = {}
    for feed in feeds:
        if feed.url in seen:
            raise ConfigError(f"{path}: feeds {seen[feed.url]!r} and {feed.name!r} have the same url {feed.url}")
        seen[feed.url] = feed.name


def append_to_config(path: Path, feed: FeedConfig) -> bool:
    """Add a feed to the feeds file as text, at the end of its `feeds:` block, keeping comments.

    False when the file lists the feed already. The result is checked by reading it back."""
    existing = {f.url for f in load_feed_config(path)} if path.exists() else set()
    if feed.url in existing:
        return False
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = [f"  - name: {json.dumps(feed.name, ensure_ascii=False)}", f"    url: {feed.url}",
             f"    poll_interval: {feed.poll_interval_s}"]  # fmt: skip
    if not feed.adaptive:
        entry.append("    adaptive: false")
    if feed.topic_hints:
        entry.append(f"    topics: {json.dumps(list(feed.topic_hints))}")
    head = next((i for i, line in enumerate(lines) if _FEEDS_KEY.match(line)), None)
    if head is None:
        lines += ["", "feeds:", *entry]
    else:
        flow = _FEEDS_KEY.match(lines[head])
        if flow is not None and flow.group(1):
            raise ConfigError(f"{path}:{head + 1}: write 'feeds:' as a block list to add feeds to it")
        lines[head] = "feeds:"
        end = next((i for i in range(head + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
        while end > head + 1 and not lines[end - 1].strip():
            end -= 1
        lines[end:end] = entry
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_feed_config(path)
    return True
