"""The only module of `pipeline.analysis` with SQL. Everything here is read-only and reads the
analyst views (`v_articles`, `v_events`, `v_daily_topic_counts`) where they say what is needed.

Columns that other migrations may add to `v_events` (coordinates) are looked up in
`information_schema` by `event_columns`, so the brief works with and without them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from pipeline.errors import DatabaseError

Conn = psycopg.Connection[Any]

# ts_headline markers: control characters that never occur in extracted text; renderers turn them
# into bold, <mark> or **...** (`pipeline.analysis.search.highlight`).
MARK_START, MARK_STOP = "\x02", "\x03"


def _run(conn: Conn, query: str | sql.Composable, params: Any = None, what: str = "query") -> list[Any]:
    try:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]
    except psycopg.Error as exc:
        raise DatabaseError(f"{what} failed: {exc}") from exc


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class SearchFilters:
    topics: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None  # included
    outlets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    relevant_only: bool = False
    originals_only: bool = False


SEARCH_SQL = """
WITH q AS (
    SELECT {qe} AS qe, {qs} AS qs
), hits AS (
    SELECT a.id, greatest(ts_rank(a.tsv, q.qe), ts_rank(a.tsv_simple, q.qs)) AS rank
    FROM articles a CROSS JOIN q
    WHERE (a.tsv @@ q.qe OR a.tsv_simple @@ q.qs)
      AND (%(date_from)s::date IS NULL OR a.published_at >= %(date_from)s::date::timestamp AT TIME ZONE 'UTC')
      AND (%(date_to)s::date IS NULL OR a.published_at < (%(date_to)s::date + 1)::timestamp AT TIME ZONE 'UTC')
      AND (%(outlets)s::text[] IS NULL OR a.source = ANY(%(outlets)s::text[]))
      AND (%(languages)s::text[] IS NULL OR a.language = ANY(%(languages)s::text[]))
      AND (NOT %(relevant)s OR a.relevant IS TRUE)
      AND (%(topics)s::text[] IS NULL OR EXISTS (
            SELECT 1 FROM article_topics t WHERE t.article_id = a.id AND t.topic_id = ANY(%(topics)s::text[])))
      AND (NOT %(originals)s OR NOT EXISTS (
            SELECT 1 FROM cluster_members m WHERE m.article_id = a.id AND m.relation <> 'original'))
    ORDER BY rank DESC, a.published_at DESC NULLS LAST, a.id
    LIMIT %(limit)s
)
SELECT h.id, h.rank, va.title, va.source, va.published_at, va.language, va.topics, va.relation,
       va.original_source, va.url, coalesce(cs.size, 1) AS cluster_size, coalesce(cs.outlets, ARRAY[va.source]),
       ts_headline('english', a.text, q.qe || q.qs,
                   'MaxWords=40, MinWords=15, MaxFragments=2, FragmentDelimiter=" ... ", '
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3)) AS snippet
FROM hits h
CROSS JOIN q
JOIN articles a ON a.id = h.id
JOIN v_articles va ON va.id = h.id
LEFT JOIN LATERAL (
    SELECT count(*) AS size, array_agg(DISTINCT o.source ORDER BY o.source) AS outlets
    FROM cluster_members m JOIN articles o ON o.id = m.article_id WHERE m.cluster_id = va.cluster_id
) cs ON va.cluster_id IS NOT NULL
ORDER BY h.rank DESC, va.published_at DESC NULLS LAST, h.id
"""


def _tsquery(config: str, has_rest: bool, groups: Sequence[Sequence[str]]) -> str:
    """The query's tsquery expression for one text search configuration: the rest of the query
    (websearch syntax) AND, for each synonym group it named, any of the group's names as a phrase.
    Only placeholders are built here; the texts are parameters."""
    parts = [f"websearch_to_tsquery('{config}', %(q)s)"] if has_rest else []
    for i, group in enumerate(groups):
        names = " || ".join(f"phraseto_tsquery('{config}', %(g{i}_{j})s)" for j in range(len(group)))
        parts.append(f"({names})")
    return " && ".join(parts)


def search_articles(
    conn: Conn, query: str, filters: SearchFilters, limit: int, groups: Sequence[Sequence[str]] = ()
) -> list[tuple[Any, ...]]:
    """`query` (websearch syntax) AND each of `groups` (any of its names), under the filters."""
    has_rest = bool(query.strip())
    sql_text = SEARCH_SQL.replace("{qe}", _tsquery("english", has_rest, groups)).replace(
        "{qs}", _tsquery("simple", has_rest, groups)
    )
    names = {f"g{i}_{j}": name for i, group in enumerate(groups) for j, name in enumerate(group)}
    params = {
        **names,
        "q": query,
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "outlets": list(filters.outlets) or None,
        "languages": list(filters.languages) or None,
        "topics": list(filters.topics) or None,
        "relevant": filters.relevant_only,
        "originals": filters.originals_only,
        "limit": limit,
    }
    return _run(conn, sql_text, params, "search")


# The outlets that reported an event independently: each mention counts as its story's original
# outlet (the rule behind `v_events.independent_sources`, which counts them).
INDEPENDENT_OUTLETS = """(SELECT array_agg(DISTINCT va.original_source ORDER BY va.original_source)
    FROM event_mentions im JOIN v_articles va ON va.id = im.article_id WHERE im.event_id = {event_id})"""


def events_of_articles(conn: Conn, article_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Per article, the events it reports, each with its independent sources (from `v_events`: a
    syndicated copy counts as its original's outlet)."""
    if not article_ids:
        return {}
    rows = _run(
        conn,
        """SELECT m.article_id, v.id, v.event_type, v.event_date, v.place, v.country, v.actors, v.killed,
                  v.injured, v.independent_sources, v.sources, """
        + INDEPENDENT_OUTLETS.format(event_id="v.id")
        + """
           FROM event_mentions m
           JOIN v_events v ON v.id = m.event_id
           WHERE m.article_id = ANY(%(ids)s)
             AND v.id = ANY(ARRAY(SELECT event_id FROM event_mentions WHERE article_id = ANY(%(ids)s)))
           ORDER BY m.article_id, v.event_date NULLS LAST, v.id""",
        {"ids": list(article_ids)},
        "search events",
    )
    keys = ("id", "event_type", "event_date", "place", "country", "actors", "killed", "injured",
            "independent_sources", "sources", "independent_outlets")  # fmt: skip
    found: dict[int, list[dict[str, Any]]] = {}
    for article_id, *values in rows:
        event = dict(zip(keys, values, strict=True))
        event["sources"] = sorted(event["sources"] or [])
        event["independent_outlets"] = list(event["independent_outlets"] or [])
        found.setdefault(article_id, []).append(event)
    return found


