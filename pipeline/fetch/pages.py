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

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from pipeline.errors import Skip
from pipeline.fetch.http import Fetcher, FetchError, FetchResult, LogRow, run_sync
from pipeline.fetch.store import (
    STORED_HEADERS,
    Conn,
    frontier_rows,
    frontier_sources,
    set_state,
    store_raw_page,
    write_fetch_log,
)
from pipeline.settings import Settings

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
    rows = frontier_rows(conn, frontier_ids)
    to_fetch: dict[str, int] = {}
    for fid, url, raw_id, known in rows:
        if raw_id is not None:
            raw_ids.append(raw_id)
            set_state(conn, fid, "fetched", None, bump=False)
            counts["already_fetched"] += 1
        elif known:
            set_state(conn, fid, "skipped", "already_known", bump=False)
            counts["already_known"] += 1
        else:
            to_fetch[url] = fid
    counts["missing"] = len(set(frontier_ids)) - len(rows)
    if not counts["missing"]:
        del counts["missing"]
    if not to_fetch:
        return dict(counts), raw_ids

    sources = frontier_sources(conn, list(to_fetch.values()))
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


def _record(conn: Conn, fid: int, url: str, source: str, outcome: Outcome) -> tuple[str, int | None, LogRow]:
    """Store one fetch's outcome; returns (count key, raw page id or None, fetch_log row)."""
    if isinstance(outcome, Skip):
        set_state(conn, fid, "skipped", outcome.reason)
        status = _status_of(outcome.reason)
        row = LogRow("page", url, None, status, outcome.reason, outcome.detail or None, None, None)
        return f"skip:{outcome.reason}", None, row
    if isinstance(outcome, FetchError):
        set_state(conn, fid, "failed", outcome.reason)
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
        set_state(conn, fid, "skipped", "empty_body")
        return "skip:empty_body", None, row
    set_state(conn, fid, "fetched", None)
    return "fetched", raw_id, row


def _status_of(reason: str) -> int | None:
    return int(reason[5:]) if reason.startswith("http_") and reason[5:].isdigit() else None
