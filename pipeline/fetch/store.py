"""The only module with SQL for the fetch stage's tables: `frontier` (URLs to fetch and their
state), `raw_pages` (the fetched bodies, gzip) and `fetch_log` (one row per request).

Frontier states: `new` -> `fetched` | `skipped` (permanent, with `last_reason`) | `failed`
(temporary, offered again by `pending_frontier` until it has had `MAX_FETCH_ATTEMPTS`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from pipeline.errors import Skip
from pipeline.fetch.http import LogRow
from pipeline.urls import normalize_url

MAX_FETCH_ATTEMPTS = 3
STORED_HEADERS = ("content-type", "content-language", "last-modified", "etag", "date", "link", "x-robots-tag")

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class FrontierItem:
    url: str
    source: str
    feed_id: int | None = None
    title_hint: str | None = None
    published_hint: datetime | None = None


def add_to_frontier(conn: Conn, items: Iterable[FrontierItem]) -> dict[str, int]:
    """Insert URLs not yet in the frontier nor known as an article's address. Returns counts."""
    counts: Counter[str] = Counter()
    with conn.cursor() as cur:
        for item in items:
            cur.execute(
                """
                INSERT INTO frontier (url, feed_id, source, title_hint, published_hint)
                SELECT %s, %s, %s, %s, %s
                WHERE NOT EXISTS (SELECT 1 FROM article_urls WHERE url = %s)
                ON CONFLICT (url) DO NOTHING
                """,
                (item.url, item.feed_id, item.source, item.title_hint, item.published_hint, item.url),
            )
            counts["new" if cur.rowcount else "known"] += 1
    return dict(counts)


def pending_frontier(conn: Conn, *, limit: int | None = None, sources: Sequence[str] | None = None) -> list[int]:
    """Frontier ids to fetch: state 'new', or 'failed' with attempts left; oldest first."""
    query = """
        SELECT id FROM frontier
        WHERE (state = 'new' OR (state = 'failed' AND attempts < %s))
          AND (%s::text[] IS NULL OR source = ANY(%s::text[]))
        ORDER BY discovered_at, id
        LIMIT %s
    """
    source_list = list(sources) if sources is not None else None
    with conn.cursor() as cur:
        cur.execute(query, (MAX_FETCH_ATTEMPTS, source_list, source_list, limit))
        return [row[0] for row in cur.fetchall()]


def store_raw_page(
    conn: Conn,
    *,
    url: str,
    body: bytes,
    source: str,
    final_url: str | None = None,
    status: int | None = 200,
    content_type: str | None = "text/html",
    charset: str | None = None,
    headers: Mapping[str, Any] | None = None,
    fetched_at: datetime | None = None,
) -> int | None:
    """Store one page (gzip) unless its URL is stored already; returns its id, None for an empty body."""
    if not body:
        return None
    key = normalize_url(url)
    with conn.cursor() as cur:
        cur.execute(
            """
            INSERT INTO raw_pages (url, final_url, status, content_type, charset, headers,
                                   body_gz, body_sha256, body_bytes, source, fetched_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))
            ON CONFLICT (url) DO NOTHING
            RETURNING id
            """,
            (
                key, final_url, status, content_type, charset, json.dumps(dict(headers or {})),
                gzip.compress(body, compresslevel=6), hashlib.sha256(body).hexdigest(), len(body),
                source, fetched_at,
            ),
        )  # fmt: skip
        row = cur.fetchone()
        if row is None:
            cur.execute("SELECT id FROM raw_pages WHERE url = %s", (key,))
            row = cur.fetchone()
        return int(row[0]) if row else None


def write_fetch_log(conn: Conn, rows: Iterable[LogRow], run_id: int | None) -> int:
    data = [
        (run_id, r.kind, r.url, r.final_url, r.status, r.outcome, (r.error or "")[:1000] or None, r.bytes,
         r.elapsed_ms, r.fetched_at)
        for r in rows
    ]  # fmt: skip
    if not data:
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO fetch_log (run_id, kind, url, final_url, status, outcome, error, bytes,
                                      elapsed_ms, fetched_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            data,
        )
    return len(data)


