"""Polling: a feed is due when `next_poll_at` is null or past (or `force`). The GET is conditional
(If-None-Match / If-Modified-Since) and the body's SHA-256 is compared with the last one, since some
servers send the same validators for a changed feed (and others fresh validators for the same
bytes). Failures are counted per feed as hard (404, 410, refused address, robots), soft (not a feed,
wrong content type, too large) or temporary (timeouts, 429, 5xx), and the next poll backs off
exponentially up to `MAX_BACKOFF` (30 days). No feed is ever dropped: `newsflow status` lists the
failing ones with their last error.

Adaptive polling (`adaptive_wait`): after a successful poll, a feed's next poll is its configured
`poll_interval` away (its quiet rate), or sooner when this poll found new entries: about two polls per
entry at the rate just observed (time since the last successful poll / entries new), never sooner than
`MIN_POLL_INTERVAL_S`. A poll that finds nothing new doubles the wait, back up to the configured
interval. After a failure the backoff, a multiple of the configured interval, applies instead.

`poll_feeds` works in the caller's connection and does not commit.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pipeline.errors import Skip
from pipeline.feeds import store
from pipeline.feeds.config import MIN_POLL_INTERVAL_S
from pipeline.feeds.parse import ParsedFeed, parse_feed
from pipeline.feeds.store import FeedRow, due_feeds
from pipeline.fetch.http import Fetcher, FetchError, FetchResult, LogRow, run_sync
from pipeline.fetch.pages import save_gates, seed_gates
from pipeline.fetch.store import Conn, FrontierItem, add_to_frontier, lock_host, unlock_host, write_fetch_log
from pipeline.settings import Settings

MAX_BACKOFF = timedelta(days=30)


FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


HARD_REASONS = frozenset(
    {
        "invalid_url",
        "blocked_address",
        "robots_disallowed",
        "too_many_redirects",
        "redirect_loop",
        "bad_redirect",
    }
)


SOFT_REASONS = frozenset(
    {
        "not_a_feed",
        "bad_content_type",
        "too_large",
        "decompression_bomb",
        "bad_encoding",
        "unsupported_encoding",
    }
)


def conditional_headers(feed: FeedRow) -> dict[str, str]:
    headers = {"Accept": FEED_ACCEPT}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    return headers


def failure_kind(reason: str, temporary: bool) -> str:
    if temporary or reason in ("dns_error",):
        return "temporary"
    if reason in SOFT_REASONS:
        return "soft"
    if reason in HARD_REASONS or reason.startswith("http_"):
        return "hard"
    return "soft"


def backoff_interval(poll_interval_s: int, failures: int, kind: str) -> timedelta:
    """The wait before the next poll after `failures` consecutive failures (capped at 30 days)."""
    factor = 4 if kind == "hard" else 2
    seconds = poll_interval_s * factor ** min(failures, 30)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


POLLS_PER_ENTRY = 2  # a publishing feed is polled about twice per new entry it is seen to publish


def adaptive_wait(
    poll_interval_s: int, since_last_success_s: float | None, entries_new: int, *,
    minimum_s: int = MIN_POLL_INTERVAL_S,
) -> int:  # fmt: skip
    """Seconds to the next poll of an adaptive feed after a successful poll, in [minimum_s,
    poll_interval_s]: `since_last_success_s / (POLLS_PER_ENTRY * entries_new)` when this poll found
    new entries (the feed's observed gap between entries, halved), twice the time since the last
    success when it found none (backing off toward the configured interval). A feed's first poll
    has no rate to observe (its entries are a backlog): the next one is a probe after the minimum,
    which gives the rate, and a quiet feed is back at its interval after a few quiet polls. A poll at
    the same instant as the last observes nothing: the configured interval."""
    floor = min(minimum_s, poll_interval_s)
    if since_last_success_s is None:
        return floor
    if since_last_success_s <= 0:
        return poll_interval_s
    if entries_new == 0:
        return min(poll_interval_s, max(floor, round(2 * since_last_success_s)))
    wanted = since_last_success_s / (POLLS_PER_ENTRY * entries_new)
    return max(floor, min(poll_interval_s, round(wanted)))


def next_wait(feed: FeedRow, now: datetime, entries_new: int) -> int:
    """The wait before `feed`'s next poll after a successful one at `now`."""
    if not feed.adaptive:
        return feed.poll_interval_s
    since = (now - feed.last_success_at).total_seconds() if feed.last_success_at is not None else None
    return adaptive_wait(feed.poll_interval_s, since, entries_new)


FeedOutcome = FetchResult | Skip | FetchError


def poll_feeds(
    conn: Conn,
    settings: Settings,
    *,
    now: datetime,
    window_end: datetime | None = None,
    run_id: int | None = None,
    feed_ids: Sequence[int] | None = None,
    force: bool = False,
    on_progress: Callable[[str], None] | None = None,
    lock_conn: Conn | None = None,
    polled: list[int] | None = None,
) -> dict[str, int]:
    """Poll the due feeds and put their new entry URLs into the frontier (no commit). With `lock_conn`,
    the feeds' hosts are taken first (waiting while another process fetches from them), so that
    the politeness of each host holds across processes. `polled`, when given, gets the ids of the
    feeds this call polled."""
    feeds = due_feeds(conn, now, feed_ids, force)
    if not feeds:
        return {}
    hosts = sorted({urlsplit(feed.url).hostname or "" for feed in feeds} - {""})
    if lock_conn is not None:
        for host in hosts:  # one order for every process: two pollers never wait on each other in a cycle
            lock_host(lock_conn, host)
    if polled is not None:
        polled.extend(feed.id for feed in feeds)
    try:
        return _poll(conn, settings, feeds, hosts, now=now, window_end=window_end, run_id=run_id,
                     on_progress=on_progress)  # fmt: skip
    finally:
        if lock_conn is not None:
            for host in hosts:
                unlock_host(lock_conn, host)


def _poll(
    conn: Conn, settings: Settings, feeds: list[FeedRow], hosts: list[str], *, now: datetime,
    window_end: datetime | None, run_id: int | None, on_progress: Callable[[str], None] | None,
) -> dict[str, int]:  # fmt: skip
    counts: Counter[str] = Counter()
    log: list[LogRow] = []

    def done(feed: FeedRow, outcome: FeedOutcome) -> None:
        try:
            with conn.transaction():  # a savepoint: one hostile feed cannot break the others' work
                row, outcome_counts = handle_feed_outcome(conn, feed, outcome, now=now, window_end=window_end)
        except Exception as exc:  # input no rule foresaw: this feed fails (counted), never the poll
            log_error = Skip("error", f"{type(exc).__name__}: {exc}"[:500])
            row, outcome_counts = _record_failure(conn, feed, log_error, now)
        counts.update(outcome_counts)
        if outcome_counts.get("feeds_failed_temporary"):
            failed_hosts.add(urlsplit(feed.url).hostname or "")
        log.append(row)
        if on_progress is not None:
            on_progress(row.outcome)

    failed_hosts: set[str] = set()
    robots_log = run_sync(lambda: _fetch_feeds(conn, settings, feeds, hosts, done))
    write_fetch_log(conn, [*robots_log, *log], run_id)
    if failed_hosts:
        counts["feeds_failed_temporary_hosts"] = len(failed_hosts)
    return dict(counts)


def is_outage(counts: Mapping[str, int], listed: Callable[[], int]) -> bool:
    """Whether a poll's failures are an outage (the network, DNS or the sites are down), not the feeds'
    own: every feed it polled failed for a temporary reason (refused, timeout, DNS, 5xx), and they were
    on two hosts or more, or they were every feed of the list (`listed()` of them: asked only then).
    One dead site falling due on its own is not an outage: it backs off like any failing feed."""
    polled = counts.get("feeds_polled", 0)
    if not polled or counts.get("feeds_failed_temporary", 0) != polled:
        return False
    return counts.get("feeds_failed_temporary_hosts", 0) >= 2 or polled >= listed()


async def _fetch_feeds(
    conn: Conn, settings: Settings, feeds: list[FeedRow], hosts: list[str],
    on_done: Callable[[FeedRow, FeedOutcome], None],
) -> list[LogRow]:  # fmt: skip
    import asyncio

    async def one(feed: FeedRow, f: Fetcher) -> tuple[FeedRow, FeedOutcome]:
        try:
            return feed, await f.get(feed.url, kind="feed", headers=conditional_headers(feed))
        except (Skip, FetchError) as exc:
            return feed, exc

    async with Fetcher(settings) as fetcher:
        seed_gates(conn, fetcher, hosts)
        tasks = [asyncio.ensure_future(one(feed, fetcher)) for feed in feeds]
        for next_done in asyncio.as_completed(tasks):
            feed, outcome = await next_done
            on_done(feed, outcome)
        save_gates(conn, fetcher, hosts)
        return fetcher.log


def handle_feed_outcome(
    conn: Conn, feed: FeedRow, outcome: FeedOutcome, *, now: datetime, window_end: datetime | None
) -> tuple[LogRow, Counter[str]]:
    """Record one poll: feed state, frontier rows; returns the fetch_log row and the counts."""
    if isinstance(outcome, Skip | FetchError):
        return _record_failure(conn, feed, outcome, now)
    result = outcome
    counts: Counter[str] = Counter({"feeds_polled": 1})
    body_hash = hashlib.sha256(result.body).hexdigest() if result.body else None
    if result.not_modified or (body_hash is not None and body_hash == feed.last_body_hash):
        key = "not_modified" if result.not_modified else "unchanged"
        store.record_success(conn, feed, result, now, body_hash=feed.last_body_hash, keep_validators=True,
                             wait_s=next_wait(feed, now, 0))  # fmt: skip
        counts[f"feeds_{key}"] += 1
        return _log_row(feed, result, key), counts
    try:
        parsed = parse_feed(result.body, url=result.final_url, content_type=result.headers.get("content-type"))
    except Skip as exc:
        return _record_failure(conn, feed, exc, now, status=result.status)
    deferred = _queue_entries(conn, feed, parsed, window_end, counts)
    # Entries left for a later run must be seen again: then forget the validators and the hash.
    store.record_success(conn, feed, result, now, body_hash=None if deferred else body_hash, keep_validators=False,
                         wait_s=next_wait(feed, now, counts["entries_new"]), forget=deferred > 0)  # fmt: skip
    counts["feeds_ok"] += 1
    if parsed.bozo:
        counts["feeds_malformed_but_read"] += 1
    return _log_row(feed, result, "ok"), counts


def _queue_entries(
    conn: Conn, feed: FeedRow, parsed: ParsedFeed, window_end: datetime | None, counts: Counter[str]
) -> int:
    counts.update(parsed.skipped)
    taken = []
    deferred = 0
    for entry in parsed.entries:
        if window_end is not None and entry.published is not None and entry.published > window_end:
            deferred += 1
            continue
        taken.append(FrontierItem(entry.url, f"feed:{feed.id}", feed.id, entry.title, entry.published))
    counts["entries"] += len(parsed.entries)
    counts["entries_after_window"] += deferred
    added = add_to_frontier(conn, taken)
    counts["entries_new"] += added.get("new", 0)
    counts["entries_known"] += added.get("known", 0)
    return deferred


def _record_failure(
    conn: Conn, feed: FeedRow, exc: Skip | FetchError, now: datetime, status: int | None = None
) -> tuple[LogRow, Counter[str]]:
    kind = failure_kind(exc.reason, isinstance(exc, FetchError))
    wait = backoff_interval(feed.poll_interval_s, feed.failure_count, kind)
    code = status if status is not None else getattr(exc, "status", None)
    if code is None and exc.reason.startswith("http_") and exc.reason[5:].isdigit():
        code = int(exc.reason[5:])
    store.record_failure(conn, feed, kind, str(exc), code, now, wait)
    counts: Counter[str] = Counter({"feeds_polled": 1, f"feeds_failed_{kind}": 1, f"skip:feed_{exc.reason}": 1})
    row = LogRow("feed", feed.url, None, code, exc.reason, exc.detail or None, None, None)
    return row, counts


def _log_row(feed: FeedRow, result: FetchResult, outcome: str) -> LogRow:
    return LogRow("feed", feed.url, result.final_url, result.status, outcome, None, len(result.body),
                  result.elapsed_ms)  # fmt: skip
