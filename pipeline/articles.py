"""Stage 3: raw pages -> articles.

Reads stored raw pages (never the network), extracts text and metadata, and loads the articles of a
batch with one COPY into a staging table and one `INSERT ... ON CONFLICT` merge. An article is
identified by its normalized URL; every URL it is known under (requested, final, canonical, og:url)
goes to `article_urls`, so a page fetched under a second URL joins the article it already is.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from pipeline import db
from pipeline.errors import Skip
from pipeline.extract import EXTRACTOR_VERSION, Extraction, extract_many
from pipeline.extraction.store import load_site_profile, update_site_profile
from pipeline.runs import Counts
from pipeline.settings import Settings
from pipeline.urls import normalize_url, source_of

log = logging.getLogger(__name__)

ARTICLE_COLUMNS = (
    "url", "raw_page_id", "source", "sitename", "title", "authors", "published_at", "date_source",
    "date_note", "language", "text", "word_count", "content_hash", "extractor",
)  # fmt: skip

MERGE_ARTICLES = """
INSERT INTO articles (url, raw_page_id, source, sitename, title, authors, published_at, date_source,
                      date_note, language, text, word_count, content_hash, extractor)
SELECT url, raw_page_id, source, sitename, title, authors, published_at, date_source,
       date_note, language, text, word_count, content_hash, extractor
FROM _stage_articles
ON CONFLICT (url) DO NOTHING
"""

MERGE_ALIASES = """
INSERT INTO article_urls (url, article_id, kind)
SELECT s.url, a.id, s.kind
FROM _stage_article_urls s JOIN articles a ON a.url = s.article_url
ON CONFLICT (url) DO NOTHING
"""

_SPACE = re.compile(r"\s+")


@dataclass
class RawPage:
    id: int
    url: str
    final_url: str | None
    body: bytes
    source: str
    published_hint: datetime | None


@dataclass
class ArticleRow:
    url: str
    aliases: dict[str, str]  # url -> kind
    values: tuple[Any, ...]


def content_hash(text: str) -> str:
    """Hash of the text with case and white space folded: the same story text, the same hash."""
    return hashlib.sha256(_SPACE.sub(" ", text).strip().lower().encode()).hexdigest()


def load_raw_pages(conn: psycopg.Connection[Any], raw_page_ids: Sequence[int]) -> list[RawPage | Skip]:
    """The pages, decompressed; a page whose stored body is corrupt is a Skip in its place."""
    rows = conn.execute(
        """SELECT r.id, r.url, r.final_url, r.body_gz, r.source, f.published_hint
           FROM raw_pages r LEFT JOIN frontier f ON f.url = r.url
           WHERE r.id = ANY(%s) ORDER BY r.id""",
        (list(raw_page_ids),),
    ).fetchall()
    pages: list[RawPage | Skip] = []
    for r in rows:
        try:
            pages.append(RawPage(r[0], r[1], r[2], _gunzip(r[3]), r[4], r[5]))
        except Skip as skip:
            pages.append(skip)
    return pages


def _gunzip(blob: bytes) -> bytes:
    try:
        return gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as exc:
        raise Skip("corrupt_raw_page", str(exc)) from exc


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


def build_article(page: RawPage, found: Extraction, min_words: int) -> ArticleRow:
    words = len(found.text.split())
    if words < min_words:
        raise Skip("too_short", f"{words} words")
    url = _identity(page, found)
    published, date_source = found.published_at, found.date_source
    if published is None and page.published_hint is not None:
        published, date_source = page.published_hint, "feed"
    values = (
        url, page.id, source_of(url), found.sitename, found.title, found.authors, published,
        date_source, found.date_note, found.language, found.text, words, content_hash(found.text),
        EXTRACTOR_VERSION,
    )  # fmt: skip
    return ArticleRow(url, _same_site_aliases(page, found, url) | {url: "identity"}, values)


def _known_article(conn: psycopg.Connection[Any], urls: Sequence[str]) -> int | None:
    row = conn.execute("SELECT article_id FROM article_urls WHERE url = ANY(%s) LIMIT 1", (list(urls),)).fetchone()
    return int(row[0]) if row else None


def _add_aliases(conn: psycopg.Connection[Any], article_id: int, aliases: dict[str, str]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO article_urls (url, article_id, kind) VALUES (%s, %s, %s) ON CONFLICT (url) DO NOTHING",
            [(url, article_id, kind) for url, kind in aliases.items() if kind != "identity"],
        )


@dataclass
class Extracted:
    """One raw page made into an article row, with the extraction it came from."""

    found: Extraction
    row: ArticleRow


def extract_batch(
    conn: psycopg.Connection[Any], settings: Settings, raw_page_ids: Sequence[int]
) -> tuple[list[Extracted], list[Skip]]:
    """Extract stored pages, each site's pages with that site's stored boilerplate profile.
    Returns the pages that make articles and, for the rest, why not."""
    loaded = load_raw_pages(conn, raw_page_ids)
    pages = [p for p in loaded if isinstance(p, RawPage)]
    skipped = [p for p in loaded if isinstance(p, Skip)]  # a corrupt stored body
    results = extract_many(
        [(p.body, p.final_url or p.url) for p in pages], sites=lambda source: load_site_profile(conn, source)
    )
    made: list[Extracted] = []
    for page, found in zip(pages, results, strict=True):
        try:
            if isinstance(found, Skip):
                raise found
            made.append(Extracted(found, build_article(page, found, settings.min_article_words)))
        except Skip as skip:
            log.info("raw page %s (%s) makes no article: %s", page.id, page.url, skip)
            skipped.append(skip)
    return made, skipped


def extract_pages(
    conn: psycopg.Connection[Any],
    settings: Settings,
    raw_page_ids: Sequence[int],
    *,
    run_id: int | None = None,
) -> tuple[Counts, list[int]]:
    """Extract a batch of raw pages into articles, in the caller's transaction.

    Pages of one site are extracted together with that site's learned boilerplate profile (stored
    pages plus this batch), and the batch is then counted into the profiles. Returns outcome counts
    and the ids of the articles these pages are (new or already stored).
    """
    counts: Counter[str] = Counter()
    made, skipped = extract_batch(conn, settings, raw_page_ids)
    counts.update(f"skip:{skip.reason}" for skip in skipped)
    rows: list[ArticleRow] = []
    seen: set[str] = set()
    article_ids: list[int] = []
    learned: dict[str, list[Extraction]] = {}
    for item in made:
        row = item.row
        learned.setdefault(source_of(row.url), []).append(item.found)
        known = _known_article(conn, list(row.aliases))
        if known is not None or row.url in seen:
            counts["already_stored"] += 1
            if known is not None:
                article_ids.append(known)
                _add_aliases(conn, known, row.aliases)
            continue
        seen.add(row.url)
        rows.append(row)
    if rows:
        inserted, stored_ids = _load_articles(conn, rows)
        counts["stored"] += inserted
        counts["already_stored"] += len(rows) - inserted
        article_ids.extend(stored_ids)
    for source, extractions in learned.items():
        counts["site_profile_pages"] += update_site_profile(conn, source, extractions)
    return dict(counts), sorted(set(article_ids))


def _load_articles(conn: psycopg.Connection[Any], rows: Sequence[ArticleRow]) -> tuple[int, list[int]]:
    """COPY the batch into staging tables, merge articles and their aliases. Returns (inserted, ids)."""
    with conn.cursor() as cur:
        inserted = db.copy_merge(cur, "articles", ARTICLE_COLUMNS, (r.values for r in rows), MERGE_ARTICLES)
        db.copy_merge(
            cur,
            "article_urls",
            ("url", "kind", "article_url"),
            ((alias, kind, r.url) for r in rows for alias, kind in r.aliases.items()),
            MERGE_ALIASES,
            types=("text", "text", "text"),
        )
        found = cur.execute("SELECT id FROM articles WHERE url = ANY(%s)", ([r.url for r in rows],)).fetchall()
    return inserted, [int(r[0]) for r in found]


REFRESH_ARTICLES = """
UPDATE articles a
SET sitename = s.sitename, title = s.title, authors = s.authors, published_at = s.published_at,
    date_source = s.date_source, date_note = s.date_note, language = s.language, text = s.text,
    word_count = s.word_count, content_hash = s.content_hash, extractor = s.extractor, updated_at = now()
