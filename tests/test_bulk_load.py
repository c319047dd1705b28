"""Bulk loads (COPY + one merge per batch) give what the former one-row-at-a-time writes gave."""

from __future__ import annotations

from typing import Any

import psycopg

from pipeline.extract.store import update_site_profile
from pipeline.fetch.store import FrontierItem, add_to_frontier, raw_page_id, store_raw_page, store_raw_pages


def one_by_one(conn: psycopg.Connection[Any], pages: list[dict[str, Any]]) -> list[tuple[int | None, bool]]:
    """The former backfill path: the URL as given looked up, else the page stored under its normalized URL."""
    out: list[tuple[int | None, bool]] = []
    for page in pages:
        before = raw_page_id(conn, page["url"])
        out.append((before, False) if before is not None else (store_raw_page(conn, source="s", **page), True))
    return out


def tricky_pages() -> list[dict[str, Any]]:
    return [
        {"url": "https://a.example/1", "body": b"<p>one</p>"},
        {"url": "https://a.example/1", "body": b"<p>one again</p>"},  # the same URL twice
        {"url": "https://A.example/2#top", "body": b"<p>two</p>"},  # stored under its normalized URL
        {"url": "https://a.example/2", "body": b"<p>two again</p>"},  # ... which is then found as given
        {"url": "https://a.example/empty", "body": b""},
        {"url": "https://a.example/old", "body": b"<p>stored before</p>"},
        {"url": "https://a.example/3", "body": b"<p>three</p>", "status": 203, "charset": "latin-1"},
    ]


def raw_rows(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT url, status, charset, body_sha256, body_bytes, source FROM raw_pages ORDER BY url"
    ).fetchall()


def test_store_raw_pages_gives_the_one_by_one_outcomes(conn: psycopg.Connection[Any], database_url: str) -> None:
    store_raw_page(conn, url="https://a.example/old", body=b"<p>old</p>", source="s")
    conn.commit()
    expected = one_by_one(conn, tricky_pages())
    expected_rows = raw_rows(conn)
    conn.rollback()
    got = store_raw_pages(conn, tricky_pages(), source="s")
    rows = raw_rows(conn)
    assert [new for _, new in got] == [new for _, new in expected] == [True, False, True, False, True, False, True]
    assert got[4][0] is None and got[0][0] == got[1][0] and got[2][0] == got[3][0]
    assert rows == expected_rows
    conn.commit()
    assert [new for _, new in store_raw_pages(conn, tricky_pages(), source="s")] == [
        False, False, True, False, True, False, False,
    ]  # fmt: skip
    with psycopg.connect(database_url, autocommit=True) as auto:  # no caller transaction: still one merge
        again = store_raw_pages(auto, [{"url": "https://a.example/4", "body": b"<p>four</p>"}], source="s")
        assert again[0][1] is True and raw_page_id(auto, "https://a.example/4") == again[0][0]


def test_add_to_frontier_counts_and_first_item_wins(conn: psycopg.Connection[Any]) -> None:
    items = [
        FrontierItem("https://b.example/2", "feed:1", title_hint="first"),
        FrontierItem("https://b.example/1", "feed:1"),
        FrontierItem("https://b.example/2", "feed:1", title_hint="second"),
    ]
    assert add_to_frontier(conn, items) == {"new": 2, "known": 1}
    assert conn.execute("SELECT title_hint FROM frontier WHERE url = 'https://b.example/2'").fetchone() == ("first",)
    assert add_to_frontier(conn, items) == {"known": 3}
    assert add_to_frontier(conn, []) == {}


def test_site_profile_batch_counts_each_paragraph_once_per_page(conn: psycopg.Connection[Any]) -> None:
    footer = "Subscribe to our newsletter for the latest stories every morning."
    pages = [f"Story number {n} about the council budget and the new bridge.\n{footer}" for n in range(3)]
    assert update_site_profile(conn, "c.example", pages) == 3
    assert update_site_profile(conn, "c.example", pages[:1] + ["Another story on trains.\n" + footer]) == 1
    rows = dict(conn.execute("SELECT example, pages FROM site_paragraphs WHERE source = 'c.example'").fetchall())
    assert rows[footer] == 4
    assert rows["Story number 0 about the council budget and the new bridge."] == 1
    assert conn.execute("SELECT count(*) FROM site_profile_pages").fetchone() == (4,)
