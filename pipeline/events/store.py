"""The only module with SQL for the events tables: `events` (one per event) and `event_mentions` (one per
article that reports it).

A mention joins the stored event that `rules.same_event` says it reports (same type family, dates that
agree, places that agree); otherwise it starts a new event. Joining refines the event: a more precise
place or date replaces a coarser one, actors are united, and the toll (killed, injured, detained) is the
lower median of its reports' figures, recomputed as reports join, change or leave (REFRESH_TOLLS, D41).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from pipeline import db
from pipeline.events.gazetteer import RANK
from pipeline.events.rules import (
    EXTRACTOR_VERSION,
    EventDate,
    EventFacts,
    Mention,
    date_wins,
    event_key,
    mentions_in,
    same_event,
)
from pipeline.runs import Counts

# The events whose dates can agree with a mention's span [first, last]: those dated in the span's days
# (± 1), and those known only to the month or the year, dated by their first day, up to a year before.
CANDIDATES = """
SELECT id, event_type, event_date, date_precision, lat, lon, geo_precision, place_key, country_code
FROM events
WHERE event_type = %(type)s
  AND (event_date BETWEEN %(first)s - 1 AND %(last)s + 1
       OR (date_precision <> 'day' AND event_date BETWEEN %(first)s - 367 AND %(last)s + 1))
ORDER BY id
"""

INSERT_EVENT = """
INSERT INTO events (event_key, event_type, sub_event_type, event_date, date_precision, place, country, country_code,
                    lat, lon, geo_precision, place_key, actors, actor1, actor2, killed, injured, detained,
                    background, extractor)
VALUES (%(key)s, %(type)s, %(sub)s, %(date)s, %(precision)s, %(place)s, %(country)s, %(country_code)s,
        %(lat)s, %(lon)s, %(geo_precision)s, %(place_key)s, %(actors)s, %(actor1)s, %(actor2)s, %(killed)s,
        %(injured)s, %(detained)s, %(background)s, %(extractor)s)
ON CONFLICT (event_key) DO UPDATE SET updated_at = now()
RETURNING id
"""

JOIN_EVENT = """
UPDATE events SET
    actors = coalesce((SELECT array_agg(DISTINCT a) FROM unnest(actors || %(actors)s::text[]) a), '{}'),
    actor1 = coalesce(actor1, %(actor1)s),
    actor2 = coalesce(actor2, %(actor2)s),
    updated_at = now()
WHERE id = %(id)s
"""

# An event's toll: the lower median over its independent sources (original outlets, as
# `v_events.independent_sources` counts them: a syndicated copy speaks for its original, not for
# itself) of each source's lower median figure. NULLs (reports without a figure) are ignored. A figure
# some report gave, not moved by one outlier source nor by how often one story was republished, and
# of two sources the smaller (D41).
REFRESH_TOLLS = """
UPDATE events e SET killed = t.killed, injured = t.injured, detained = t.detained, updated_at = now()
FROM (SELECT event_id,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY killed) AS killed,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY injured) AS injured,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY detained) AS detained
      FROM (SELECT m.event_id, va.original_source,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY m.killed) AS killed,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY m.injured) AS injured,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY m.detained) AS detained
            FROM event_mentions m JOIN v_articles va ON va.id = m.article_id
            WHERE m.event_id = ANY(%(ids)s)
            GROUP BY m.event_id, va.original_source) per_source
      GROUP BY event_id) t
WHERE e.id = t.event_id AND (e.killed, e.injured, e.detained) IS DISTINCT FROM (t.killed, t.injured, t.detained)
"""

REFINE_PLACE = """
UPDATE events SET place = %(place)s, country = %(country)s, country_code = %(country_code)s, lat = %(lat)s,
                  lon = %(lon)s, geo_precision = %(geo_precision)s, place_key = %(place_key)s
