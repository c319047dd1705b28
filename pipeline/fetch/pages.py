"""The fetch stage: frontier URLs -> raw pages (gzip body + fetch metadata), politely and with guards.

`fetch_pending` drains the frontier. It takes hosts, not URLs: a host is taken with a PostgreSQL
session lock (`store.try_lock_host`), so any number of processes fetch at the same time without ever
sharing a host, and each host's delay is kept across processes through `hosts.last_request_at`.
Each page's outcome is committed on its own (raw page and frontier state in one transaction), so a
process that dies loses at most the pages in flight, which stay pending for the next run.
`fetch_pages` fetches given frontier rows in the caller's transaction (tests, tools). Outcomes:

- `fetched`: a new raw page was stored; `already_fetched`: the URL already had a raw page;
  `already_known`: the URL is a known article's address (`article_urls`), nothing fetched;
- `skip:<reason>`: permanent (404, robots_disallowed, too_large, bad_content_type, blocked_address,
  redirect_loop, ...), the frontier row becomes `skipped`;
- `failed:<reason>`: temporary (timeout, http_503, connect_error, robots_unavailable, ...), the row
  becomes `failed` and is offered again to later runs until it has had `MAX_FETCH_ATTEMPTS`, then
  `parked` with its error.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from pipeline.errors import Skip, TransientError
from pipeline.fetch import store
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

log = logging.getLogger(__name__)
# Failures that say the site could not be reached at all (not that it answered with an error): when
# every page of a fetch ends so, the fetch failed as a whole and its task should be retried.
UNREACHABLE = frozenset({"connect_error", "timeout", "network_error", "robots_unavailable", "dns_error"})

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
        except Exception as exc:  # a bug or a hostile response: this URL fails, never its batch
            log.warning("fetching %s failed unexpectedly: %r", url, exc)
            return url, FetchError("error", f"{type(exc).__name__}: {exc}"[:500])

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
    to_fetch = _settle_stored(conn, frontier_ids, counts, raw_ids)
    missing = len(set(frontier_ids)) - len(to_fetch) - counts["already_fetched"] - counts["already_known"]
    if missing:
        counts["missing"] = missing
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


def _settle_stored(conn: Conn, ids: Sequence[int], counts: Counter[str], raw_ids: list[int]) -> dict[str, int]:
    """Settle without a request the rows whose page is already stored (their raw page ids go to
    `raw_ids`) or already an article's address; returns the rest, url -> frontier id."""
    to_fetch: dict[str, int] = {}
    for fid, url, raw_id, known in frontier_rows(conn, ids):
        if raw_id is not None:
            raw_ids.append(raw_id)
            set_state(conn, fid, "fetched", None, bump=False)
            counts["already_fetched"] += 1
        elif known:
            set_state(conn, fid, "skipped", "already_known", bump=False)
            counts["already_known"] += 1
        else:
            to_fetch[url] = fid
    return to_fetch


def _record(
    conn: Conn, fid: int, url: str, source: str, outcome: Outcome, run_id: int | None = None
) -> tuple[str, int | None, LogRow]:
    """Store one fetch's outcome; returns (count key, raw page id or None, fetch_log row)."""
    if isinstance(outcome, Skip):
        set_state(conn, fid, "skipped", outcome.reason)
        status = _status_of(outcome.reason)
        row = LogRow("page", url, None, status, outcome.reason, outcome.detail or None, None, None)
        return f"skip:{outcome.reason}", None, row
    if isinstance(outcome, FetchError):
        set_state(conn, fid, "failed", outcome.reason, error=str(outcome), run_id=run_id)
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


# ---------------------------------------------------------------- draining the frontier