FROM _stage_articles s
WHERE a.raw_page_id = s.raw_page_id
  AND (a.sitename, a.title, a.authors, a.published_at, a.date_source, a.date_note, a.language, a.text,
       a.extractor)
      IS DISTINCT FROM
      (s.sitename, s.title, s.authors, s.published_at, s.date_source, s.date_note, s.language, s.text,
       s.extractor)
RETURNING a.id
"""


def stale_extractions(conn: psycopg.Connection[Any], *, everything: bool = False) -> list[int]:
    """Articles extracted by another extractor version (or all with a stored page), oldest first."""
    rows = conn.execute(
        "SELECT id FROM articles WHERE raw_page_id IS NOT NULL AND (%s OR extractor <> %s) ORDER BY id",
        (everything, EXTRACTOR_VERSION),
    ).fetchall()
    return [int(r[0]) for r in rows]


def reextract_articles(
    conn: psycopg.Connection[Any], settings: Settings, article_ids: Sequence[int]
) -> tuple[Counts, list[int]]:
    """Extract these articles again from their stored raw pages (never the network) and update them
    in place, in the caller's transaction. An article whose page now yields no usable text keeps its
    old text (counted). Returns counts and the ids whose text or metadata changed."""
    counts: Counter[str] = Counter()
    raw_ids = [
        int(r[0])
        for r in conn.execute(
            "SELECT raw_page_id FROM articles WHERE id = ANY(%s) AND raw_page_id IS NOT NULL", (list(article_ids),)
        )
    ]
    made, skipped = extract_batch(conn, settings, raw_ids)
    counts.update(f"kept:{skip.reason}" for skip in skipped)
    rows = [item.row for item in made]
    changed: list[int] = []
    if rows:
        with conn.cursor() as cur:
            db.copy_merge(cur, "articles", ARTICLE_COLUMNS, (r.values for r in rows), REFRESH_ARTICLES)
            changed = [int(r[0]) for r in cur.fetchall()]
    counts["changed"] += len(changed)
    counts["unchanged"] += len(rows) - len(changed)
    return dict(counts), changed
