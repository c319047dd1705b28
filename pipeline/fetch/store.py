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

from pipeline import db
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


FRONTIER_STAGE = ("ord", "url", "feed_id", "source", "title_hint", "published_hint")
FRONTIER_STAGE_TYPES = ("integer", "text", "bigint", "text", "text", "timestamptz")
# Sorted by URL (one lock order for every process: no deadlock); of one URL given twice, the first wins.
MERGE_FRONTIER = """
INSERT INTO frontier (url, feed_id, source, title_hint, published_hint)
SELECT s.url, s.feed_id, s.source, s.title_hint, s.published_hint
FROM _stage_frontier s
WHERE NOT EXISTS (SELECT 1 FROM article_urls a WHERE a.url = s.url)
ORDER BY s.url, s.ord
ON CONFLICT (url) DO NOTHING
"""


def add_to_frontier(conn: Conn, items: Iterable[FrontierItem]) -> dict[str, int]:
    """Insert URLs not yet in the frontier nor known as an article's address. Returns counts.

    One COPY into a staging table and one merge per call, in the caller's transaction."""
    rows = [
        (n, i.url, i.feed_id, i.source, i.title_hint, i.published_hint)
        for n, i in enumerate(sorted(items, key=lambda i: i.url))
    ]
    if not rows:
        return {}
    with db.in_transaction(conn), conn.cursor() as cur:
        new = db.copy_merge(cur, "frontier", FRONTIER_STAGE, rows, MERGE_FRONTIER, types=FRONTIER_STAGE_TYPES)
    counts = {"new": new, "known": len(rows) - new}
    return {k: v for k, v in counts.items() if v}


PENDING = "(state = 'new' OR (state = 'failed' AND attempts < %(max)s))"
# ... and not failed earlier in the same run (a later run, or Airflow's retry of the run, tries again)
NOT_FAILED_IN_RUN = "NOT (state = 'failed' AND last_run_id IS NOT DISTINCT FROM %(run)s::bigint)"
# Session advisory locks of hosts being fetched: (HOST_LOCK_SPACE, hashtext(host)).
HOST_LOCK_SPACE = 7_431_002


def pending_frontier(conn: Conn, *, limit: int | None = None, sources: Sequence[str] | None = None) -> list[int]:
    """Frontier ids to fetch: state 'new', or 'failed' with attempts left; oldest first."""
    query = f"""
        SELECT id FROM frontier
        WHERE {PENDING} AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s::text[]))
        ORDER BY discovered_at, id
        LIMIT %(limit)s
    """
    params = {"max": MAX_FETCH_ATTEMPTS, "sources": list(sources) if sources is not None else None, "limit": limit}
    with conn.cursor() as cur:
        cur.execute(query, params)
        return [row[0] for row in cur.fetchall()]


def pending_hosts(
    conn: Conn, *, sources: Sequence[str] | None = None, exclude: Sequence[int] = (), run_id: int | None = None
) -> list[str]:
    """Hosts with frontier rows to fetch, the one waiting longest first (rows in `exclude`, already
    tried by this process, and rows that failed earlier in run `run_id` do not count)."""
    rows = conn.execute(
        f"""SELECT host FROM frontier
            WHERE {PENDING} AND {NOT_FAILED_IN_RUN}
              AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s::text[]))
              AND NOT (id = ANY(%(exclude)s))
            GROUP BY host ORDER BY min(discovered_at), host""",
        {"max": MAX_FETCH_ATTEMPTS, "sources": list(sources) if sources is not None else None,
         "exclude": list(exclude), "run": run_id},
    ).fetchall()  # fmt: skip
    return [str(r[0]) for r in rows if r[0]]


def pending_of_host(
    conn: Conn,
    host: str,
    limit: int,
    *,
    sources: Sequence[str] | None = None,
    exclude: Sequence[int] = (),
    run_id: int | None = None,
) -> list[int]:
    """The next `limit` frontier rows of one host to fetch, oldest first."""
    rows = conn.execute(
        f"""SELECT id FROM frontier
            WHERE host = %(host)s AND {PENDING} AND {NOT_FAILED_IN_RUN}
              AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s::text[]))
              AND NOT (id = ANY(%(exclude)s))
            ORDER BY discovered_at, id LIMIT %(limit)s""",
        {"host": host, "max": MAX_FETCH_ATTEMPTS, "sources": list(sources) if sources is not None else None,
         "exclude": list(exclude), "limit": limit, "run": run_id},
    ).fetchall()  # fmt: skip
    return [int(r[0]) for r in rows]