def frontier_rows(conn: Conn, ids: Sequence[int]) -> list[tuple[int, str, int | None, bool]]:
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT f.id, f.url, r.id,
                   EXISTS (SELECT 1 FROM article_urls a WHERE a.url = f.url)
            FROM frontier f LEFT JOIN raw_pages r ON r.url = f.url
            WHERE f.id = ANY(%s)
            ORDER BY f.id
            """,
            (list(ids),),
        )
        return [(int(a), str(b), c, bool(d)) for a, b, c, d in cur.fetchall()]


def frontier_sources(conn: Conn, ids: list[int]) -> dict[int, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, source FROM frontier WHERE id = ANY(%s)", (ids,))
        return {int(i): str(s) for i, s in cur.fetchall()}


def set_state(conn: Conn, fid: int, state: str, reason: str | None, *, bump: bool = True) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE frontier SET state = %s, last_reason = %s, attempts = attempts + %s, updated_at = now()
               WHERE id = %s""",
            (state, reason, 1 if bump else 0, fid),
        )

def frontier_urls(conn: Conn, ids: Sequence[int]) -> list[tuple[int, str]]:
    """(id, url) of these frontier rows."""
    rows = conn.execute("SELECT id, url FROM frontier WHERE id = ANY(%s)", (list(ids),)).fetchall()
    return [(int(i), str(u)) for i, u in rows]


@dataclass
class RawPage:
    id: int
    url: str
    final_url: str | None
    body: bytes
    source: str
    published_hint: datetime | None
    charset: str | None = None  # as detected at fetch time; extraction decodes with it



def load_raw_pages(conn: psycopg.Connection[Any], raw_page_ids: Sequence[int]) -> list[RawPage | Skip]:
    """The pages, decompressed; a page whose stored body is corrupt is a Skip in its place."""
    rows = conn.execute(
        """SELECT r.id, r.url, r.final_url, r.body_gz, r.source, f.published_hint, r.charset
           FROM raw_pages r LEFT JOIN frontier f ON f.url = r.url
           WHERE r.id = ANY(%s) ORDER BY r.id""",
        (list(raw_page_ids),),
    ).fetchall()
    pages: list[RawPage | Skip] = []
    for r in rows:
        try:
            pages.append(RawPage(r[0], r[1], r[2], _gunzip(r[3]), r[4], r[5], r[6]))
        except Skip as skip:
            pages.append(skip)
    return pages


def _gunzip(blob: bytes) -> bytes:
    try:
        return gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as exc:
        raise Skip("corrupt_raw_page", str(exc)) from exc


def load_raw_body(conn: Conn, raw_page_id: int) -> bytes:
    """The stored body of one raw page, decompressed (re-extraction reads this, never the network)."""
    pages = load_raw_pages(conn, [raw_page_id])
    if not pages:
        raise KeyError(f"no raw page {raw_page_id}")
    if isinstance(pages[0], Skip):
        raise pages[0]
    return pages[0].body


def raw_page_id(conn: Conn, url: str) -> int | None:
    """The raw page stored under this (normalized) URL, if any."""
    row = conn.execute("SELECT id FROM raw_pages WHERE url = %s", (url,)).fetchone()
    return int(row[0]) if row else None


def frontier_todo(conn: Conn, urls: Sequence[str]) -> tuple[list[int], int]:
    """Frontier rows of these URLs still to fetch (or fetched, for their raw page), and how many of
    them were skipped for good."""
    rows = conn.execute(
        "SELECT id, state, attempts FROM frontier WHERE url = ANY(%s) ORDER BY id", (list(urls),)
    ).fetchall()
    todo = [i for i, state, attempts in rows if state in ("new", "fetched")
            or (state == "failed" and attempts < MAX_FETCH_ATTEMPTS)]  # fmt: skip
    return todo, sum(1 for _, state, _ in rows if state == "skipped")