class FetchRound:
    """One round of `fetch_pending`: the rows of the hosts this process took, fetched together."""

    def __init__(self, conn: Conn, settings: Settings, run_id: int | None, counts: Counter[str]) -> None:
        self.conn, self.settings, self.run_id, self.counts = conn, settings, run_id, counts
        self.log: list[LogRow] = []
        self.attempted = 0
        self.unreachable = 0
        self.unreachable_ids: list[int] = []

    def fetch(self, hosts: dict[str, list[int]], checkpoint: Callable[[str], None]) -> None:
        to_fetch = self._prepare([fid for ids in hosts.values() for fid in ids])
        if not to_fetch:
            return
        sources = frontier_sources(self.conn, list(to_fetch.values()))
        self.conn.commit()

        def done(url: str, outcome: Outcome) -> None:
            fid = to_fetch[url]
            with self.conn.transaction():
                key, _, row = _record(self.conn, fid, url, sources[fid], outcome, self.run_id)
            self.counts[key] += 1
            self.log.append(row)
            self.attempted += 1
            if key.removeprefix("failed:") in UNREACHABLE:
                self.unreachable += 1
                self.unreachable_ids.append(fid)
            checkpoint("fetch:page_committed")

        async def run() -> list[LogRow]:
            async with Fetcher(self.settings) as fetcher:
                with self.conn.transaction():
                    seed_gates(self.conn, fetcher, hosts)
                await fetch_urls(self.settings, list(to_fetch), done, fetcher=fetcher)
                with self.conn.transaction():
                    save_gates(self.conn, fetcher, hosts)
                return fetcher.log

        robots_log = run_sync(run)
        with self.conn.transaction():
            write_fetch_log(self.conn, [*robots_log, *self.log], self.run_id)
        self.log = []

    def _prepare(self, ids: Sequence[int]) -> dict[str, int]:
        """Rows whose page is already stored or already an article are settled without a request."""
        with self.conn.transaction():
            return _settle_stored(self.conn, ids, self.counts, [])


def seed_gates(conn: Conn, fetcher: Fetcher, hosts: Iterable[str]) -> None:
    """Start each host's delay from the last request any process sent it (`hosts.last_request_at`)."""
    now = datetime.now(UTC)
    for host in hosts:
        last = store.host_last_request(conn, host)
        if last is not None:
            fetcher.gate(host).sent_ago((now - last).total_seconds())


def save_gates(conn: Conn, fetcher: Fetcher, hosts: Iterable[str]) -> None:
    """Record when this process last sent each host a request, for the next process to take it."""
    now = datetime.now(UTC)
    for host in hosts:
        ago = fetcher.gate(host).seconds_since_sent()
        if ago is not None:
            store.set_host_last_request(conn, host, now - timedelta(seconds=ago))


def fetch_pending(
    conn: Conn,
    lock_conn: Conn,
    settings: Settings,
    *,
    run_id: int | None = None,
    sources: Sequence[str] | None = None,
    checkpoint: Callable[[str], None] = lambda _: None,
    counts: Counter[str] | None = None,
) -> Counter[str]:
    """Fetch every pending frontier row whose host this process can take, `batch_size` rows per host
    per round, until none is left. Rows of hosts that another process holds are left to it. Raises
    TransientError (after committing every outcome) when pages were tried and none could be reached
    (connection refused, timeouts, robots.txt unreachable): the sites or the network are down, and the
    caller should retry later. Rows that failed in run `run_id` are not tried again in that run, except
    after such an outage: it is not the pages' fault, so their attempts (and the run's mark) are given
    back and a retry of the same run (Airflow's retry or clear of the task) takes them again."""
    counts = Counter() if counts is None else counts
    tried: list[int] = []
    unreachable_ids: list[int] = []
    attempted = unreachable = 0
    while True:
        hosts = _take_hosts(conn, lock_conn, settings, sources, tried, run_id)
        if not hosts:
            break
        try:
            work = FetchRound(conn, settings, run_id, counts)
            work.fetch(hosts, checkpoint)
            attempted, unreachable = attempted + work.attempted, unreachable + work.unreachable
            unreachable_ids += work.unreachable_ids
        finally:
            for host in hosts:
                store.unlock_host(lock_conn, host)
        tried += [fid for ids in hosts.values() for fid in ids]
    if attempted and unreachable == attempted:
        store.give_back_attempts(conn, unreachable_ids)
        conn.commit()
        failures = ", ".join(f"{k} = {n}" for k, n in sorted(counts.items()) if k.startswith("failed:"))
        raise TransientError(f"none of the {attempted} pages could be reached ({failures})")
    return counts


def _take_hosts(
    conn: Conn,
    lock_conn: Conn,
    settings: Settings,
    sources: Sequence[str] | None,
    tried: Sequence[int],
    run_id: int | None,
) -> dict[str, list[int]]:
    """Hosts with pending rows that this process could lock, with their next rows (at most
    `settings.concurrency` hosts at once, `batch_size` rows each)."""
    taken: dict[str, list[int]] = {}
    for host in store.pending_hosts(conn, sources=sources, exclude=tried, run_id=run_id):
        if len(taken) >= max(1, settings.concurrency):
            break
        if not store.try_lock_host(lock_conn, host):
            continue  # another process is fetching this host
        ids = store.pending_of_host(conn, host, settings.batch_size, sources=sources, exclude=tried, run_id=run_id)
        if ids:
            taken[host] = ids
        else:
            store.unlock_host(lock_conn, host)  # taken by someone else between the two queries
    conn.commit()
    return taken
