"""The only module with SQL for the events tables: `events` (one per event key) and `event_mentions`
(one per article that reports it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg

from pipeline.events.rules import EXTRACTOR_VERSION, Mention, mentions_in
from pipeline.runs import Counts

UPSERT_EVENT = """
INSERT INTO events (event_key, event_type, event_date, date_precision, place, country, actors,
                    killed, injured, detained, extractor)
VALUES (%(key)s, %(type)s, %(date)s, %(precision)s, %(place)s, %(country)s, %(actors)s,
        %(killed)s, %(injured)s, %(detained)s, %(extractor)s)
ON CONFLICT (event_key) DO UPDATE SET
    actors = coalesce((SELECT array_agg(DISTINCT a) FROM unnest(events.actors || EXCLUDED.actors) a), '{}'),
    killed = greatest(events.killed, EXCLUDED.killed),
    injured = greatest(events.injured, EXCLUDED.injured),
    detained = greatest(events.detained, EXCLUDED.detained),
    updated_at = now()
RETURNING id
"""

INSERT_MENTION = """
INSERT INTO event_mentions (event_id, article_id, sentence, killed, injured, detained)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id, article_id) DO NOTHING
"""


def extract_events(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> Counts:
    """Find the events in these articles and store events and mentions, in the caller's transaction."""
    counts: Counter[str] = Counter()
    rows = conn.execute(
        "SELECT id, text, published_at, relevant FROM articles WHERE id = ANY(%s) ORDER BY id",
        (list(article_ids),),
    ).fetchall()
    for article_id, text, published, relevant in rows:
        if relevant is False:
            counts["skip:not_relevant"] += 1
            continue
        mentions = mentions_in(text, published)
        counts["articles_with_events" if mentions else "articles_without_events"] += 1
        for mention in mentions:
            counts["mentions_new" if _store(conn, article_id, mention) else "mentions_known"] += 1
    return dict(counts)


def _store(conn: psycopg.Connection[Any], article_id: int, mention: Mention) -> bool:
    row = conn.execute(
        UPSERT_EVENT,
        {
            "key": mention.key,
            "type": mention.event_type,
            "date": mention.when.day,
            "precision": mention.when.precision,
            "place": mention.place.name,
            "country": mention.place.country,
            "actors": mention.actors,
            "killed": mention.counts.get("killed"),
            "injured": mention.counts.get("injured"),
            "detained": mention.counts.get("detained"),
            "extractor": EXTRACTOR_VERSION,
        },  # fmt: skip
    ).fetchone()
    assert row is not None
    cur = conn.execute(
        INSERT_MENTION,
        (row[0], article_id, mention.sentence, mention.counts.get("killed"), mention.counts.get("injured"),
         mention.counts.get("detained")),
    )  # fmt: skip
    return cur.rowcount == 1


def refind_events(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> Counts:
    """Find these articles' events again; an event found again keeps its id (upsert by key), and events
    no article mentions any more are dropped."""
    conn.execute("DELETE FROM event_mentions WHERE article_id = ANY(%s)", (list(article_ids),))
    found = extract_events(conn, article_ids)
    conn.execute("DELETE FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_mentions m WHERE m.event_id = e.id)")
    return found


# Event extraction is serialized like linking: mentions of one event from two articles merge into
# one event only if the second sees the first.
EVENTS_LOCK = (7_431_004, 1)


def claim_unread(conn: psycopg.Connection[Any], limit: int) -> list[int]:
    """Take the events lock for the caller's transaction, then up to `limit` classified articles whose
    events were not read yet."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", EVENTS_LOCK)
    rows = conn.execute(
        """SELECT id FROM articles WHERE events_state = 'pending' AND relevant IS NOT NULL
           ORDER BY id LIMIT %s""",
        (limit,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def mark_read(conn: psycopg.Connection[Any], article_ids: Sequence[int], state: str = "done") -> None:
    """Record that these articles' events were read (`done`), or must be read again (`pending`)."""
    conn.execute("UPDATE articles SET events_state = %s WHERE id = ANY(%s)", (state, list(article_ids)))


def unread_count(conn: psycopg.Connection[Any]) -> tuple[int, Any]:
    row = conn.execute(
        "SELECT count(*), min(created_at) FROM articles WHERE events_state = 'pending'"
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]