def try_lock_host(lock_conn: Conn, host: str) -> bool:
    """Take the host for this process (a session lock on an autocommit connection): while it is held,
    no other process fetches from the host. Released by `unlock_host`, or when the process dies."""
    row = lock_conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (HOST_LOCK_SPACE, host)).fetchone()
    return bool(row and row[0])


def lock_host(lock_conn: Conn, host: str) -> None:
    """Take the host for this process, waiting while another process has it (see `try_lock_host`)."""
    lock_conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (HOST_LOCK_SPACE, host))


def unlock_host(lock_conn: Conn, host: str) -> None:
    lock_conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (HOST_LOCK_SPACE, host))


def host_last_request(conn: Conn, host: str) -> datetime | None:
    """When any process last sent this host a request (for the delay between two of them)."""
    row = conn.execute("SELECT last_request_at FROM hosts WHERE host = %s", (host,)).fetchone()
    return row[0] if row else None


def set_host_last_request(conn: Conn, host: str, when: datetime) -> None:
    conn.execute(
        """INSERT INTO hosts (host, last_request_at) VALUES (%s, %s)
           ON CONFLICT (host) DO UPDATE
           SET last_request_at = greatest(hosts.last_request_at, excluded.last_request_at)""",
        (host, when),
    )


def work_counts(conn: Conn) -> list[tuple[str, int, datetime | None, str | None]]:
    """Frontier rows by state: (state, rows, oldest discovered, an example error)."""
    rows = conn.execute(
        """SELECT state, count(*), min(discovered_at), max(last_error) FROM frontier GROUP BY state ORDER BY state"""
    ).fetchall()
    return [(str(a), int(b), c, d) for a, b, c, d in rows]


# Fast gzip: level 1 takes a third of level 6's CPU time for ~20 % more bytes (docs/decisions.md).
RAW_PAGE_GZIP_LEVEL = 1


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
                gzip.compress(body, compresslevel=RAW_PAGE_GZIP_LEVEL), hashlib.sha256(body).hexdigest(), len(body),
                source, fetched_at,
            ),
        )  # fmt: skip
        row = cur.fetchone()
        if row is None:
            cur.execute("SELECT id FROM raw_pages WHERE url = %s", (key,))
            row = cur.fetchone()
        return int(row[0]) if row else None


RAW_PAGE_STAGE = (
    "ord", "url", "final_url", "status", "content_type", "charset", "headers", "body_gz", "body_sha256",
    "body_bytes", "source", "fetched_at",
)  # fmt: skip
RAW_PAGE_STAGE_TYPES = (
    "integer", "text", "text", "integer", "text", "text", "jsonb", "bytea", "text", "integer", "text", "timestamptz",
)  # fmt: skip
# Of one URL given twice, the first wins, as when pages were stored one by one.
MERGE_RAW_PAGES = """
INSERT INTO raw_pages (url, final_url, status, content_type, charset, headers, body_gz, body_sha256,
                       body_bytes, source, fetched_at)
SELECT url, final_url, status, content_type, charset, headers, body_gz, body_sha256, body_bytes, source,
       coalesce(fetched_at, now())
FROM _stage_raw_pages ORDER BY ord
ON CONFLICT (url) DO NOTHING
"""