# ---------------------------------------------------------------- names analysts type


def outlets_present(conn: Conn, names: Sequence[str]) -> set[str]:
    """Which of these outlets have an article (an index lookup each, not a scan of the archive)."""
    rows = _run(conn, "SELECT DISTINCT source FROM articles WHERE source = ANY(%s)", (list(names),), "outlets")
    return {r[0] for r in rows}


def known_outlets(conn: Conn) -> list[str]:
    return [r[0] for r in _run(conn, "SELECT DISTINCT source FROM articles ORDER BY 1", what="listing outlets")]


def known_topics(conn: Conn) -> list[str]:
    return [r[0] for r in _run(conn, "SELECT id FROM topics ORDER BY 1", what="listing topics")]


# ---------------------------------------------------------------- gaps

# The day an article counts for: its publication date, or when its page was fetched (for WARC
# records: the WARC-Date, which is what a WARC backfill's window selects by).
_DAY = {
    "published": "(a.published_at AT TIME ZONE 'UTC')::date",
    "crawl": "(coalesce(r.fetched_at, a.created_at) AT TIME ZONE 'UTC')::date",
}


def outlets_active_near(conn: Conn, first: date, last: date, margin_days: int, by: str) -> list[str]:
    """Outlets with at least one article dated within `margin_days` of [first, last]."""
    day = sql.SQL(_DAY[by])
    query = sql.SQL(
        """SELECT DISTINCT a.source FROM articles a LEFT JOIN raw_pages r ON r.id = a.raw_page_id
           WHERE {day} BETWEEN %(first)s::date - %(m)s AND %(last)s::date + %(m)s ORDER BY 1"""
    ).format(day=day)
    return [r[0] for r in _run(conn, query, {"first": first, "last": last, "m": margin_days}, "gaps")]