WHERE id = %(id)s
"""

REFINE_DATE = "UPDATE events SET event_date = %(date)s, date_precision = %(precision)s WHERE id = %(id)s"

# The key follows the event's date and place; it keeps its old key in the rare case that another event
# (made before the two could be seen as one) holds the new one.
REKEY = """
UPDATE events SET event_key = %(key)s
WHERE id = %(id)s AND NOT EXISTS (SELECT 1 FROM events WHERE event_key = %(key)s)
"""
SUB_TYPE = "UPDATE events SET sub_event_type = %(sub)s WHERE id = %(id)s AND sub_event_type > %(sub)s"

MENTION_STAGE = ("ord", "event_id", "article_id", "sentence", "killed", "injured", "detained")
MENTION_STAGE_TYPES = ("integer", "bigint", "bigint", "text", "integer", "integer", "integer")
# Of one (event, article) pair given twice, the first wins, as when the mentions were inserted one by one.
MERGE_MENTIONS = """
INSERT INTO event_mentions (event_id, article_id, sentence, killed, injured, detained)
SELECT event_id, article_id, sentence, killed, injured, detained FROM _stage_event_mentions
ORDER BY ord
ON CONFLICT (event_id, article_id) DO NOTHING
"""


# The day an article's relative dates ("on Tuesday") count from: its publication date; without one, the
# time it was seen on the web: when a feed's page was fetched (live: the news of the day), or the
# capture time of an archived (WARC) page. An undated page of another backfill (a saved HTML file, a
# sitemap or URL list fetched today) has none: the day it was loaded says nothing of when it was news.
REFERENCE_DAYS = """
SELECT a.id, a.text,
       CASE WHEN a.published_at IS NOT NULL THEN a.published_at
            WHEN rp.source = 'backfill:warc' THEN rp.fetched_at
            WHEN rp.source LIKE 'backfill:%%' THEN NULL
            ELSE a.created_at END,
       a.relevant
FROM articles a LEFT JOIN raw_pages rp ON rp.id = a.raw_page_id
WHERE a.id = ANY(%s) ORDER BY a.id
"""


def extract_events(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> Counts:
    """Find the events in these articles and store events and mentions, in the caller's transaction."""
    counts: Counter[str] = Counter()
    rows = conn.execute(REFERENCE_DAYS, (list(article_ids),)).fetchall()
    found: list[tuple[int, int, Mention]] = []
    for article_id, text, published, relevant in rows:
        if relevant is False:
            counts["skip:not_relevant"] += 1
            continue
        if published is None:
            counts["skip:undated"] += 1  # "on Tuesday" needs a reference day, and a backfill's load day is none
            continue
        mentions = mentions_in(text, published)
        counts["articles_with_events" if mentions else "articles_without_events"] += 1
        for mention in mentions:
            event_id, created = _event_for(conn, mention)
            counts["events_new" if created else "events_joined"] += 1
            found.append((event_id, article_id, mention))
    new = write_mentions(conn, found)
    counts.update({"mentions_new": new, "mentions_known": len(found) - new})
    refresh_tolls(conn, {event_id for event_id, _, _ in found})
    return {k: v for k, v in counts.items() if v}


def refresh_tolls(conn: psycopg.Connection[Any], event_ids: Iterable[int]) -> None:
    """Set these events' killed/injured/detained from their reports (REFRESH_TOLLS)."""
    ids = sorted(set(event_ids))
    if ids:
        conn.execute(REFRESH_TOLLS, {"ids": ids})


def _event_for(conn: psycopg.Connection[Any], mention: Mention) -> tuple[int, bool]:
    """The stored event this mention reports (refined by it), or a new one; and whether it is new."""
    span = mention.when.span()
    assert span is not None  # rules drop undated mentions
    facts = mention.facts
    found = []
    for row in conn.execute(CANDIDATES, {"type": mention.event_type, "first": span[0], "last": span[1]}):
        event_id, family, day, precision, lat, lon, geo_precision, place_key, country_code = row
        stored = EventFacts(family, EventDate(day, precision), lat, lon, geo_precision, place_key, country_code)
        if same_event(facts, stored):
            gap = abs((day - mention.when.day).days) if day and mention.when.day else 999
            found.append((place_key != facts.place_key, gap, event_id, stored))
    values = _values(mention)
    if not found:
        row = conn.execute(INSERT_EVENT, values).fetchone()
        assert row is not None
        return int(row[0]), True
    _, _, event_id, stored = min(found, key=lambda f: f[:3])
    conn.execute(JOIN_EVENT, {**values, "id": event_id})
    # Which report's facts the event keeps does not depend on the order the reports arrive in: the more
    # precise place and date win, and at equal precision the first place key in sort order, the earliest
    # day and the first sub-event type in sort order.
    conn.execute(SUB_TYPE, {**values, "id": event_id})
    place_key, when = stored.place_key, stored.when
    if _place_wins(mention, stored):
        conn.execute(REFINE_PLACE, {**values, "id": event_id})
        place_key = mention.place.key
    if date_wins(mention.when, stored.when):
        conn.execute(REFINE_DATE, {**values, "id": event_id})
        when = mention.when
    if (place_key, when) != (stored.place_key, stored.when):
        conn.execute(REKEY, {"key": event_key(mention.event_type, when, place_key), "id": event_id})
    return event_id, False


