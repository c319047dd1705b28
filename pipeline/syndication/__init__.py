"""Syndication detection: find the shortened, edited copy of a story and name the original.

- `link_articles(conn, ids, window_days=30)`: the database path (candidate index in PostgreSQL).
- `dedup_records(records, window_days=30)`: the same matching on a list of records, in memory.
"""

from pipeline.syndication.core import Assignment
from pipeline.syndication.engine import dedup_records
from pipeline.syndication.match import Record
from pipeline.syndication.store import link_articles, prune_postings

__all__ = ["Assignment", "Record", "dedup_records", "link_articles", "prune_postings"]