def days_with_articles(conn: Conn, outlets: Sequence[str], first: date, last: date, by: str) -> dict[str, set[date]]:
    """Per outlet, the days in [first, last] with at least one article (counted `by` one of _DAY)."""
    day = sql.SQL(_DAY[by])
    query = sql.SQL(
        """SELECT a.source, {day} AS day FROM articles a LEFT JOIN raw_pages r ON r.id = a.raw_page_id
           WHERE a.source = ANY(%(outlets)s) AND {day} BETWEEN %(first)s AND %(last)s GROUP BY 1, 2"""
    ).format(day=day)
    found: dict[str, set[date]] = {o: set() for o in outlets}
    for source, d in _run(conn, query, {"outlets": list(outlets), "first": first, "last": last}, "gaps"):
        found[source].add(d)
    return found


def outlet_sites(conn: Conn, outlets: Sequence[str]) -> dict[str, str]:
    """One site root (scheme://host/) per outlet, from its articles' URLs, for backfill hints."""
    rows = _run(
        conn,
        """SELECT source, min(substring(url from '^[a-z]+://[^/]+')) FROM articles
           WHERE source = ANY(%s) GROUP BY 1""",
        (list(outlets),),
        "gaps",
    )
    return {source: f"{root}/" for source, root in rows if root}


# ---------------------------------------------------------------- brief


def event_columns(conn: Conn) -> set[str]:
    """The columns `v_events` has in this database (coordinates arrive with a later migration)."""
    rows = _run(
        conn,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'v_events'"
        " AND table_schema = current_schema()",
        what="reading v_events' columns",
    )
    return {r[0] for r in rows}


def day_stories(conn: Conn, day: date) -> list[dict[str, Any]]:
    """The stories of `day` (UTC): one per story cluster with a member published that day (an
    unclustered article is its own story), described by the cluster's original."""
    rows = _run(
        conn,
        """
        WITH members AS (
            SELECT va.original_id FROM v_articles va JOIN articles a ON a.id = va.id
            WHERE (coalesce(a.published_at, a.created_at) AT TIME ZONE 'UTC')::date = %(day)s
            GROUP BY 1
        )
        SELECT o.id, o.title, o.source, o.url, o.published_at, o.topics, o.relevant,
               coalesce(c.copies, 0), coalesce(c.outlets, '{}')
        FROM members m
        JOIN v_articles o ON o.id = m.original_id
        LEFT JOIN LATERAL (
            SELECT count(*) AS copies, array_agg(DISTINCT x.source ORDER BY x.source) AS outlets
            FROM v_articles x WHERE x.original_id = m.original_id AND x.id <> m.original_id
        ) c ON true
        ORDER BY coalesce(c.copies, 0) DESC, o.published_at, o.id
        """,
        {"day": day},
        "brief stories",
    )
    keys = ("id", "title", "source", "url", "published_at", "topics", "relevant", "copies", "copy_outlets")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def topic_labels(conn: Conn) -> dict[str, str]:
    return {r[0]: r[1] for r in _run(conn, "SELECT id, label FROM topics", what="topics")}


def topic_timeline(conn: Conn, first: date, last: date) -> list[tuple[date, str, int]]:
    """(day, topic, stories) for the days in [first, last] (a story with copies counts once)."""
    rows = _run(
        conn,
        "SELECT day, topic_id, stories FROM v_daily_topic_counts WHERE day BETWEEN %s AND %s ORDER BY 1, 2",
        (first, last),
        "brief timeline",
    )
    return [(d, t, int(n)) for d, t, n in rows]


def window_events(conn: Conn, first: date, last: date, columns: set[str]) -> list[dict[str, Any]]:
    """The events dated in [first, last] with their independent sources; `lat`/`lon` (and the other
    optional columns) when `v_events` has them, else None."""
    wanted = ["id", "event_type", "event_date", "date_precision", "place", "country", "actors", "killed",
              "injured", "detained", "mention_count", "independent_sources", "sources"]  # fmt: skip
    optional = ["lat", "lon", "geo_precision", "sub_event_type", "actor1", "actor2"]
    select: list[sql.Composable] = [sql.Identifier(c) for c in wanted]
    select += [sql.Identifier(c) if c in columns else sql.SQL("NULL AS {}").format(sql.Identifier(c)) for c in optional]
    select.append(sql.SQL(INDEPENDENT_OUTLETS.format(event_id="v_events.id")))
    query = sql.SQL(
        "SELECT {} FROM v_events WHERE event_date BETWEEN %s AND %s"
        " ORDER BY event_date DESC, independent_sources DESC, id"
    ).format(sql.SQL(", ").join(select))
    rows = _run(conn, query, (first, last), "brief events")
    keys = [*wanted, *optional, "independent_outlets"]
    return [dict(zip(keys, row, strict=True)) for row in rows]


