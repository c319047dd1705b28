"""The only module with SQL for the extraction stage's tables: `articles`, `article_urls`, and the
per-site boilerplate profiles (`site_profile_pages`, `site_paragraphs`).

Articles of a batch are loaded with one COPY into a staging table and one `INSERT ... ON CONFLICT`
merge. `update_site_profile(conn, source, texts)` counts new pages of a source (pages already
counted, or other versions of a counted story, are left out, so reruns change nothing);
`load_site_profiles(conn, texts_of)` gives, for a batch's pages, the part of each site's `SiteProfile`
that those pages consult (`load_site_profile(conn, source)`: the whole of one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from pipeline import db
from pipeline.errors import DatabaseError
from pipeline.extract.boilerplate import SiteProfile, page_id, page_keys, paragraph_key, word_count
from pipeline.extract.core import EXTRACTOR_VERSION, FAST_EXTRACTOR_VERSION

# Paragraphs seen on a single page are kept this long waiting for a second sighting.
SINGLE_SIGHTING_DAYS = 180
EXAMPLE_CHARS = 300


def load_site_profile(conn: psycopg.Connection[Any], source: str) -> SiteProfile | None:
    """The whole stored profile of `source` (every page id and paragraph: for inspection and one-off
    extraction), or None when no page of it was counted yet. The pipeline loads only the part its
    pages consult (`load_site_profiles`)."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT page_id FROM site_profile_pages WHERE source = %s", (source,))
            page_ids = {r[0] for r in cur.fetchall()}
            if not page_ids:
                return None
            cur.execute(
                "SELECT para_key, pages, words FROM site_paragraphs WHERE source = %s"
                " AND (pages > 1 OR last_seen > now() - make_interval(days => %s))",
                (source, SINGLE_SIGHTING_DAYS),
            )
            return _profile(page_ids, cur.fetchall())
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot load the site profile of {source[:200]}: {exc}") from exc


# The part of the profiles that some pages consult: their own page ids and paragraph keys. A join with
# the (source, key) pairs walks the primary keys, so the cost follows the batch, not the site's history.
KNOWN_SOURCES = """
SELECT s FROM unnest(%s::text[]) s WHERE EXISTS (SELECT 1 FROM site_profile_pages p WHERE p.source = s)
"""
PAGES_OF = """
SELECT p.source, p.page_id FROM site_profile_pages p
JOIN unnest(%s::text[], %s::text[]) AS w(source, page_id) USING (source, page_id)
"""
PARAGRAPHS_OF = """
SELECT p.source, p.para_key, p.pages, p.words FROM site_paragraphs p
JOIN unnest(%s::text[], %s::text[]) AS w(source, para_key) USING (source, para_key)
WHERE p.pages > 1 OR p.last_seen > now() - make_interval(days => %s)
"""


def load_site_profiles(
    conn: psycopg.Connection[Any], texts_of: Mapping[str, Sequence[str]]
) -> dict[str, SiteProfile | None]:
    """For each source, the part of its stored profile that these pages (their unfiltered texts) consult:
    their page ids and paragraph keys (None: no page of the source counted yet). Counting these pages
    into it (`SiteProfile.add_page`) and filtering them (`SiteProfile.filter`) give what the whole
    profile gives, at a cost that does not grow with the site's history; its `pages` is not the site's."""
    wanted = sorted(texts_of)
    pages = sorted({(source, page_id(t)) for source in wanted for t in texts_of[source] if t})
    keys = sorted({(source, key) for source in wanted for t in texts_of[source] if t for key in page_keys(t)})
    page_ids: dict[str, set[str]] = {}
    rows: dict[str, list[tuple[str, int, int]]] = {}
    try:
        with conn.cursor() as cur:
            cur.execute(KNOWN_SOURCES, (wanted,))
            known = {r[0] for r in cur.fetchall()}
            if known and pages:
                cur.execute(PAGES_OF, _columns(pages, 2))
                for source, page in cur.fetchall():
                    page_ids.setdefault(source, set()).add(page)
            if known and keys:
                cur.execute(PARAGRAPHS_OF, (*_columns(keys, 2), SINGLE_SIGHTING_DAYS))
                for source, key, count, words in cur.fetchall():
                    rows.setdefault(source, []).append((key, count, words))
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot load the site profiles of {', '.join(wanted)[:200]}: {exc}") from exc
    return {source: _profile(page_ids.get(source, set()), rows.get(source, [])) if source in known else None
            for source in wanted}  # fmt: skip


