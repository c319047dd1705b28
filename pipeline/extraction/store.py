"""Per-site boilerplate profiles kept in PostgreSQL (migration sql/0020_site_boilerplate.sql).

`update_site_profile(conn, source, pages)` counts new pages of a source (pages already counted, or
other versions of a counted story, are left out, so reruns change nothing);
`load_site_profile(conn, source)` gives the `SiteProfile` to pass to `extract(..., site=profile)`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from pipeline.errors import DatabaseError, Skip
from pipeline.extraction.boilerplate import SiteProfile, page_id, paragraph_key, word_count

if TYPE_CHECKING:
    from pipeline.extract import Extraction

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


def _page_text(page: str | bytes | Extraction) -> str | None:
    from pipeline.extract import Extraction, unfiltered_text

    if isinstance(page, Extraction):
        return page.unfiltered_text or page.text
    try:
        return unfiltered_text(page)
    except Skip:
        return None  # a page without text teaches nothing about its site


def _paragraphs(text: str) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for line in text.split("\n"):
        key = paragraph_key(line)
        if key and key not in found:
            found[key] = (word_count(line), line[:EXAMPLE_CHARS])
    return found


def update_site_profile(conn: psycopg.Connection[Any], source: str, pages: Sequence[str | bytes | Extraction]) -> int:
    """Count these pages of `source` into its stored profile, in one transaction. Pages are raw
    HTML or `Extraction`s (cheaper: no second extraction). Returns how many pages were new."""
    texts = [t for t in (_page_text(p) for p in pages) if t]
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('site_profile:' || %s))", (source,))
            profile = load_site_profile(conn, source) or SiteProfile()
            added = [t for t in texts if profile.add_page(t)]
            for text in added:
                paragraphs = _paragraphs(text)
                cur.execute(
                    "INSERT INTO site_profile_pages (source, page_id, paragraphs) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (source, page_id(text), len(paragraphs)),
                )
                cur.executemany(
                    "INSERT INTO site_paragraphs (source, para_key, pages, words, example)"
                    " VALUES (%s, %s, 1, %s, %s) ON CONFLICT (source, para_key) DO UPDATE"
                    " SET pages = site_paragraphs.pages + 1, last_seen = now()",
                    [(source, key, words, example) for key, (words, example) in paragraphs.items()],
                )
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot update the site profile of {source}: {exc}") from exc
    return len(added)
