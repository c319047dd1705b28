"""Feed discovery for `newsflow feeds add`: a site's `<link rel="alternate">` feeds."""

from __future__ import annotations

from urllib.parse import urljoin

from pipeline.errors import Skip
from pipeline.feeds.parse import ParsedFeed, parse_feed
from pipeline.feeds.poll import FEED_ACCEPT
from pipeline.fetch.http import Fetcher, FetchError, run_sync
from pipeline.settings import Settings
from pipeline.urls import normalize_url

FEED_LINK_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
    "application/json", "application/xml", "text/xml",
)  # fmt: skip


def feed_links_in_html(body: bytes, base: str) -> list[str]:
    """The feed URLs a page announces with <link rel="alternate" type="application/rss+xml" ...>."""
    from lxml import html as lxml_html
    from lxml.etree import ParserError

    try:
        doc = lxml_html.document_fromstring(body)
    except (ParserError, ValueError):
        return []
    base_href = doc.xpath("string(//base/@href)") or base
    found: list[str] = []
    for link in doc.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        ltype = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and ltype in FEED_LINK_TYPES:
            href = urljoin(urljoin(base, base_href), link.get("href").strip())
            if href not in found:
                found.append(href)
    return found


def discover_feed(settings: Settings, url: str) -> tuple[str, ParsedFeed]:
    """The feed at `url`, or the first working feed a homepage at `url` links to."""
    start = normalize_url(url)

    async def run() -> tuple[str, ParsedFeed]:
        async with Fetcher(settings) as fetcher:
            result = await fetcher.get(start, kind="feed", headers={"Accept": FEED_ACCEPT})
            try:
                ctype = result.headers.get("content-type")
                return result.final_url, parse_feed(result.body, url=result.final_url, content_type=ctype)
            except Skip:
                candidates = feed_links_in_html(result.body, result.final_url)
            errors = []
            for candidate in candidates:
                try:
                    found = await fetcher.get(candidate, kind="feed", headers={"Accept": FEED_ACCEPT})
                    ctype = found.headers.get("content-type")
                    return normalize_url(candidate), parse_feed(found.body, url=found.final_url, content_type=ctype)
                except (Skip, FetchError) as exc:
                    errors.append(f"{candidate}: {exc}")
            detail = "; ".join(errors) if errors else "the page links to no feed (<link rel=alternate>)"
            raise Skip("no_feed_found", f"{start}: {detail}")

    return run_sync(run)
