"""Stage 2: frontier URLs -> raw pages (gzip body + fetch metadata), politely and with guards.

`fetch_pages` works in the caller's connection and does not commit: the caller (a DAG task, the
CLI) commits once the batch is done, so a crashed batch leaves the frontier as it was and a rerun
fetches it again. Outcomes:

- `fetched`: a new raw page was stored; `already_fetched`: the URL already had a raw page;
  `already_known`: the URL is a known article's address (`article_urls`), nothing fetched;
- `skip:<reason>`: permanent (404, robots_disallowed, too_large, bad_content_type, blocked_address,
  redirect_loop, ...), the frontier row becomes `skipped`;
- `failed:<reason>`: temporary (timeout, http_503, connect_error, robots_unavailable, ...), the row
  becomes `failed` and is offered again by `pending_frontier` until it has had `MAX_FETCH_ATTEMPTS`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from pipeline.errors import Skip
from pipeline.http import Fetcher, FetchError, FetchResult, LogRow, run_sync
from pipeline.settings import Settings
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


def load_raw_body(conn: Conn, raw_page_id: int) -> bytes:
    """The stored body of a raw page, decompressed (re-extraction reads this, never the network)."""
    with conn.cursor() as cur:
        cur.execute("SELECT body_gz FROM raw_pages WHERE id = %s", (raw_page_id,))
        row = cur.fetchone()
    if row is None:
        raise KeyError(f"no raw page {raw_page_id}")
    return gzip.decompress(row[0])


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


# ---------------------------------------------------------------- fetching a batch


Outcome = FetchResult | Skip | FetchError


async def fetch_urls(
    settings: Settings,
    urls: Sequence[str],
    on_done: Callable[[str, Outcome], None],
    *,
    fetcher: Fetcher | None = None,
) -> list[LogRow]:
    """Fetch `urls` concurrently (politeness inside the Fetcher); `on_done(url, outcome)` as each ends.

    Returns the robots.txt log rows. `on_done` runs in the event loop's thread, so it may use a
    synchronous database connection.
    """

    async def one(url: str, f: Fetcher) -> tuple[str, Outcome]:
        try:
            return url, await f.get(url, kind="page")
        except (Skip, FetchError) as exc:
            return url, exc

    async def run(f: Fetcher) -> list[LogRow]:
        import asyncio

        tasks = [asyncio.ensure_future(one(url, f)) for url in urls]
        for next_done in asyncio.as_completed(tasks):
            url, outcome = await next_done
            on_done(url, outcome)
        return f.log

    if fetcher is not None:
        return await run(fetcher)
    async with Fetcher(settings) as f:
        return await run(f)


def fetch_pages(
    conn: Conn,
    settings: Settings,
    frontier_ids: Sequence[int],
    *,
    run_id: int | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, int], list[int]]:
    """Fetch the given frontier rows; store raw pages, fetch_log rows and frontier states (no commit)."""
    counts: Counter[str] = Counter()
    raw_ids: list[int] = []
    rows = _frontier_rows(conn, frontier_ids)
    to_fetch: dict[str, int] = {}
    for fid, url, raw_id, known in rows:
        if raw_id is not None:
            raw_ids.append(raw_id)
            _set_state(conn, fid, "fetched", None, bump=False)
            counts["already_fetched"] += 1
        elif known:
            _set_state(conn, fid, "skipped", "already_known", bump=False)
            counts["already_known"] += 1
        else:
            to_fetch[url] = fid
    counts["missing"] = len(set(frontier_ids)) - len(rows)
    if not counts["missing"]:
        del counts["missing"]
    if not to_fetch:
        return dict(counts), raw_ids

    sources = _sources(conn, list(to_fetch.values()))
    log: list[LogRow] = []

    def done(url: str, outcome: Outcome) -> None:
        fid = to_fetch[url]
        key, raw_id, row = _record(conn, fid, url, sources[fid], outcome)
        counts[key] += 1
        log.append(row)
        if raw_id is not None:
            raw_ids.append(raw_id)
        if on_progress is not None:
            on_progress(key)

    robots_log = run_sync(lambda: fetch_urls(settings, list(to_fetch), done))
    write_fetch_log(conn, [*robots_log, *log], run_id)
    return dict(counts), raw_ids


def _frontier_rows(conn: Conn, ids: Sequence[int]) -> list[tuple[int, str, int | None, bool]]:
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


def _sources(conn: Conn, ids: list[int]) -> dict[int, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, source FROM frontier WHERE id = ANY(%s)", (ids,))
        return {int(i): str(s) for i, s in cur.fetchall()}


def _set_state(conn: Conn, fid: int, state: str, reason: str | None, *, bump: bool = True) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE frontier SET state = %s, last_reason = %s, attempts = attempts + %s, updated_at = now()
               WHERE id = %s""",
            (state, reason, 1 if bump else 0, fid),
        )


def _record(conn: Conn, fid: int, url: str, source: str, outcome: Outcome) -> tuple[str, int | None, LogRow]:
    """Store one fetch's outcome; returns (count key, raw page id or None, fetch_log row)."""
    if isinstance(outcome, Skip):
        _set_state(conn, fid, "skipped", outcome.reason)
        status = _status_of(outcome.reason)
        row = LogRow("page", url, None, status, outcome.reason, outcome.detail or None, None, None)
        return f"skip:{outcome.reason}", None, row
    if isinstance(outcome, FetchError):
        _set_state(conn, fid, "failed", outcome.reason)
        return f"failed:{outcome.reason}", None, LogRow("page", url, None, outcome.status, outcome.reason,
                                                         outcome.detail or None, None, None)  # fmt: skip
    raw_id = store_raw_page(
        conn,
        url=url,
        body=outcome.body,
        source=source,
        final_url=outcome.final_url,
        status=outcome.status,
        content_type=outcome.content_type,
        charset=outcome.charset,
        headers={k: v for k, v in outcome.headers.items() if k in STORED_HEADERS},
        fetched_at=datetime.now(UTC),
    )
    row = LogRow("page", url, outcome.final_url, outcome.status, "ok" if raw_id else "empty_body", None,
                 len(outcome.body), outcome.elapsed_ms)  # fmt: skip
    if raw_id is None:
        _set_state(conn, fid, "skipped", "empty_body")
        return "skip:empty_body", None, row
    _set_state(conn, fid, "fetched", None)
    return "fetched", raw_id, row


def _status_of(reason: str) -> int | None:
    return int(reason[5:]) if reason.startswith("http_") and reason[5:].isdigit() else None
