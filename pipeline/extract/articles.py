"""The extraction stage: stored raw pages -> articles.

Reads stored raw pages (never the network), extracts text and metadata, and loads the articles of a
batch through `store` (one COPY into a staging table and one `INSERT ... ON CONFLICT` merge). An article is
identified by its normalized URL; every URL it is known under (requested, final, canonical, og:url)
goes to `article_urls`, so a page fetched under a second URL joins the article it already is.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from pipeline.errors import ItemFailed, Skip
from pipeline.extract import store
from pipeline.extract.core import Extraction, extract_many, extractor_version, text_length
from pipeline.fetch.store import RawPage, load_raw_pages
from pipeline.runs import Counts
from pipeline.settings import Settings
from pipeline.urls import normalize_url, source_of

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")


@dataclass
class ArticleRow:
    url: str
    aliases: dict[str, str]  # url -> kind
    values: tuple[Any, ...]


def content_hash(text: str) -> str:
    """Hash of the text with case and white space folded: the same story text, the same hash."""
    return hashlib.sha256(_SPACE.sub(" ", text).strip().lower().encode()).hexdigest()


def _same_site_aliases(page: RawPage, found: Extraction, identity: str) -> dict[str, str]:
    """URLs this article is known under, kept only when on the same site (a cross-site canonical is a
    syndication claim, which the syndication stage judges, not an identity)."""
    candidates = [(page.url, "fetched"), (page.final_url, "final")]
    candidates += [(found.canonical_url, "canonical")] + [(a, "alias") for a in found.aliases]
    site = source_of(identity)
    aliases: dict[str, str] = {}
    for url, kind in candidates:
        if not url:
            continue
        try:
            norm = normalize_url(url)
        except Skip:
            continue  # an unusable alias is only a missing alias; the article keeps its own URL
        if source_of(norm) == site:
            aliases.setdefault(norm, kind)
    return aliases


def _identity(page: RawPage, found: Extraction) -> str:
    fetched = normalize_url(page.final_url or page.url)
    if found.canonical_url:
        canonical = normalize_url(found.canonical_url)
        if source_of(canonical) == source_of(fetched):
            return canonical
    return fetched


def build_article(page: RawPage, found: Extraction, min_words: int, extractor: str) -> ArticleRow:
    words = text_length(found.text)  # characters in scripts without spaces
    if words < min_words:
        raise Skip("too_short", f"{words} words")
    url = _identity(page, found)
    published, date_source = found.published_at, found.date_source
    if published is None and page.published_hint is not None:
        published, date_source = page.published_hint, "feed"
    values = (
        url, page.id, source_of(url), found.sitename, found.title, found.authors, published,
        date_source, found.date_note, found.language, found.text, words, content_hash(found.text),
        extractor,
    )  # fmt: skip
    return ArticleRow(url, _same_site_aliases(page, found, url) | {url: "identity"}, values)


@dataclass
class Extracted:
    """One raw page made into an article row, with the extraction it came from."""

    raw_page_id: int
    found: Extraction
    row: ArticleRow


Outcome = Extracted | Skip | ItemFailed


def extract_batch(conn: psycopg.Connection[Any], settings: Settings, raw_page_ids: Sequence[int]) -> dict[int, Outcome]:
    """Extract stored pages, each site's pages with that site's stored boilerplate profile. Returns,
    for each raw page, the article row it makes, or why it makes none (a Skip is final, an ItemFailed
    is an unexpected error of that page alone)."""
    outcomes: dict[int, Outcome] = {}
    pages: list[RawPage] = []
    for raw_id, page in load_raw_pages(conn, raw_page_ids):
        if isinstance(page, Skip):
            outcomes[raw_id] = page  # a corrupt stored body
        else:
            pages.append(page)
    results = extract_many(
        [(p.body, p.final_url or p.url) for p in pages],
        sites=lambda texts_of: store.load_site_profiles(conn, texts_of),
        charsets=[p.charset for p in pages],
        workers=settings.extract_workers,
        fast=settings.extract_fast,
    )
    extractor = extractor_version(settings.extract_fast)
    for page, found in zip(pages, results, strict=True):
        outcomes[page.id] = _outcome(page, found, settings.min_article_words, extractor)
    return outcomes


def _outcome(page: RawPage, found: Extraction | Skip | ItemFailed, min_words: int, extractor: str) -> Outcome:
    if not isinstance(found, Extraction):
        log.info("raw page %s (%s) makes no article: %s", page.id, page.url, found)
        return found
    try:
        return Extracted(page.id, found, build_article(page, found, min_words, extractor))
    except Skip as skip:
        log.info("raw page %s (%s) makes no article: %s", page.id, page.url, skip)
        return skip
    except Exception as exc:  # hostile metadata no rule foresaw: this page fails, never its batch
        log.warning("raw page %s (%s) failed: %r", page.id, page.url, exc)
        return ItemFailed("error", f"{type(exc).__name__}: {exc}"[:500])


def extract_pages(
    conn: psycopg.Connection[Any],
    settings: Settings,
    raw_page_ids: Sequence[int],
) -> tuple[Counts, list[int]]:
    """Extract a batch of raw pages into articles, in the caller's transaction, and record each raw
    page's extraction state (done, skipped with its reason, failed with its error).

    Pages of one site are extracted together with that site's learned boilerplate profile (stored
    pages plus this batch), and the batch is then counted into the profiles. Returns outcome counts
    and the ids of the articles these pages are (new or already stored).
    """
    counts: Counter[str] = Counter()
    outcomes = extract_batch(conn, settings, raw_page_ids)
    rows: list[ArticleRow] = []
    seen: set[str] = set()
    article_ids: list[int] = []
    learned: dict[str, list[Extraction]] = {}
    states: list[tuple[int, str, str | None]] = []
    aliases_of = {url for item in outcomes.values() if isinstance(item, Extracted) for url in item.row.aliases}
    known_urls = store.known_articles(conn, list(aliases_of))  # kept up to date as aliases are added below
    for raw_id, item in sorted(outcomes.items()):
        if isinstance(item, Skip):
            counts[f"skip:{item.reason}"] += 1
            states.append((raw_id, "skipped", item.reason))
            continue
        if isinstance(item, ItemFailed):
            counts[f"failed:{item.reason}"] += 1
            states.append((raw_id, "failed", str(item)))
            continue
        states.append((raw_id, "done", None))
        row = item.row
        learned.setdefault(source_of(row.url), []).append(item.found)
        known = next((known_urls[url] for url in row.aliases if url in known_urls), None)
        if known is not None or row.url in seen:
            counts["already_stored"] += 1
            if known is not None:
                article_ids.append(known)
                store.add_aliases(conn, known, row.aliases)
                for url, kind in row.aliases.items():
                    if kind != "identity":
                        known_urls.setdefault(url, known)
            continue
        seen.add(row.url)
        rows.append(row)
    if rows:
        inserted, stored_ids = store.load_articles(conn, sorted(rows, key=lambda r: r.url))
        counts["stored"] += inserted
        counts["already_stored"] += len(rows) - inserted
        article_ids.extend(stored_ids)
    added = store.update_site_profiles(
        conn, {s: [e.unfiltered_text or e.text for e in found] for s, found in learned.items()}
    )
    counts["site_profile_pages"] += sum(added.values())
    store.mark_extracted(conn, states, extractor_version(settings.extract_fast))
    return dict(counts), sorted(set(article_ids))


def reextract_articles(
    conn: psycopg.Connection[Any], settings: Settings, article_ids: Sequence[int]
) -> tuple[Counts, list[int]]:
    """Extract these articles again from their stored raw pages (never the network) and update them
    in place, in the caller's transaction. An article whose page now yields no usable text keeps its
    old text (counted). Returns counts and the ids whose text or metadata changed."""
    counts: Counter[str] = Counter()
    raw_ids = store.raw_page_ids_of(conn, article_ids)
    outcomes = extract_batch(conn, settings, raw_ids)
    counts.update(f"kept:{item.reason}" for item in outcomes.values() if not isinstance(item, Extracted))
    rows = [item.row for item in outcomes.values() if isinstance(item, Extracted)]
    changed = store.refresh_articles(conn, rows) if rows else []
    counts["changed"] += len(changed)
    counts["unchanged"] += len(rows) - len(changed)
    return dict(counts), changed
