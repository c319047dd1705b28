"""One hostile value stops nothing but its own item: a page or a feed that no rule foresaw is a counted
outcome of that item, never of its batch or of the poll."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from httpfaults import FaultServer, Route, loopback_settings, rss

from pipeline.errors import ItemFailed
from pipeline.extract.core import Extraction, extract_many
from pipeline.feeds import poll_feeds
from pipeline.feeds.parse import parse_feed
from pipeline.fetch.store import store_raw_page
from pipeline.jobs import nightly

BODY = " ".join(f"Paragraph sentence number {i} says something about the council and the harbour." for i in range(12))


def page(title: str, head: str = "") -> bytes:
    return (
        f"<html><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>"
        f"<p>{BODY}</p><p>{BODY}</p></article></body></html>"
    ).encode()


HOSTILE = page("Hostile", '<link rel="canonical" href="http://["><meta property="og:url" content="http://[::1">')


def test_a_hostile_canonical_url_fails_no_other_page() -> None:
    results = extract_many([(page("Good one"), "https://a.example/1"), (HOSTILE, "https://a.example/2"),
                            (page("Good two"), "https://a.example/3")])  # fmt: skip
    assert [type(r) for r in results] == [Extraction, Extraction, Extraction]
    assert results[1].canonical_url is None  # type: ignore[union-attr]


def test_an_unexpected_error_in_one_page_is_that_page_s_failure(monkeypatch: Any) -> None:
    from pipeline.extract import core

    real = core.page_metadata

    def explode_on_marker(tree: Any, url: str | None, now: datetime) -> Any:
        if url and url.endswith("/boom"):
            raise RuntimeError("a bug no test foresaw")
        return real(tree, url, now)

    monkeypatch.setattr(core, "page_metadata", explode_on_marker)
    results = extract_many([(page("Good"), "https://a.example/1"), (page("Boom"), "https://a.example/boom")])
    assert isinstance(results[0], Extraction)
    assert isinstance(results[1], ItemFailed) and "RuntimeError" in str(results[1])


def test_a_json_feed_with_a_broken_home_page_url_is_read_entry_by_entry() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Hostile",
            "home_page_url": "http://[",
            "items": [{"id": "1", "url": "https://b.example/story-1"}, {"id": "2", "url": "relative/story-2"}],
        }
    ).encode()
    parsed = parse_feed(body, url="https://b.example/feed.json", content_type="application/feed+json")
    assert [e.url for e in parsed.entries] == ["https://b.example/story-1", "https://b.example/relative/story-2"]


def test_a_hostile_feed_beside_good_ones_fails_alone(conn: Any, tmp_path: Path) -> None:
    with FaultServer() as srv:
        srv.add("/robots.txt", Route(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"))
        srv.add("/good.xml", Route(body=rss([("/n/1", "One", None), ("/n/2", "Two", None)]),
                                   content_type="application/rss+xml"))  # fmt: skip
        srv.add("/hostile.json", Route(body=b'{"version": "https://jsonfeed.org/version/1", "items": [{"url": 5}]}',
                                       content_type="application/feed+json"))  # fmt: skip
        for name in ("good.xml", "hostile.json"):
            conn.execute("INSERT INTO feeds (name, url) VALUES (%s, %s)", (name, srv.url(f"/{name}")))
        conn.commit()
        counts = poll_feeds(conn, loopback_settings(home=tmp_path), now=datetime.now(UTC))
        conn.commit()
    assert counts["feeds_polled"] == 2 and counts["entries_new"] == 2, counts
    assert conn.execute("SELECT count(*) FROM frontier").fetchone()[0] == 2


def test_a_batch_with_a_hostile_page_loads_every_other_page(conn: Any, database_url: str, tmp_path: Path) -> None:
    for i, body in enumerate([page("Good one"), HOSTILE, page("Good two"), b"\x00\xff not html at all"]):
        store_raw_page(conn, url=f"https://c.example/{i}", body=body, source="test")
    conn.commit()
    settings = loopback_settings(home=tmp_path, database_url=database_url)
    run_id = nightly.begin_run(settings, "test")
    counts = nightly.process_pending(settings, run_id)
    assert counts["stored"] == 3, counts  # the hostile canonical is ignored, the page kept
    assert sum(n for k, n in counts.items() if k.startswith(("skip:", "failed:"))) == 1, counts
    states = dict(conn.execute("SELECT url, extract_state FROM raw_pages").fetchall())
    assert sorted(states.values()) == ["done", "done", "done", "skipped"]
    assert nightly.process_pending(settings, run_id) == {}, "nothing is extracted twice"


# ---------------------------------------------------------------- characters no database column holds

SURROGATE_LD = (
    '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Siege \\ud800 of Hajin", '
    '"author": {"name": "A \\udfff writer\\u0000"}, "datePublished": "2024-03-05"}</script>'
)


def test_a_lone_surrogate_in_json_ld_is_replaced_and_the_page_stored(
    conn: Any, database_url: str, tmp_path: Path
) -> None:
    for i, body in enumerate([page("Good one"), page("x", SURROGATE_LD), page("Good two")]):
        store_raw_page(conn, url=f"https://s.example/{i}", body=body, source="test")
    conn.commit()
    settings = loopback_settings(home=tmp_path, database_url=database_url)
    counts = nightly.process_pending(settings, nightly.begin_run(settings, "test"))
    assert counts["stored"] == 3, counts
    title, published = conn.execute("SELECT title, published_at FROM articles WHERE url LIKE '%/1'").fetchone()
    assert title == "Siege \ufffd of Hajin" and published.date().isoformat() == "2024-03-05"


def test_a_page_whose_data_the_database_refuses_fails_alone_and_is_parked(
    conn: Any, database_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """The safety net under the cleaning: with the cleaning switched off, the surrogate reaches the COPY;
    the batch is stored page by page and only that page fails, then is parked after its attempts."""
    from pipeline.extract import core, metadata

    monkeypatch.setattr(core, "storable", lambda text: text)
    monkeypatch.setattr(metadata, "loads_json", json.loads)
    for i, body in enumerate([page("Good one"), page("x", SURROGATE_LD), page("Good two")]):
        store_raw_page(conn, url=f"https://t.example/{i}", body=body, source="test")
    conn.commit()
    settings = loopback_settings(home=tmp_path, database_url=database_url, workers=1)
    run_id = nightly.begin_run(settings, "test")
    counts = nightly.process_pending(settings, run_id)
    assert counts["stored"] == 2 and counts["failed:bad_data"] == 1, counts
    for _ in range(5):  # later runs retry it until it is parked; the good pages are never redone
        again = nightly.process_pending(settings, nightly.begin_run(settings, "test"))
        assert again.get("stored", 0) == 0, again
    state, reason = conn.execute("SELECT extract_state, extract_reason FROM raw_pages WHERE url LIKE '%/1'").fetchone()
    assert state == "parked" and "UnicodeEncodeError" in reason
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 2


def test_a_stray_nul_byte_does_not_make_a_page_binary() -> None:
    body = page("With a NUL").replace(b"</h1>", b"</h1>\x00")
    [found] = extract_many([(body, "https://n.example/1")])
    assert isinstance(found, Extraction) and "\x00" not in found.text and found.title == "With a NUL"
    [binary] = extract_many([(b"\x00\x01" * 3000, "https://n.example/2")])
    assert not isinstance(binary, Extraction)


def test_one_json_feed_entry_with_a_lone_surrogate_costs_nothing() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
        b'{"id": "1", "url": "https://b.example/1", "title": "bad \\ud800 title"},'
        b'{"id": "2", "url": "https://b.example/2\\u0000", "title": "good"},'
        b'{"id": "3", "url": "https://b.example/3", "title": "good"}]}'
    )
    parsed = parse_feed(body, url="https://b.example/feed.json", content_type="application/feed+json")
    assert [e.url for e in parsed.entries] == ["https://b.example/1", "https://b.example/2", "https://b.example/3"]
    assert parsed.entries[0].title == "bad \ufffd title"
