"""The only module with SQL for the extraction stage's tables: `articles`, `article_urls`, and the
per-site boilerplate profiles (`site_profile_pages`, `site_paragraphs`).

Articles of a batch are loaded with one COPY into a staging table and one `INSERT ... ON CONFLICT`
merge. `update_site_profile(conn, source, texts)` counts new pages of a source (pages already
counted, or other versions of a counted story, are left out, so reruns change nothing);
`load_site_profile(conn, source)` gives the `SiteProfile` to pass to `extract(..., site=profile)`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg

from pipeline import db
from pipeline.errors import DatabaseError
from pipeline.extract.boilerplate import SiteProfile, page_id, paragraph_key, word_count
from pipeline.extract.core import EXTRACTOR_VERSION

# Paragraphs seen on a single page are kept this long waiting for a second sighting.
SINGLE_SIGHTING_DAYS = 180
EXAMPLE_CHARS = 300


def load_site_profile(conn: psycopg.Connection[Any], source: str) -> SiteProfile | None:
    """The stored profile of `source`, or None when no page of it was counted yet."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT page_id FROM site_profile_pages WHERE source = %s", (source,))
            page_ids = {row[0] for row in cur.fetchall()}
            if not page_ids:
                return None
            cur.execute(
                "SELECT para_key, pages, words FROM site_paragraphs WHERE source = %s"
                " AND (pages > 1 OR last_seen > now() - make_interval(days => %s))",
                (source, SINGLE_SIGHTING_DAYS),
            )
            rows = cur.fetchall()
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot load the site profile of {source}: {exc}") from exc
    return SiteProfile(
        counts=Counter({key: pages for key, pages, _ in rows}),
        words={key: words for key, _, words in rows},
        page_ids=page_ids,
    )


def _paragraphs(text: str) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for line in text.split("\n"):
        key = paragraph_key(line)
        if key and key not in found:
            found[key] = (word_count(line), line[:EXAMPLE_CHARS])
    return found


def update_site_profile(conn: psycopg.Connection[Any], source: str, texts: Sequence[str]) -> int:
    """Count these pages of `source` into its stored profile, in one transaction. Each page is its
    main text before site boilerplate is removed (`Extraction.unfiltered_text`). Returns how many
    pages were new."""
    texts = [t for t in texts if t]
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('site_profile:' || %s))", (source,))
            profile = load_site_profile(conn, source) or SiteProfile()
            added = [t for t in texts if profile.add_page(t)]
            _store_profile_pages(cur, source, added)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot update the site profile of {source}: {exc}") from exc
    return len(added)


PROFILE_PAGE_COLUMNS = ("source", "page_id", "paragraphs")
MERGE_PROFILE_PAGES = """
INSERT INTO site_profile_pages (source, page_id, paragraphs)
SELECT source, page_id, paragraphs FROM _stage_site_profile_pages ORDER BY page_id
ON CONFLICT DO NOTHING
"""
PARAGRAPH_STAGE = ("ord", "source", "para_key", "words", "example")
PARAGRAPH_STAGE_TYPES = ("integer", "text", "text", "integer", "text")
# One row per paragraph, counted once per page it is in; a new paragraph keeps its first page's words and
# example, as when the pages were counted one by one.
MERGE_PARAGRAPHS = """
INSERT INTO site_paragraphs (source, para_key, pages, words, example)
SELECT DISTINCT ON (para_key) source, para_key, count(*) OVER (PARTITION BY para_key), words, example
FROM _stage_site_paragraphs
ORDER BY para_key, ord
ON CONFLICT (source, para_key) DO UPDATE
SET pages = site_paragraphs.pages + EXCLUDED.pages, last_seen = now()
"""


def _store_profile_pages(cur: psycopg.Cursor[Any], source: str, added: Sequence[str]) -> None:
    """Count these new pages into the profile's tables: one COPY and one merge per table."""
    if not added:
        return
    pages: list[tuple[str, str, int]] = []
    paragraphs: list[tuple[int, str, str, int, str]] = []
    for text in added:
        found = _paragraphs(text)
        pages.append((source, page_id(text), len(found)))
        for key, (words, example) in found.items():
            paragraphs.append((len(paragraphs), source, key, words, example))
    db.copy_merge(cur, "site_profile_pages", PROFILE_PAGE_COLUMNS, pages, MERGE_PROFILE_PAGES)
    if paragraphs:
        db.copy_merge(
            cur, "site_paragraphs", PARAGRAPH_STAGE, paragraphs, MERGE_PARAGRAPHS, types=PARAGRAPH_STAGE_TYPES
        )


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


