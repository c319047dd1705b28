"""XML sitemaps, sitemap indexes and Google News sitemaps: the article URLs of a date window.

A URL is in the window when its Google News `<news:publication_date>` (else its `<lastmod>`) falls
in [start, end). Undated URLs are counted and left out (`skip:sitemap_undated`) unless asked for:
a dated backfill cannot place them. A child sitemap of an index whose `<lastmod>` is before the
window is not fetched (nothing in it changed since). Sitemaps are fetched through the same polite,
guarded `Fetcher` as pages (robots.txt, per-host delay, size limit); `.xml.gz` files are inflated
with the same bounded decoder. A site's root URL means the sitemaps its robots.txt names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from pipeline.dates import parse_w3c_date
from pipeline.errors import Skip
from pipeline.fetch.http import BodyDecoder, Fetcher, FetchError
from pipeline.urls import normalize_url

SITEMAP_MAX_BYTES = 50_000_000  # the sitemaps.org limit for one file, uncompressed
MAX_DEPTH = 3
MAX_SITEMAPS = 2000


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    when: datetime | None = None
    title: str | None = None


@dataclass
class SitemapDoc:
    children: list[SitemapEntry] = field(default_factory=list)  # from a <sitemapindex>
    urls: list[SitemapEntry] = field(default_factory=list)  # from a <urlset> or a text sitemap


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)


def inflate_if_gzip(body: bytes, limit: int = SITEMAP_MAX_BYTES) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    return BodyDecoder("gzip", limit).feed(body)


def parse_sitemap(body: bytes, base: str, counts: Counter[str] | None = None) -> SitemapDoc:
    """Entries of a sitemap index, a urlset (with Google News extensions) or a plain-text sitemap."""
    counts = counts if counts is not None else Counter()
    body = inflate_if_gzip(body)
    if body.lstrip()[:1] != b"<":
        return _text_sitemap(body, base, counts)
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise Skip("not_a_sitemap", f"{base}: {exc}") from exc
    if root is None or _local(root.tag) not in ("sitemapindex", "urlset"):
        raise Skip("not_a_sitemap", f"{base}: root element is not <urlset> or <sitemapindex>")
    doc = SitemapDoc()
    target = doc.children if _local(root.tag) == "sitemapindex" else doc.urls
    for node in root:
        if _local(node.tag) in ("sitemap", "url"):
            entry = _entry(node, base, counts)
            if entry is not None:
                target.append(entry)
    return doc


def _entry(node: Any, base: str, counts: Counter[str]) -> SitemapEntry | None:
    fields: dict[str, str] = {}
    for child in node.iter():
        name = _local(child.tag)
        if name in ("loc", "lastmod", "publication_date", "title") and child.text and name not in fields:
            fields[name] = child.text.strip()
    if not fields.get("loc"):
        counts["skip:sitemap_no_loc"] += 1
        return None
    try:
        url = normalize_url(fields["loc"], base)
    except Skip:
        counts["skip:invalid_url"] += 1
        return None
    when = parse_w3c_date(fields.get("publication_date")) or parse_w3c_date(fields.get("lastmod"))
    return SitemapEntry(url, when, fields.get("title"))


def _text_sitemap(body: bytes, base: str, counts: Counter[str]) -> SitemapDoc:
    doc = SitemapDoc()
    for line in body.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.lower().startswith(("http://", "https://")):  # text sitemaps list absolute URLs only
            counts["skip:invalid_url"] += 1
            continue
        try:
            doc.urls.append(SitemapEntry(normalize_url(line)))
        except Skip:
            counts["skip:invalid_url"] += 1
    if not doc.urls:
        raise Skip("not_a_sitemap", f"{base}: neither XML nor a list of URLs")
    return doc


def in_window(when: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    if when is None:
        return False
    return (start is None or when >= start) and (end is None or when < end)


@dataclass
class SitemapWalk:
    """Walks a sitemap (index) tree and keeps the URLs of a window."""

    fetcher: Fetcher
    start: datetime | None
    end: datetime | None
    counts: Counter[str]
    include_undated: bool = False
    found: dict[str, SitemapEntry] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)

    async def run(self, url: str) -> list[SitemapEntry]:
        for sitemap in await self._roots(normalize_url(url)):
            await self._visit(sitemap, 0)
        return list(self.found.values())

    async def _roots(self, url: str) -> list[str]:
        parts = urlsplit(url)
        if parts.path not in ("", "/") or parts.query:
            return [url]
        rules = await self.fetcher.rules_for(f"{parts.scheme}://{parts.netloc}")
        named = list(rules.parser.sitemaps) if rules.parser is not None else []
        return [normalize_url(s) for s in named] or [url.rstrip("/") + "/sitemap.xml"]

    async def _visit(self, url: str, depth: int) -> None:
        if url in self.visited or len(self.visited) >= MAX_SITEMAPS:
            self.counts["skip:sitemap_limit" if url not in self.visited else "sitemap_repeated"] += 1
            return
        self.visited.add(url)
        try:
            result = await self.fetcher.get(url, kind="sitemap")
            doc = parse_sitemap(result.body, result.final_url, self.counts)
        except (Skip, FetchError) as exc:
            prefix = "skip" if isinstance(exc, Skip) else "failed"
            self.counts[f"{prefix}:sitemap_{exc.reason}"] += 1
            return
        self.counts["sitemaps_read"] += 1
        for child in doc.children:
            if depth >= MAX_DEPTH:
                self.counts["skip:sitemap_too_deep"] += 1
            elif child.when is not None and self.start is not None and child.when < self.start:
                self.counts["sitemaps_older_than_window"] += 1
            else:
                await self._visit(child.url, depth + 1)
        for entry in doc.urls:
            self._keep(entry)

    def _keep(self, entry: SitemapEntry) -> None:
        if entry.when is None and not self.include_undated:
            self.counts["skip:sitemap_undated"] += 1
        elif entry.when is not None and not in_window(entry.when, self.start, self.end):
            self.counts["skip:outside_window"] += 1
        else:
            self.found.setdefault(entry.url, entry)
