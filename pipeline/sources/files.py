"""Local inputs: a directory of saved HTML files, and a file of URLs.

A saved page needs its address: the `<link rel="canonical">`, else `og:url`, else the
"saved from url=(NNNN)..." comment browsers write. A page with none is counted (`skip:no_url`).
A URL file has one URL per line, optionally followed by an ISO date (`URL 2024-01-05`) that places
it in a backfill window; `#` starts a comment.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.dates import parse_w3c_date
from pipeline.errors import Skip
from pipeline.sources.sitemaps import in_window
from pipeline.urls import normalize_url

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.I)
_HEAD = 200_000
_COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass(frozen=True)
class SavedPage:
    path: Path
    url: str
    body: bytes


def html_files(location: Path) -> list[Path]:
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise Skip("source_missing", f"no HTML file or directory at {location}")
    return sorted(p for p in location.rglob("*") if p.is_file() and p.suffix.lower() in HTML_SUFFIXES)


def page_address(body: bytes) -> str | None:
    """The page's own URL as it declares it (canonical, og:url, 'saved from' comment)."""
    from lxml import html as lxml_html
    from lxml.etree import ParserError

    head = body[:_HEAD]
    try:
        doc = lxml_html.document_fromstring(head)
    except (ParserError, ValueError):
        doc = None
    candidates: list[str] = []
    if doc is not None:
        candidates += doc.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href")
        candidates += doc.xpath("//meta[@property='og:url' or @name='og:url']/@content")
    saved = _SAVED_FROM.search(head)
    if saved:
        candidates.append(saved.group(1).decode("ascii", errors="ignore"))
    for candidate in candidates:
        try:
            return normalize_url(str(candidate))
        except Skip:
            continue
    return None


def read_html_dir(location: Path, counts: Counter[str], max_bytes: int) -> Iterator[SavedPage]:
    for path in html_files(location):
        if path.stat().st_size > max_bytes:
            counts["skip:too_large"] += 1
            continue
        body = path.read_bytes()
        url = page_address(body)
        if url is None:
            counts["skip:no_url"] += 1
            continue
        yield SavedPage(path, url, body)


@dataclass(frozen=True)
class ListedUrl:
    url: str
    when: datetime | None


def read_url_file(
    path: Path, counts: Counter[str], *, start: datetime | None, end: datetime | None
) -> Iterator[ListedUrl]:
    """URLs of a list file; a dated line outside [start, end) is left out, an undated one is kept."""
    if not path.is_file():
        raise Skip("source_missing", f"no URL file at {path}")
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            fields = _COMMENT.sub("", line).split()
            if not fields:
                continue
            when = parse_w3c_date(fields[1]) if len(fields) > 1 else None
            if when is not None and not in_window(when, start, end):
                counts["skip:outside_window"] += 1
                continue
            try:
                yield ListedUrl(normalize_url(fields[0]), when)
            except Skip:
                counts["skip:invalid_url"] += 1