def _profile(page_ids: set[str], rows: list[tuple[str, int, int]]) -> SiteProfile:
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


INSERT_PROFILE_PAGES = """
INSERT INTO site_profile_pages (source, page_id, paragraphs)
SELECT * FROM unnest(%s::text[], %s::text[], %s::int[])
ON CONFLICT DO NOTHING
"""

# One row per (source, paragraph) of the call, with the pages of the call it is on: the same counts
# as one insert-or-increment per page.
MERGE_PARAGRAPHS = """
INSERT INTO site_paragraphs (source, para_key, pages, words, example)
SELECT * FROM unnest(%s::text[], %s::text[], %s::int[], %s::int[], %s::text[])
ON CONFLICT (source, para_key) DO UPDATE SET pages = site_paragraphs.pages + EXCLUDED.pages, last_seen = now()
"""


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


def update_site_profile(conn: psycopg.Connection[Any], source: str, texts: Sequence[str]) -> int:
    """Count these pages of `source` into its stored profile, in one transaction. Each page is its
    main text before site boilerplate is removed (`Extraction.unfiltered_text`). Returns how many
    pages were new."""
    return update_site_profiles(conn, {source: texts})[source]


def update_site_profiles(conn: psycopg.Connection[Any], texts_of: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """`update_site_profile` for several sources at once (their locks taken in one order, so two
    processes never deadlock; one pipelined batch of writes). Returns the new pages per source."""
    sources = sorted(texts_of)
    added_of: dict[str, int] = {}
    pages: dict[tuple[str, str], int] = {}
    paragraphs: dict[tuple[str, str], list[Any]] = {}  # (source, key) -> [pages, words, example] of this call
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtext('site_profile:' || s)) FROM unnest(%s::text[]) s", (sources,)
            )  # unnest keeps the array's (sorted) order
            profiles = load_site_profiles(conn, texts_of)
            for source in sources:
                profile = profiles[source] or SiteProfile()
                added = [t for t in texts_of[source] if t and profile.add_page(t)]
                added_of[source] = len(added)
                for text in added:
                    found = _paragraphs(text)
                    pages.setdefault((source, page_id(text)), len(found))
                    for key, (words, example) in found.items():
                        paragraphs.setdefault((source, key), [0, words, example])[0] += 1
            if pages:
                cur.execute(INSERT_PROFILE_PAGES, _columns([(*k, n) for k, n in pages.items()], 3))
            if paragraphs:
                cur.execute(MERGE_PARAGRAPHS, _columns([(*k, *v) for k, v in paragraphs.items()], 5))
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot update the site profiles of {', '.join(sources)[:200]}: {exc}") from exc
    return added_of


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


# Every row whose text, metadata or extractor differs is updated; only those whose text or metadata
# changed are returned (they go back to the later stages): a new extractor release, or the thorough
# mode redoing a fast backfill, that gives the same text costs no relabelling, relinking or events.
REFRESH_ARTICLES = """
WITH before AS (
    SELECT a.id,
           (a.sitename, a.title, a.authors, a.published_at, a.date_source, a.date_note, a.language, a.text)
           IS DISTINCT FROM
           (s.sitename, s.title, s.authors, s.published_at, s.date_source, s.date_note, s.language, s.text)
           AS content_changed
    FROM articles a JOIN _stage_articles s ON a.raw_page_id = s.raw_page_id
), updated AS (
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
)
SELECT u.id FROM updated u JOIN before b ON b.id = u.id WHERE b.content_changed ORDER BY u.id
"""