def _place_wins(mention: Mention, stored: EventFacts) -> bool:
    if stored.geo_precision is None:
        return True
    new_rank, stored_rank = RANK[mention.place.precision], RANK[stored.geo_precision]
    return new_rank < stored_rank or (new_rank == stored_rank and mention.place.key < (stored.place_key or "~"))


def _values(mention: Mention) -> dict[str, Any]:
    place = mention.place
    return {
        "key": mention.key,
        "type": mention.event_type,
        "sub": mention.sub_event_type,
        "date": mention.when.day,
        "precision": mention.when.precision,
        "place": place.name,
        "country": place.country,
        "country_code": place.country_code,
        "lat": place.lat,
        "lon": place.lon,
        "geo_precision": place.precision,
        "place_key": place.key,
        "actors": mention.actors,
        "actor1": mention.actor1,
        "actor2": mention.actor2,
        "killed": mention.counts.get("killed"),
        "injured": mention.counts.get("injured"),
        "detained": mention.counts.get("detained"),
        "background": mention.background,
        "extractor": EXTRACTOR_VERSION,
    }


def write_mentions(conn: psycopg.Connection[Any], found: Sequence[tuple[int, int, Mention]]) -> int:
    """Store (event id, article id, mention) rows not stored yet: one COPY and one merge. Returns how many
    were new."""
    if not found:
        return 0
    rows = [
        (n, event_id, article_id, m.sentence, m.counts.get("killed"), m.counts.get("injured"),
         m.counts.get("detained"))
        for n, (event_id, article_id, m) in enumerate(found)
    ]  # fmt: skip
    with db.in_transaction(conn), conn.cursor() as cur:
        return db.copy_merge(cur, "event_mentions", MENTION_STAGE, rows, MERGE_MENTIONS, types=MENTION_STAGE_TYPES)


def refind_events(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> Counts:
    """Find these articles' events again; an event found again keeps its id (it joins by the merge rule),
    and events no article mentions any more are dropped."""
    rows = conn.execute(
        "DELETE FROM event_mentions WHERE article_id = ANY(%s) RETURNING event_id", (list(article_ids),)
    ).fetchall()
    found = extract_events(conn, article_ids)
    touched = sorted({int(r[0]) for r in rows})
    if touched:  # only the events these articles mentioned can have lost their last mention
        cur = conn.execute(
            """DELETE FROM events e WHERE e.id = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM event_mentions m WHERE m.event_id = e.id)""",
            (touched,),
        )
        if cur.rowcount:
            found = {**found, "events_dropped": cur.rowcount}
        refresh_tolls(conn, touched)  # an event that lost this article's report: its toll from the rest
    return found


# Event extraction is serialized like linking: mentions of one event from two articles merge into
# one event only if the second sees the first.
EVENTS_LOCK = (7_431_004, 1)


def claim_unread(conn: psycopg.Connection[Any], limit: int, *, wait: bool = True) -> list[int]:
    """Take the events lock for the caller's transaction, then up to `limit` classified articles whose
    events were not read yet. `wait` False: none when another process holds the lock (it reads what
    is waiting). Nothing waiting: none, without waiting for the lock."""
    if not db.any_work_waiting(conn, "events_state") or not db.exclusive_stage(conn, EVENTS_LOCK, wait=wait):
        return []
    rows = conn.execute(
        """SELECT w.article_id FROM article_work w JOIN articles a ON a.id = w.article_id
           WHERE w.events_state = 'pending' AND a.relevant IS NOT NULL
           ORDER BY w.article_id LIMIT %s""",
        (limit,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def mark_read(conn: psycopg.Connection[Any], article_ids: Sequence[int], state: str = "done") -> None:
    """Record that these articles' events were read (`done`), or must be read again (`pending`)."""
    conn.execute("UPDATE article_work SET events_state = %s WHERE article_id = ANY(%s)", (state, list(article_ids)))


def unread_count(conn: psycopg.Connection[Any]) -> tuple[int, Any]:
    return db.work_waiting(conn, "events_state")
