"""`newsflow search`: ranked full-text search over the archive with the analyst's filters.

A query is matched twice, with PostgreSQL's `websearch_to_tsquery` syntax ("quoted phrases", OR,
-exclusion): against the English-stemmed vector (`articles.tsv`: "attack" finds "attacked") and
against the unstemmed `simple` vector (`articles.tsv_simple`: names and words of any language as
written). A hit ranks by the better of the two; its snippet marks the matched words.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pipeline.analysis import queries
from pipeline.analysis.names import check_names, check_outlets
from pipeline.analysis.queries import MARK_START, MARK_STOP, Conn, SearchFilters
from pipeline.analysis.synonyms import Groups, expand_query
from pipeline.errors import ConfigError

__all__ = ["SearchFilters", "SearchHit", "search", "highlight", "validate_filters"]


@dataclass(frozen=True)
class SearchHit:
    id: int
    rank: float
    title: str | None
    outlet: str
    published_at: datetime | None
    language: str | None
    topics: list[str]
    relation: str  # original | duplicate | copy
    original_outlet: str
    url: str
    cluster_size: int  # articles in its story cluster, itself included
    cluster_outlets: list[str]  # every outlet that ran the story
    snippet: str  # matched words between MARK_START and MARK_STOP
    events: list[dict[str, Any]] = field(default_factory=list)  # what it reports, with independent sources

    def as_record(self, marks: tuple[str, str] = ("**", "**")) -> dict[str, Any]:
        """A flat dict for JSON lines and CSV: the date in ISO format, the snippet marked with `marks`."""
        record = asdict(self)
        record["published_at"] = self.published_at.isoformat() if self.published_at else None
        record["snippet"] = highlight(self.snippet, *marks)
        for event in record["events"]:
            event["event_date"] = event["event_date"].isoformat() if event["event_date"] else None
        return record

    def event_lines(self) -> list[str]:
        """One line per event: date, type, place, killed, who reported it independently, and which
        other outlets ran a copy of one of those reports."""
        lines = []
        for e in self.events:
            killed = f", {e['killed']} killed" if e["killed"] else ""
            independent = e["independent_outlets"]
            copies = [s for s in e["sources"] if s not in independent]
            line = (f"{e['event_date'] or 'undated'} {e['event_type']} in {e['place'] or '?'}{killed}: "
                    f"{e['independent_sources']} independent source(s) ({', '.join(independent)})")  # fmt: skip
            lines.append(line + (f"; copies in {', '.join(copies)}" if copies else ""))
        return lines


def validate_filters(conn: Conn, filters: SearchFilters) -> SearchFilters:
    """The filters with outlets and topics checked against the database (unknown names are errors
    that offer the close ones) and the dates in order."""
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise ConfigError(f"--to {filters.date_to} is before --from {filters.date_from}")
    outlets = check_outlets(conn, filters.outlets)
    topics = check_names(filters.topics, queries.known_topics(conn), "topic", "--topic")
    languages = tuple(lang.strip().lower() for lang in filters.languages if lang.strip())
    return SearchFilters(topics, filters.date_from, filters.date_to, outlets, languages,
                         filters.relevant_only, filters.originals_only)  # fmt: skip


def search(
    conn: Conn, query: str, filters: SearchFilters | None = None, limit: int = 20, synonyms: Groups = ()
) -> list[SearchHit]:
    """The best `limit` articles for `query` under `filters`, best first; a name of one of the
    `synonyms` groups in the query stands for any name of its group (`analysis.synonyms`)."""
    if not query.strip():
        raise ConfigError("search: the query is empty")
    if limit < 1:
        raise ConfigError(f"search: --limit must be at least 1, not {limit}")
    checked = validate_filters(conn, filters or SearchFilters())
    expanded = expand_query(query, synonyms)
    rows = queries.search_articles(conn, expanded.rest, checked, limit, expanded.groups)
    events = queries.events_of_articles(conn, [r[0] for r in rows])
    return [
        SearchHit(
            id=r[0],
            rank=float(r[1]),
            title=r[2],
            outlet=r[3],
            published_at=r[4],
            language=r[5],
            topics=list(r[6] or []),
            relation=r[7],
            original_outlet=r[8],
            url=r[9],
            cluster_size=int(r[10]),
            cluster_outlets=list(r[11] or []),
            snippet=r[12] or "",
            events=events.get(r[0], []),
        )
        for r in rows
    ]


def highlight(snippet: str, start: str, stop: str) -> str:
    """The snippet with its match markers replaced by `start` and `stop` (e.g. <mark> and </mark>);
    matched words next to each other ("Deir ez-Zor") are marked as one."""
    joined = re.sub(f"{MARK_STOP}([ -]?){MARK_START}", r"\1", " ".join(snippet.split()))
    return joined.replace(MARK_START, start).replace(MARK_STOP, stop)