def stale_extractions(
    conn: psycopg.Connection[Any], *, everything: bool = False, version: str = EXTRACTOR_VERSION
) -> list[int]:
    """Articles extracted by another extractor version or mode than `version` (or all with a stored
    page), oldest first."""
    rows = conn.execute(
        "SELECT id FROM articles WHERE raw_page_id IS NOT NULL AND (%s OR extractor <> %s) ORDER BY id",
        (everything, version),
    ).fetchall()
    return [int(r[0]) for r in rows]


def raw_page_ids_of(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> list[int]:
    """The stored raw pages these articles were extracted from."""
    rows = conn.execute(
        "SELECT raw_page_id FROM articles WHERE id = ANY(%s) AND raw_page_id IS NOT NULL", (list(article_ids),)
    )
    return [int(r[0]) for r in rows]


def refresh_articles(conn: psycopg.Connection[Any], rows: Sequence[Any]) -> list[int]:
    """Update articles in place from re-extracted rows (their extractor too); the ids whose text or
    metadata changed."""
    with conn.cursor() as cur:
        db.copy_merge(cur, "articles", ARTICLE_COLUMNS, (r.values for r in rows), REFRESH_ARTICLES)
        return [int(r[0]) for r in cur.fetchall()]


MAX_EXTRACT_ATTEMPTS = 3


def claim_raw_pages(
    conn: psycopg.Connection[Any], limit: int, *, exclude: Sequence[int] = (), fast: bool = False
) -> list[int]:
    """Lock up to `limit` raw pages to extract, in the caller's transaction (SKIP LOCKED: pages another
    process is extracting are left to it): pending ones, failed ones with attempts left, and pages
    skipped by another extractor release. The thorough mode also takes the pages the fast mode of
    this release skipped (it may find their text); the fast mode does not take the thorough mode's,
    so the two never take turns on the same pages. Rows in `exclude` (tried by this process) are left
    out."""
    rows = conn.execute(
        """SELECT id FROM raw_pages
           WHERE (extract_state = 'pending'
                  OR (extract_state = 'failed' AND extract_attempts < %(max)s)
                  OR (extract_state = 'skipped'
                      AND (extracted_by IS NULL OR NOT (extracted_by = ANY(%(versions)s)))))
             AND NOT (id = ANY(%(exclude)s))
           ORDER BY id LIMIT %(limit)s
           FOR UPDATE SKIP LOCKED""",
        {
            "max": MAX_EXTRACT_ATTEMPTS,
            "versions": [EXTRACTOR_VERSION, FAST_EXTRACTOR_VERSION] if fast else [EXTRACTOR_VERSION],
            "exclude": list(exclude),
            "limit": limit,
        },
    ).fetchall()
    return [int(r[0]) for r in rows]


MARK_EXTRACTED = """
UPDATE raw_pages r SET
    extract_attempts = r.extract_attempts + (s.state = 'failed')::int,
    extract_state = CASE WHEN s.state = 'failed' AND r.extract_attempts + 1 >= %(max)s THEN 'parked' ELSE s.state END,
    extract_reason = s.reason, extracted_by = %(version)s, extracted_at = now()
FROM unnest(%(ids)s::bigint[], %(states)s::text[], %(reasons)s::text[]) AS s(id, state, reason)
WHERE r.id = s.id
"""


def mark_extracted(conn: psycopg.Connection[Any], states: Sequence[tuple[int, str, str | None]], version: str) -> None:
    """Record each raw page's extraction outcome: (id, done | skipped | failed, reason or error), in one
    statement. A page that failed MAX_EXTRACT_ATTEMPTS times is parked with its error."""
    if not states:
        return
    conn.execute(
        MARK_EXTRACTED,
        {"ids": [raw_id for raw_id, _, _ in states], "states": [state for _, state, _ in states],
         "reasons": [(reason or "")[:1000] or None for _, _, reason in states], "version": version,
         "max": MAX_EXTRACT_ATTEMPTS},
    )  # fmt: skip


def work_counts(conn: psycopg.Connection[Any]) -> list[tuple[str, int, Any, str | None]]:
    """Raw pages by extraction state: (state, pages, oldest fetched, an example reason)."""
    rows = conn.execute(
        "SELECT extract_state, count(*), min(fetched_at), max(extract_reason) FROM raw_pages GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [(str(a), int(b), c, d) for a, b, c, d in rows]
