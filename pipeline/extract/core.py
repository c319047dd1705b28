"""Extraction from one HTML page (pure): main text and metadata.

trafilatura is the engine. Around it: decoding with charset detection, one parse shared by the
metadata and the text, metadata with its provenance (JSON-LD, meta tags, URL, text), untrusted
dates kept out, language detection, and site-level boilerplate learned from other pages of the
same site (`learn_site_profile`, `SiteProfile`). See docs/extraction.md for design and figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.errors import ItemFailed, Skip
from pipeline.extract.boilerplate import SiteProfile
from pipeline.extract.decode import decode_html, parse_html
from pipeline.extract.language import detect_language
from pipeline.extract.metadata import PageMeta, page_metadata
from pipeline.extract.parallel import map_chunked, start_ahead
from pipeline.extract.text import main_text
from pipeline.textclean import storable
from pipeline.urls import source_of

__all__ = [
    "EXTRACTOR_VERSION",
    "FAST_EXTRACTOR_VERSION",
    "Extraction",
    "SiteProfile",
    "extract",
    "extract_many",
    "extractor_version",
    "learn_site_profile",
    "text_length",
    "unfiltered_text",
]

EXTRACTOR_VERSION = f"newsflow-extract/4 trafilatura/{version('trafilatura')}"
# The same release in trafilatura's fast mode (`Settings.extract_fast`): stored on the articles it made.
FAST_EXTRACTOR_VERSION = f"{EXTRACTOR_VERSION} fast"


def extractor_version(fast: bool) -> str:
    """The `extractor` recorded for pages extracted in this mode."""
    return FAST_EXTRACTOR_VERSION if fast else EXTRACTOR_VERSION


_BLANK_LINES = re.compile(r"\n\s*\n+")
# Scripts written without spaces between words (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar,
# Tibetan): their length is counted in characters.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]"
)
# A run of non-space characters with a letter or digit in it (`[^\W_]` is `str.isalnum`, `\S` is what
# `str.split` splits on): one word.
_WORD = re.compile(r"\S*?[^\W_]\S*")
# Less than this is a menu item or a caption, not article text. (How long an article must be to be
# kept is the caller's policy: settings.min_article_words, in the same unit.)
MIN_TEXT_WORDS = 5


def text_length(text: str) -> int:
    """The text's length in its scripts' own units: words where words are separated by spaces (any
    alphabet, combining marks included: Bengali, Devanagari...), characters in scripts without
    spaces (Chinese, Japanese, Thai...)."""
    unspaced = len(_UNSPACED.findall(text))
    spaced = _UNSPACED.sub(" ", text) if unspaced else text
    return unspaced + len(_WORD.findall(spaced))


@dataclass
class Extraction:
    url: str | None
    canonical_url: str | None
    aliases: list[str]
    title: str | None
    authors: list[str]
    published_at: datetime | None
    date_source: str
    date_note: str | None
    language: str | None
    sitename: str | None
    text: str
    dropped: dict[str, int] = field(default_factory=dict)  # boilerplate removed, by kind
    unfiltered_text: str = field(default="", repr=False, compare=False)
    meta: PageMeta | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO dates), without the internal page metadata."""
        data = asdict(self)
        data.pop("meta", None)
        data.pop("unfiltered_text", None)
        data["published_at"] = self.published_at.isoformat() if self.published_at else None
        return data


def _tidy(text: str) -> str:
    lines = (line.strip() for line in _BLANK_LINES.sub("\n", text).split("\n"))
    return "\n".join(line for line in lines if line)


def _extract_unfiltered(tree: HtmlElement, url: str | None, now: datetime, *, fast: bool = False) -> Extraction:
    meta = page_metadata(tree, url, now)
    found = main_text(tree, url or meta.canonical_url, meta, fast=fast)
    text = _tidy(found.text)
    if meta.article_body and text_length(text) < MIN_TEXT_WORDS <= text_length(meta.article_body):
        # trafilatura found no text where the page publishes its article body as data (JSON-LD)
        text = _tidy(meta.article_body)
        found.dropped["from_jsonld_body"] = 1
    return Extraction(
        url=url,
        canonical_url=meta.canonical_url,
        aliases=meta.aliases,
        title=storable(meta.title) if meta.title else meta.title,
        authors=[storable(a) for a in meta.authors],
        published_at=meta.published_at,
        date_source=meta.date_source,
        date_note=meta.date_note,
        language=None,
        sitename=storable(meta.sitename) if meta.sitename else meta.sitename,
        text=storable(text),  # what the page's JSON and markup carry reaches the database whole
        dropped=found.dropped,
        meta=meta,
    )


