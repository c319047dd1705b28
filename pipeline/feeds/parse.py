"""Feed parsing (pure): RSS, Atom and JSON Feed bodies -> entries with a URL, title and date."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from pipeline.dates import parse_date as _iso_date
from pipeline.dates import parse_loose_date
from pipeline.errors import Skip
from pipeline.textclean import loads_json, storable
from pipeline.urls import normalize_url


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published: datetime | None


@dataclass
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry]
    bozo: str | None = None  # why the document is malformed, when it still gave entries
    skipped: Counter[str] = field(default_factory=Counter)


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Entries of an RSS 0.9x/1.0/2.0, Atom or JSON Feed document; Skip('not_a_feed') otherwise."""
    if body.lstrip()[:1] == b"{":
        return _parse_json_feed(body, url)
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    doc = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    if not doc.get("version") and not doc.entries:
        reason = doc.get("bozo_exception")
        raise Skip("not_a_feed", f"{url}: {reason or 'no RSS/Atom root element'}")
    language = (doc.feed.get("language") or "")[:2].lower() or None
    parsed = ParsedFeed(doc.feed.get("title"), [], str(doc.get("bozo_exception")) if doc.bozo else None)
    for entry in doc.entries:
        _add_entry(parsed, _entry_link(entry), entry.get("title"), _entry_date(entry, language), url)
    return parsed


def _add_entry(parsed: ParsedFeed, link: str | None, title: Any, when: datetime | None, base: str) -> None:
    if not link:
        parsed.skipped["skip:entry_no_link"] += 1
        return
    try:
        target = normalize_url(storable(link), base)
    except Skip:
        parsed.skipped["skip:entry_invalid_url"] += 1
        return
    text = storable(title.strip()[:1000]) if isinstance(title, str) and title.strip() else None
    parsed.entries.append(FeedEntry(target, text, when))


def _entry_link(entry: Any) -> str | None:
    """The article's address: FeedBurner's origLink, else the alternate link, else a permalink guid."""
    for key in ("feedburner_origlink", "origlink"):
        if entry.get(key):
            return str(entry[key]).strip()
    if entry.get("link"):
        return str(entry["link"]).strip()
    for link in entry.get("links", []):
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return str(link["href"]).strip()
    guid = entry.get("id")
    if guid and entry.get("guidislink", True) and str(guid).startswith(("http://", "https://")):
        return str(guid).strip()
    return None


def _entry_date(entry: Any, language: str | None) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # plain lookup: FeedParserDict maps updated -> published with a warning
        if value:
            year, month, day, hour, minute, second = value[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    for key in ("published", "updated", "created", "dc_date"):
        raw = dict.get(entry, key)
        if isinstance(raw, str) and raw.strip():
            return parse_loose_date(raw, language)
    return None


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = loads_json(body)  # a lone surrogate or NUL in one entry must not fail the feed
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise Skip("not_a_feed", f"{url}: invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise Skip("not_a_feed", f"{url}: JSON without an items list")
    parsed = ParsedFeed(doc.get("title") if isinstance(doc.get("title"), str) else None, [])
    base = _usable_base(doc.get("home_page_url"), url)
    for item in doc["items"]:
        if not isinstance(item, dict):
            parsed.skipped["skip:entry_invalid"] += 1
            continue
        link = item.get("url") or item.get("external_url")
        if not link and str(item.get("id", "")).startswith(("http://", "https://")):
            link = item["id"]
        when = _iso_date(item.get("date_published") or item.get("date_modified"))
        _add_entry(parsed, link if isinstance(link, str) else None, item.get("title"), when, str(base))
    return parsed


def _usable_base(home: Any, feed_url: str) -> str:
    """The feed's home page for resolving relative links, when it is a usable absolute URL; else the
    feed's own URL (a hostile `home_page_url` must not cost the feed its entries)."""
    if isinstance(home, str):
        try:
            return normalize_url(home)
        except Skip:
            pass  # unusable: fall back to the feed's address
    return feed_url