def off_topic_count(conn: Conn, day: date) -> int:
    row = _run(
        conn,
        """SELECT count(*) FROM articles a WHERE (coalesce(a.published_at, a.created_at) AT TIME ZONE 'UTC')::date = %s
           AND NOT EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.id)""",
        (day,),
        "brief",
    )
    return int(row[0][0])


def latest_day(conn: Conn) -> date | None:
    """The latest UTC publication day with an article (the brief's default day)."""
    row = _run(conn, "SELECT max((published_at AT TIME ZONE 'UTC')::date) FROM articles", what="brief")
    return row[0][0]


# ---------------------------------------------------------------- export

EXPORTS = {
    "articles": sql.SQL(
        """SELECT va.*{text} FROM v_articles va JOIN articles a ON a.id = va.id
           WHERE (%(first)s::date IS NULL OR va.published_at >= %(first)s::date::timestamp AT TIME ZONE 'UTC')
             AND (%(last)s::date IS NULL OR va.published_at < (%(last)s::date + 1)::timestamp AT TIME ZONE 'UTC')
           ORDER BY va.published_at NULLS LAST, va.id"""
    ),
    "events": sql.SQL(
        """SELECT * FROM v_events
           WHERE (%(first)s::date IS NULL OR event_date >= %(first)s)
             AND (%(last)s::date IS NULL OR event_date <= %(last)s)
           ORDER BY event_date NULLS LAST, id"""
    ),
    "clusters": sql.SQL(
        """SELECT sc.id AS cluster_id, sc.original_article_id, o.source AS original_source,
                  o.title AS original_title, o.published_at AS original_published_at,
                  m.article_id, a.source, a.title, a.url, a.published_at, m.relation, m.similarity,
                  jsonb_array_length(m.dropped) AS paragraphs_dropped, jsonb_array_length(m.added) AS paragraphs_added,
                  m.changed::text AS changed_figures
           FROM story_clusters sc
           JOIN articles o ON o.id = sc.original_article_id
           JOIN cluster_members m ON m.cluster_id = sc.id
           JOIN articles a ON a.id = m.article_id
           WHERE (%(first)s::date IS NULL OR o.published_at >= %(first)s::date::timestamp AT TIME ZONE 'UTC')
             AND (%(last)s::date IS NULL OR o.published_at < (%(last)s::date + 1)::timestamp AT TIME ZONE 'UTC')
           ORDER BY sc.id, m.relation <> 'original', m.article_id"""
    ),
}


def export_rows(
    conn: Conn, kind: str, first: date | None, last: date | None, *, with_text: bool = False, chunk: int = 2000
) -> tuple[list[tuple[str, str]], Iterator[list[tuple[Any, ...]]]]:
    """The columns (name, PostgreSQL type name) and the rows in chunks, streamed with a server-side cursor."""
    text = sql.SQL(", a.text") if with_text else sql.SQL("")
    query = EXPORTS[kind].format(text=text) if kind == "articles" else EXPORTS[kind]
    cur = conn.cursor(name=f"export_{kind}")
    try:
        cur.execute(query, {"first": first, "last": last})
    except psycopg.Error as exc:
        cur.close()
        raise DatabaseError(f"export {kind} failed: {exc}") from exc
    columns = [(d.name, _type_name(conn, d.type_code)) for d in cur.description or []]

    def chunks() -> Iterator[list[tuple[Any, ...]]]:
        try:
            while rows := cur.fetchmany(chunk):
                yield rows
        finally:
            cur.close()

    return columns, chunks()


def _type_name(conn: Conn, oid: int) -> str:
    """The type's name, arrays as `_name` (PostgreSQL's own spelling)."""
    info = conn.adapters.types.get(oid)
    if info is None:
        return "unknown"
    return f"_{info.name}" if oid == info.array_oid else info.name