Unfiltered = Extraction | Skip | ItemFailed
# Loads the stored profiles that a batch's pages consult, given their unfiltered texts by site.
SiteLoader = Callable[[Mapping[str, Sequence[str]]], Mapping[str, SiteProfile | None]]
Item = tuple[str | bytes, str | None, str | None, datetime]  # (page, URL, charset, now): one page's work


def unfiltered_chunk(items: list[Item], fast: bool = False) -> list[Unfiltered]:
    """Decode, parse and extract each (html, url, charset, now) before site boilerplate is removed:
    the per-page work of `extract_many`, run in its worker processes. Never raises: a page's failure
    is its result."""
    raw: list[Unfiltered] = []
    for html, url, charset, when in items:
        try:
            raw.append(_extract_unfiltered(parse_html(decode_html(html, charset)), url, when, fast=fast))
        except Skip as skip:
            raw.append(skip)
        except Exception as exc:  # a hostile page must not stop the others
            raw.append(ItemFailed("error", f"{type(exc).__name__}: {exc}"[:500]))
    return raw


def unfiltered_chunk_fast(items: list[Item]) -> list[Unfiltered]:
    """`unfiltered_chunk` in trafilatura's fast mode (a function of its own: work started ahead is
    found again by function and page)."""
    return unfiltered_chunk(items, fast=True)


def _chunk_function(fast: bool) -> Callable[[list[Item]], list[Unfiltered]]:
    return unfiltered_chunk_fast if fast else unfiltered_chunk


def _finish(result: Extraction, site: SiteProfile | None) -> Extraction:
    result.unfiltered_text = result.text
    if site is not None and result.text:
        keep = (result.title, result.meta.description if result.meta else None)
        result.text, removed = site.filter(result.text, keep=keep)
        if removed:
            result.dropped["site_boilerplate"] = removed
        result.text = _tidy(result.text)
    if text_length(result.text) < MIN_TEXT_WORDS:
        raise Skip("no_text", f"{result.url or ''} {result.text[:80]!r}".strip())
    result.language = detect_language(result.text, result.meta.html_lang if result.meta else None)
    return result


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    site: SiteProfile | None = None,
    now: datetime | None = None,
    charset: str | None = None,
) -> Extraction:
    """Main text and metadata of one page (bytes decoded with `charset` when given, e.g. the one stored
    at fetch time). Raises Skip("not_html"), Skip("too_large"), Skip("no_text") or Skip("invalid_url")
    (a URL that urllib cannot split)."""
    _check_url(url)
    tree = parse_html(decode_html(html, charset))
    return _finish(_extract_unfiltered(tree, url, now or datetime.now(UTC)), site)


def _check_url(url: str | None) -> None:
    if url is None:
        return
    try:
        urlsplit(url)
    except ValueError as exc:
        raise Skip("invalid_url", f"{exc}: {url[:200]}") from exc


def unfiltered_text(html: str | bytes, url: str | None = None) -> str:
    """The page's main text before site boilerplate is removed (what profiles learn from)."""
    _check_url(url)
    text = _extract_unfiltered(parse_html(decode_html(html)), url, datetime.now(UTC)).text
    if not text:
        raise Skip("no_text", url or "")
    return text


def learn_site_profile(pages: Sequence[str | bytes], *, now: datetime | None = None) -> SiteProfile:
    """Site-level boilerplate learned from several pages of one site (pages that cannot be read
    are left out)."""
    when = now or datetime.now(UTC)
    profile = SiteProfile()
    for page in pages:
        try:
            result = _extract_unfiltered(parse_html(decode_html(page)), None, when)
        except Skip:
            continue  # an unreadable page teaches nothing about the site
        profile.add_page(result.text)
    return profile


