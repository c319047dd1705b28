"""The only module with SQL for the feeds stage's table `feeds` (the list, each feed's validators,
body hash, failures, adaptive polling and next poll)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.feeds.config import DEFAULT_POLL_INTERVAL_S, load_feed_config
from pipeline.fetch.http import FetchResult
from pipeline.fetch.store import Conn


def sync_feeds(conn: Conn, path: Path) -> dict[str, int]:
    """Upsert the file's feeds; feeds no longer in it get in_config=false (never deleted). No commit."""
    feeds = load_feed_config(path)
    counts: Counter[str] = Counter()
    with conn.cursor() as cur:
        cur.execute("SELECT url, name, poll_interval_s, topic_hints, adaptive, in_config FROM feeds")
        existing = {row[0]: row[1:] for row in cur.fetchall()}
        for feed in feeds:
            wanted = (feed.name, feed.poll_interval_s, list(feed.topic_hints), feed.adaptive, True)
            old = existing.get(feed.url)
            if old is not None and tuple(old) == wanted:
                counts["unchanged"] += 1
                continue
            cur.execute(
                """INSERT INTO feeds (name, url, poll_interval_s, topic_hints, adaptive, in_config)
                   VALUES (%s, %s, %s, %s, %s, true)
                   ON CONFLICT (url) DO UPDATE SET name = excluded.name,
                       poll_interval_s = excluded.poll_interval_s, topic_hints = excluded.topic_hints,
                       adaptive = excluded.adaptive, in_config = true""",
                (feed.name, feed.url, feed.poll_interval_s, list(feed.topic_hints), feed.adaptive),
            )
            counts["added" if old is None else "updated"] += 1
        cur.execute(
            "UPDATE feeds SET in_config = false WHERE in_config AND NOT (url = ANY(%s))",
            ([f.url for f in feeds],),
        )
        counts["removed"] = cur.rowcount
    return {k: v for k, v in counts.items() if v}


@dataclass(frozen=True)
class FeedRow:
    id: int
    url: str
    poll_interval_s: int
    etag: str | None
    last_modified: str | None
    last_body_hash: str | None
    failure_count: int
    adaptive: bool = False
    last_success_at: datetime | None = None


def due_feeds(conn: Conn, now: datetime, feed_ids: Sequence[int] | None, force: bool) -> list[FeedRow]:
    """The feeds due for a poll, locked for the caller's transaction: a feed another process is
    polling right now is left to it (SKIP LOCKED)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT id, url, poll_interval_s, etag, last_modified, last_body_hash, failure_count,
                      adaptive, last_success_at
               FROM feeds
               WHERE (%s::bigint[] IS NULL AND in_config OR id = ANY(%s::bigint[]))
                 AND (%s OR next_poll_at IS NULL OR next_poll_at <= %s)
               ORDER BY id
               FOR UPDATE SKIP LOCKED""",
            (_ids(feed_ids), _ids(feed_ids), force, now),
        )
        return [FeedRow(*row) for row in cur.fetchall()]


def _ids(ids: Sequence[int] | None) -> list[int] | None:
    return list(ids) if ids is not None else None


def record_success(
    conn: Conn, feed: FeedRow, result: FetchResult, now: datetime, *, body_hash: str | None,
    keep_validators: bool, wait_s: int, forget: bool = False,
) -> None:  # fmt: skip
    """Record one successful poll; the next is `wait_s` away (the adaptive rule's choice)."""
    etag = feed.etag if keep_validators else result.headers.get("etag")
    modified = feed.last_modified if keep_validators else result.headers.get("last-modified")
    if forget:
        etag = modified = None
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE feeds SET etag = %s, last_modified = %s, last_body_hash = %s, last_status = %s,
                   last_polled_at = %s, last_success_at = %s, failure_count = 0, last_error = NULL,
                   next_poll_at = %s, poll_wait_s = %s
               WHERE id = %s""",
            (etag, modified, body_hash, result.status, now, now, now + timedelta(seconds=wait_s), wait_s,
             feed.id),
        )  # fmt: skip


def record_failure(conn: Conn, feed: FeedRow, kind: str, error: str, code: int | None, now: datetime,
                   wait: timedelta) -> None:  # fmt: skip
    """Count one failed poll of `kind` (hard, soft, temporary) and put the next poll `wait` away."""
    with conn.cursor() as cur:
        cur.execute(
            f"""UPDATE feeds SET failure_count = failure_count + 1,
                   {kind[:4]}_failures = {kind[:4]}_failures + 1, last_error = %s, last_status = %s,
                   last_polled_at = %s, next_poll_at = %s, poll_wait_s = %s
               WHERE id = %s""",
            (f"{kind}: {error}"[:1000], code, now, now + wait, int(wait.total_seconds()), feed.id),
        )


def keep_due_after_outage(conn: Conn, feed_ids: Sequence[int], now: datetime) -> None:
    """The poll at `now` of these feeds was an outage (`poll.is_outage`: the network or the sites are
    down). Their failures stay recorded (last error, status, temporary count: `newsflow status` lists
    them) but are not the feeds' own: their backoff does not grow and they stay due at `now`, so a retry
    of the same run polls them again (`newsflow watch` pauses on its own before it does)."""
    conn.execute(
        """UPDATE feeds SET failure_count = greatest(failure_count - 1, 0), next_poll_at = %(now)s
           WHERE id = ANY(%(ids)s) AND last_polled_at = %(now)s AND last_error IS NOT NULL""",
        {"now": now, "ids": list(feed_ids)},
    )


def listed_count(conn: Conn) -> int:
    """Feeds of the configured list (`in_config`)."""
    row = conn.execute("SELECT count(*) FROM feeds WHERE in_config").fetchone()
    return int(row[0]) if row else 0


def add_feed(conn: Conn, url: str, name: str, *, poll_interval_s: int = DEFAULT_POLL_INTERVAL_S,
             topics: Sequence[str] = ()) -> tuple[int, bool]:  # fmt: skip
    """Insert (or re-enable) one feed; returns (id, newly added)."""
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO feeds (name, url, poll_interval_s, topic_hints, in_config)
               VALUES (%s, %s, %s, %s, true)
               ON CONFLICT (url) DO UPDATE SET in_config = true
               RETURNING id, (xmax = 0)""",
            (name, url, poll_interval_s, list(topics)),
        )
        row = cur.fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def list_feeds(conn: Conn, *, include_removed: bool) -> list[tuple[Any, ...]]:
    """For `newsflow feeds list`: id, name, url, in_config, poll_interval_s, adaptive, poll_wait_s,
    last_status, failure_count, last success and next poll (as text, to the minute)."""
    return conn.execute(
        """SELECT id, name, url, in_config, poll_interval_s, adaptive, poll_wait_s, last_status, failure_count,
                  to_char(last_success_at, 'YYYY-MM-DD HH24:MI'), to_char(next_poll_at, 'YYYY-MM-DD HH24:MI')
           FROM feeds WHERE in_config OR %s ORDER BY id""",
        (include_removed,),
    ).fetchall()


def next_poll_due(conn: Conn) -> datetime | None:
    """When the next configured feed falls due (None: no feed; a past time: one is due now)."""
    row = conn.execute(
        """SELECT CASE WHEN bool_or(next_poll_at IS NULL) THEN now() ELSE min(next_poll_at) END
           FROM feeds WHERE in_config"""
    ).fetchone()
    return row[0] if row else None