def store_raw_pages(
    conn: Conn,
    pages: Sequence[Mapping[str, Any]],
    *,
    source: str,
) -> list[tuple[int | None, bool]]:
    """Store many pages (each a mapping of `store_raw_page`'s keyword arguments) with one COPY and one
    merge. Per page, in order: (its raw page id, whether it was stored now), exactly as one
    `raw_page_id(url)` check then `store_raw_page` per page would give: a page whose URL (as given) is
    stored already, or was stored earlier in this call under that URL, is (id, False); an empty body is
    (None, True); any other is (id, True), the id of the row stored under its normalized URL (a row stored
    earlier under the same normalized URL keeps its body). The caller sets each page's `charset`."""
    urls = [str(p["url"]) for p in pages]
    with conn.cursor() as cur:
        cur.execute("SELECT url, id FROM raw_pages WHERE url = ANY(%s)", (urls,))
        stored: dict[str, int | None] = {u: int(i) for u, i in cur.fetchall()}
    staged: set[str] = set()
    rows = []
    for n, page in enumerate(pages):
        url = str(page["url"])
        body: bytes = page["body"]
        if url in stored or url in staged or not body:
            continue
        key = normalize_url(url)
        staged.add(key)
        headers = json.dumps(dict(page.get("headers") or {}))
        charset = page.get("charset")
        rows.append(
            (n, key, page.get("final_url"), page.get("status", 200), page.get("content_type", "text/html"),
             charset, headers, gzip.compress(body, compresslevel=RAW_PAGE_GZIP_LEVEL), hashlib.sha256(body).hexdigest(),
             len(body), source, page.get("fetched_at"))
        )  # fmt: skip
    ids: dict[str, int] = {}
    if rows:
        with db.in_transaction(conn), conn.cursor() as cur:
            db.copy_merge(cur, "raw_pages", RAW_PAGE_STAGE, rows, MERGE_RAW_PAGES, types=RAW_PAGE_STAGE_TYPES)
            cur.execute("SELECT s.url, r.id FROM _stage_raw_pages s JOIN raw_pages r ON r.url = s.url")
            ids = {u: int(i) for u, i in cur.fetchall()}
    out: list[tuple[int | None, bool]] = []
    seen: set[str] = set()
    for page in pages:
        url = str(page["url"])
        if url in stored or url in seen:
            out.append((stored.get(url, ids.get(url)), False))
        elif not page["body"]:
            out.append((None, True))
        else:
            out.append((ids[normalize_url(url)], True))
            seen.add(normalize_url(url))
    return out


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


def set_state(
    conn: Conn,
    fid: int,
    state: str,
    reason: str | None,
    *,
    bump: bool = True,
    error: str | None = None,
    run_id: int | None = None,
) -> None:
    """A frontier row's new state. A `failed` row that has had MAX_FETCH_ATTEMPTS becomes `parked`,
    kept with its error and never offered again (`newsflow status` lists it)."""
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE frontier SET
                   state = CASE WHEN %(state)s = 'failed' AND attempts + %(bump)s >= %(max)s THEN 'parked'
                                ELSE %(state)s END,
                   last_reason = %(reason)s, last_error = %(error)s, attempts = attempts + %(bump)s,
                   last_run_id = coalesce(%(run)s, last_run_id), updated_at = now()
               WHERE id = %(id)s""",
            {"state": state, "reason": reason, "error": (error or "")[:1000] or None, "bump": 1 if bump else 0,
             "max": MAX_FETCH_ATTEMPTS, "id": fid, "run": run_id},
        )  # fmt: skip


def give_back_attempts(conn: Conn, ids: Sequence[int]) -> None:
    """Undo the attempt that these rows' failure cost (and unpark a row it parked, and forget the run
    it failed in): for an outage, when every page tried was unreachable. No commit."""
    conn.execute(
        """UPDATE frontier SET attempts = greatest(attempts - 1, 0), last_run_id = NULL,
               state = CASE WHEN state = 'parked' THEN 'failed' ELSE state END, updated_at = now()
           WHERE id = ANY(%s) AND state IN ('failed', 'parked')""",
        (list(ids),),
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


def load_raw_pages(conn: psycopg.Connection[Any], raw_page_ids: Sequence[int]) -> list[tuple[int, RawPage | Skip]]:
    """(id, page) for these raw pages, decompressed; a page whose stored body is corrupt is a Skip."""
    rows = conn.execute(
        """SELECT r.id, r.url, r.final_url, r.body_gz, r.source, f.published_hint, r.charset
           FROM raw_pages r LEFT JOIN frontier f ON f.url = r.url
           WHERE r.id = ANY(%s) ORDER BY r.id""",
        (list(raw_page_ids),),
    ).fetchall()
    pages: list[tuple[int, RawPage | Skip]] = []
    for r in rows:
        try:
            pages.append((int(r[0]), RawPage(r[0], r[1], r[2], _gunzip(r[3]), r[4], r[5], r[6])))
        except Skip as skip:
            pages.append((int(r[0]), skip))
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
    page = pages[0][1]
    if isinstance(page, Skip):
        raise page
    return page.body


def raw_page_id(conn: Conn, url: str) -> int | None:
    """The raw page stored under this (normalized) URL, if any."""
    row = conn.execute("SELECT id FROM raw_pages WHERE url = %s", (url,)).fetchone()
    return int(row[0]) if row else None


def frontier_states(conn: Conn, urls: Sequence[str]) -> Counter[str]:
    """How many of these URLs' frontier rows are in each state."""
    rows = conn.execute("SELECT state, count(*) FROM frontier WHERE url = ANY(%s) GROUP BY state", (list(urls),))
    return Counter({str(state): int(n) for state, n in rows})
