"""The analyst's side: full-text search, gaps in coverage, exports and the daily brief.

Read-only. `queries.py` holds all of its SQL (over the analyst views of `sql/0002_views.sql` and the
search vectors of `sql/0060_search_simple.sql`); the other modules are plain functions that take a
connection and return data (`search`, `gaps`, `export`) or HTML (`brief`).
"""