def known_articles(conn: psycopg.Connection[Any], urls: Sequence[str]) -> dict[str, int]:
    """The article each of these URLs is an alias of, for those already known (one query per batch)."""
    rows = conn.execute("SELECT url, article_id FROM article_urls WHERE url = ANY(%s)", (sorted(set(urls)),))
    return {str(url): int(article_id) for url, article_id in rows.fetchall()}


def add_aliases(conn: psycopg.Connection[Any], article_id: int, aliases: dict[str, str]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO article_urls (url, article_id, kind) VALUES (%s, %s, %s) ON CONFLICT (url) DO NOTHING",
            [(url, article_id, kind) for url, kind in aliases.items() if kind != "identity"],
        )


def load_articles(conn: psycopg.Connection[Any], rows: Sequence[Any]) -> tuple[int, list[int]]:
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


def raw_page_ids_of(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> list[int]:
    """The stored raw pages these articles were extracted from."""
    rows = conn.execute(
        "SELECT raw_page_id FROM articles WHERE id = ANY(%s) AND raw_page_id IS NOT NULL", (list(article_ids),)
    )
    return [int(r[0]) for r in rows]


def refresh_articles(conn: psycopg.Connection[Any], rows: Sequence[Any]) -> list[int]:
    """Update articles in place from re-extracted rows; the ids whose text or metadata changed."""
    with conn.cursor() as cur:
        db.copy_merge(cur, "articles", ARTICLE_COLUMNS, (r.values for r in rows), REFRESH_ARTICLES)
        return [int(r[0]) for r in cur.fetchall()]


MAX_EXTRACT_ATTEMPTS = 3


def claim_raw_pages(conn: psycopg.Connection[Any], limit: int, *, exclude: Sequence[int] = ()) -> list[int]:
    """Lock up to `limit` raw pages to extract, in the caller's transaction (SKIP LOCKED: pages another
    process is extracting are left to it): pending ones, failed ones with attempts left, and pages
    skipped by another extractor version. Rows in `exclude` (tried by this process) are left out."""
    rows = conn.execute(
        """SELECT id FROM raw_pages
           WHERE (extract_state = 'pending'
                  OR (extract_state = 'failed' AND extract_attempts < %(max)s)
                  OR (extract_state = 'skipped' AND extracted_by IS DISTINCT FROM %(version)s))
             AND NOT (id = ANY(%(exclude)s))
           ORDER BY id LIMIT %(limit)s
           FOR UPDATE SKIP LOCKED""",
        {"max": MAX_EXTRACT_ATTEMPTS, "version": EXTRACTOR_VERSION, "exclude": list(exclude), "limit": limit},
    ).fetchall()
    return [int(r[0]) for r in rows]


def mark_extracted(conn: psycopg.Connection[Any], states: Sequence[tuple[int, str, str | None]], version: str) -> None:
    """Record each raw page's extraction outcome: (id, done | skipped | failed, reason or error). A page
    that failed MAX_EXTRACT_ATTEMPTS times is parked with its error."""
    with conn.cursor() as cur:
        cur.executemany(
            """UPDATE raw_pages SET
                   extract_attempts = extract_attempts + (%(state)s = 'failed')::int,
                   extract_state = CASE WHEN %(state)s = 'failed' AND extract_attempts + 1 >= %(max)s
                                        THEN 'parked' ELSE %(state)s END,
                   extract_reason = %(reason)s, extracted_by = %(version)s, extracted_at = now()
               WHERE id = %(id)s""",
            [{"id": raw_id, "state": state, "reason": (reason or "")[:1000] or None, "version": version,
              "max": MAX_EXTRACT_ATTEMPTS} for raw_id, state, reason in states],
        )  # fmt: skip


def work_counts(conn: psycopg.Connection[Any]) -> list[tuple[str, int, Any, str | None]]:
    """Raw pages by extraction state: (state, pages, oldest fetched, an example reason)."""
    rows = conn.execute(
        "SELECT extract_state, count(*), min(fetched_at), max(extract_reason) FROM raw_pages GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [(str(a), int(b), c, d) for a, b, c, d in rows]