def site_key(url: str | None) -> str:
    """The outlet a page belongs to (its registered domain, as `articles.source`), for grouping
    pages by site; "" when unknown."""
    if not url:
        return ""
    try:
        return source_of(url)
    except Skip:
        return ""  # no host: the page is extracted on its own


def _page_key(item: Item) -> tuple[int, int, str | None, str | None]:
    """What a page's extraction depends on (its clock aside): the same page, URL and charset."""
    html, url, charset, _ = item
    return hash(html), len(html), url, charset


def extract_ahead(
    pages: Sequence[tuple[str | bytes, str | None]],
    charsets: Sequence[str | None],
    *,
    workers: int,
    fast: bool = False,
) -> None:
    """Start the per-page work of a later `extract_many` over these (page, URL) and charsets, in the
    same mode, in the worker processes now (`parallel.start_ahead`); nothing with one worker."""
    when = datetime.now(UTC)
    items = [(html, url, charset, when) for (html, url), charset in zip(pages, charsets, strict=True)]
    start_ahead(_chunk_function(fast), items, workers, _page_key)


def extract_many(
    pages: Sequence[tuple[str | bytes, str | None]],
    *,
    sites: Mapping[str, SiteProfile] | SiteLoader | None = None,
    now: datetime | None = None,
    tick: Callable[[int], None] | None = None,
    charsets: Sequence[str | None] | None = None,
    workers: int = 1,
    fast: bool = False,
) -> list[Extraction | Skip | ItemFailed]:
    """Extract several pages, learning each site's boilerplate from the given pages of that site
    (grouped by the registered domain of the page's URL, else of its canonical URL) plus the stored
    profile of that site: `sites` maps a site to its profile, or is a function that loads the profiles
    for the batch's unfiltered texts by site (e.g. `lambda texts_of: load_site_profiles(conn, texts_of)`).
    Each page is parsed and run through trafilatura once; a page's result is a Skip when it cannot be
    extracted, an ItemFailed when extracting it raised an error no rule foresaw (that page alone fails).
    `charsets`, one per page, are the charsets found when the pages were fetched (bytes are decoded with
    them). With `workers` > 1 the pages are parsed and run through trafilatura in that many processes
    (`parallel`); site profiles are then learned and applied here, over the whole batch, so the results
    do not depend on `workers`. `fast`: trafilatura's fast mode (`Settings.extract_fast`)."""
    when = now or datetime.now(UTC)
    if charsets is not None and len(charsets) != len(pages):
        raise ValueError(f"{len(charsets)} charsets for {len(pages)} pages")
    items = [(html, url, charsets[i] if charsets is not None else None, when) for i, (html, url) in enumerate(pages)]
    raw = map_chunked(_chunk_function(fast), items, workers, tick=tick, key=_page_key)
    texts_of: dict[str, list[str]] = {}
    for item in raw:
        if isinstance(item, Extraction) and (key := site_key(item.url or item.canonical_url)):
            texts_of.setdefault(key, []).append(item.text)
    stored: Mapping[str, SiteProfile | None] = {}
    if sites is not None and texts_of:
        stored = sites if isinstance(sites, Mapping) else sites(texts_of)
    profiles: dict[str, SiteProfile] = {}
    for key in texts_of:
        found = stored.get(key)
        profiles[key] = found.copy() if found else SiteProfile()
    for item in raw:  # in the batch's order: a page counts the pages before it
        if isinstance(item, Extraction) and (key := site_key(item.url or item.canonical_url)):
            profiles[key].add_page(item.text)
    results: list[Extraction | Skip | ItemFailed] = []
    for item in raw:
        if not isinstance(item, Extraction):
            results.append(item)
            continue
        profile = profiles.get(site_key(item.url or item.canonical_url))
        try:
            results.append(_finish(item, profile))
        except Skip as skip:
            results.append(skip)
        except Exception as exc:  # a hostile page must not stop the others
            results.append(ItemFailed("error", f"{type(exc).__name__}: {exc}"[:500]))
    return results
