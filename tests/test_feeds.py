"""Stage 1: feed configuration, polling against a real local server, parsing of real saved feeds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpfaults import FaultServer, Route, html_page, loopback_settings, rss

from pipeline.errors import ConfigError, Skip
from pipeline.feeds import poll_feeds, sync_feeds
from pipeline.feeds.config import FeedConfig, append_to_config, load_feed_config
from pipeline.feeds.discover import discover_feed, feed_links_in_html
from pipeline.feeds.parse import parse_feed
from pipeline.feeds.poll import MAX_BACKOFF, adaptive_wait
from pipeline.urls import normalize_url

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("fast_backoff")


@pytest.fixture()
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        srv.add("/robots.txt", Route(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"))
        yield srv


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- configuration


def test_load_feed_config_reads_names_urls_intervals_topics(tmp_path: Path) -> None:
    path = write_config(tmp_path, """
defaults: {poll_interval: 2h}
feeds:
  - name: One
    url: https://one.example/rss?utm_source=x
    topics: [isis, syria]
  - name: Two
    url: https://two.example/atom.xml
    poll_interval: 15m
""")  # fmt: skip
    feeds = load_feed_config(path)
    assert feeds == [
        FeedConfig("One", "https://one.example/rss", 7200, ("isis", "syria")),
        FeedConfig("Two", "https://two.example/atom.xml", 900, ()),
    ]


def test_adaptive_is_on_by_default_and_set_by_defaults_or_per_feed(tmp_path: Path) -> None:
    text = "feeds:\n  - {name: A, url: 'https://a.example/rss'}\n"
    text += "  - {name: B, url: 'https://b.example/rss', adaptive: %s}\n"
    assert [f.adaptive for f in load_feed_config(write_config(tmp_path, text % "false"))] == [True, False]
    off = "defaults: {adaptive: false}\n" + text % "true"
    assert [f.adaptive for f in load_feed_config(write_config(tmp_path, off))] == [False, True]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "feeds:\n  - name: A\n    url: https://a.example/\n    colour: red\n",
            r"feeds\.yaml:2: feeds\[0\].*colour",
        ),
        ("feeds:\n  - name: A\n", r":2: feeds\[0\]: 'url' is required"),
        ("feeds:\n  - name: A\n    url: ftp://a.example/\n", r"bad url"),
        ("feeds:\n  - name: A\n    url: https://a.example/\n    poll_interval: 5s\n", r"under the minimum"),
        (
            "feeds:\n  - name: A\n    url: https://a.example/\n    poll_interval: often\n",
            r"poll_interval must be",
        ),
        ("feeds: [\n", r"feeds.yaml:2:1: not valid YAML: expected the node content"),
        ("feeds:\n  - name: x\n    url: [unclosed\n", r"feeds.yaml:4:1: not valid YAML: expected ',' or ']'"),
        (
            "feeds:\n  - {name: A, url: 'https://a.example/'}\n  - {name: B, url: 'https://a.example/'}\n",
            "same url",
        ),
        ("sources: []\n", r"unknown top-level key"),
        (
            "feeds:\n  - {name: A, url: 'https://a.example/', adaptive: 'no'}\n",
            r"feeds\[0\] \(A\): adaptive must be true or false, not 'no'",
        ),
        ("defaults: {adaptive: 1}\nfeeds: []\n", r"defaults: adaptive must be true or false, not 1"),
        ("defaults: {interval: 1h}\nfeeds: []\n", r"'defaults' may hold adaptive, poll_interval, topics only"),
    ],
)
def test_bad_feed_config_names_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_feed_config(path)


def test_sync_feeds_upserts_and_never_deletes(conn: Any, tmp_path: Path) -> None:
    path = write_config(tmp_path, "feeds:\n  - {name: A, url: 'https://a.example/rss'}\n"
                                  "  - {name: B, url: 'https://b.example/rss'}\n")  # fmt: skip
    assert sync_feeds(conn, path) == {"added": 2}
    assert sync_feeds(conn, path) == {"unchanged": 2}
    write_config(tmp_path, "feeds:\n  - {name: A2, url: 'https://a.example/rss', poll_interval: 1d}\n")
    assert sync_feeds(conn, path) == {"updated": 1, "removed": 1}
    rows = conn.execute("SELECT url, name, poll_interval_s, in_config FROM feeds ORDER BY url").fetchall()
    assert rows == [("https://a.example/rss", "A2", 86400, True), ("https://b.example/rss", "B", 3600, False)]
    write_config(tmp_path, "feeds:\n  - {name: A2, url: 'https://a.example/rss', poll_interval: 1d, adaptive: false}\n")
    assert sync_feeds(conn, path) == {"updated": 1}
    assert conn.execute("SELECT adaptive FROM feeds WHERE name = 'A2'").fetchone()[0] is False


def test_the_shipped_feeds_file_is_valid() -> None:
    feeds = load_feed_config(Path(__file__).resolve().parent.parent / "config" / "feeds.yaml")
    assert len(feeds) >= 5
    assert all(f.url.startswith("https://") for f in feeds)


# ---------------------------------------------------------------- polling


def add_feed_row(conn: Any, url: str, interval: int = 3600) -> int:
    return int(conn.execute(
        "INSERT INTO feeds (name, url, poll_interval_s) VALUES ('t', %s, %s) RETURNING id", (url, interval)
    ).fetchone()[0])  # fmt: skip


def feed_state(conn: Any, fid: int) -> dict[str, Any]:
    cur = conn.execute("SELECT * FROM feeds WHERE id = %s", (fid,))
    names = [d.name for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def test_poll_queues_new_entries_once_with_conditional_get(conn: Any, server: FaultServer) -> None:
    items = [
        (server.url("/a/1?utm_source=rss"), "One", "Mon, 09 Mar 2026 10:00:00 GMT"),
        ("/a/2", "Two", None),  # relative and undated
        ("https://www.google.com/url?sa=t&url=https://news.example/story&ct=ga", "Wrapped", None),
    ]
    server.add("/feed.xml", Route(body=rss(items), content_type="application/rss+xml", etag='"v1"'))
    fid = add_feed_row(conn, server.url("/feed.xml"))
    counts = poll_feeds(conn, loopback_settings(), now=NOW, run_id=1)
    assert counts["entries_new"] == 3 and counts["feeds_ok"] == 1
    frontier = dict(conn.execute("SELECT url, title_hint FROM frontier").fetchall())
    assert frontier == {
        server.url("/a/1"): "One",
        server.url("/a/2"): "Two",
        "https://news.example/story": "Wrapped",
    }
    state = feed_state(conn, fid)
    # A first poll has no publishing rate to go by: the next is a probe after the 60-s minimum.
    assert state["etag"] == '"v1"' and state["next_poll_at"] == NOW + timedelta(minutes=1)

    # Not due yet: nothing is fetched. Due: the server answers 304 to the validator.
    assert poll_feeds(conn, loopback_settings(), now=NOW + timedelta(seconds=30)) == {}
    assert poll_feeds(conn, loopback_settings(), now=NOW + timedelta(hours=2))["feeds_not_modified"] == 1
    assert server.requests[-1].headers.get("if-none-match") == '"v1"'
    assert conn.execute("SELECT count(*) FROM frontier").fetchone()[0] == 3
    pages = conn.execute("SELECT outcome FROM fetch_log WHERE kind = 'feed' ORDER BY id").fetchall()
    assert [p[0] for p in pages] == ["ok", "not_modified"]


def test_same_body_under_new_validators_is_unchanged_and_changed_body_is_read(conn: Any, server: FaultServer) -> None:
    versions = {"n": 0}
    first = rss([("/x/1", "One", None)])
    second = rss([("/x/1", "One", None), ("/x/2", "Two", None)])

    def answer(headers: dict[str, str]) -> Route:
        versions["n"] += 1
        body = first if versions["n"] <= 2 else second
        # A server that sends the same ETag for every version, and a new one each time, in turn.
        return Route(body=body, content_type="text/xml", headers={"ETag": f'"{versions["n"]}"'})

    server.add("/feed", Route(dynamic=answer))
    fid = add_feed_row(conn, server.url("/feed"))
    settings = loopback_settings()
    assert poll_feeds(conn, settings, now=NOW)["entries_new"] == 1
    assert poll_feeds(conn, settings, now=NOW, force=True)["feeds_unchanged"] == 1
    counts = poll_feeds(conn, settings, now=NOW, force=True)
    assert counts["entries_new"] == 1 and counts["entries_known"] == 1
    assert feed_state(conn, fid)["failure_count"] == 0


def test_entries_after_the_window_wait_for_a_later_run(conn: Any, server: FaultServer) -> None:
    items = [
        ("/w/1", "Old", "Mon, 09 Mar 2026 10:00:00 GMT"),
        ("/w/2", "Late", "Tue, 10 Mar 2026 12:00:00 GMT"),
    ]
    server.add("/feed", Route(body=rss(items), content_type="application/rss+xml", etag='"same"'))
    add_feed_row(conn, server.url("/feed"))
    window_end = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    counts = poll_feeds(conn, loopback_settings(), now=NOW, window_end=window_end)
    assert counts["entries_new"] == 1 and counts["entries_after_window"] == 1
    # The next run must see the deferred entry although the server's validators did not change.
    later = poll_feeds(conn, loopback_settings(), now=NOW + timedelta(days=1), window_end=NOW + timedelta(days=1))
    assert later["entries_new"] == 1 and later["entries_known"] == 1


def test_failures_are_counted_by_kind_and_back_off_up_to_30_days(conn: Any, server: FaultServer) -> None:
    server.add("/gone", Route(body=b"", status=410, content_type="text/plain"))
    server.add("/broken", Route(body=b"<html><body>not a feed at all</body></html>", content_type="text/html"))
    server.add("/down", Route(body=b"", status=503))
    ids = {name: add_feed_row(conn, server.url(f"/{name}")) for name in ("gone", "broken", "down")}
    now = NOW
    for _ in range(12):
        poll_feeds(conn, loopback_settings(retries=0), now=now, force=True)
        now += timedelta(hours=1)
    gone, broken, down = (feed_state(conn, ids[n]) for n in ("gone", "broken", "down"))
    assert (gone["hard_failures"], gone["failure_count"], gone["last_status"]) == (12, 12, 410)
    assert broken["soft_failures"] == 12 and "not_a_feed" in broken["last_error"]
    assert down["temp_failures"] == 12 and down["last_status"] == 503
    last_poll = now - timedelta(hours=1)
    assert gone["next_poll_at"] - last_poll == MAX_BACKOFF
    assert down["next_poll_at"] - last_poll == MAX_BACKOFF
    assert conn.execute("SELECT count(*) FROM feeds").fetchone()[0] == 3  # none dropped

    # One success resets the count; the failure backoff is over.
    server.add("/down", Route(body=rss([("/ok", "ok", None)]), content_type="application/rss+xml"))
    poll_feeds(conn, loopback_settings(), now=now, feed_ids=[ids["down"]], force=True)
    down = feed_state(conn, ids["down"])
    assert down["failure_count"] == 0 and down["last_error"] is None and down["temp_failures"] == 12
    assert down["next_poll_at"] == now + timedelta(minutes=1)  # its first success: a probe after the minimum


def test_invalid_xml_that_still_has_items_is_read(conn: Any, server: FaultServer) -> None:
    body = rss([("/b/1", "Fine", None), ("/b/2", "Also &amp fine", None)]).replace(b"</channel>", b"<oops></channel>")
    server.add("/bozo", Route(body=body, content_type="application/rss+xml"))
    add_feed_row(conn, server.url("/bozo"))
    counts = poll_feeds(conn, loopback_settings(), now=NOW)
    assert counts["feeds_malformed_but_read"] == 1 and counts["entries_new"] == 2


def test_discovery_finds_the_feed_a_homepage_links_to(conn: Any, server: FaultServer, tmp_path: Path) -> None:
    home = (b'<html><head><title>Home</title><link rel="alternate" type="application/rss+xml" title="RSS" '
            b'href="/rss/world.xml"></head><body>hi</body></html>')  # fmt: skip
    server.add("/", Route(body=home))
    server.add("/rss/world.xml", Route(body=rss([("/n/1", "N", None)], title="World"),
                                       content_type="application/rss+xml"))  # fmt: skip
    url, parsed = discover_feed(loopback_settings(), server.url("/"))
    assert url == server.url("/rss/world.xml") and parsed.title == "World" and len(parsed.entries) == 1
    server.add("/nofeed", Route(body=html_page("Plain", ["no feed link"])))
    with pytest.raises(Skip, match="no_feed_found"):
        discover_feed(loopback_settings(), server.url("/nofeed"))

    config = write_config(tmp_path, "# my feeds\nfeeds:\n  - {name: A, url: 'https://a.example/rss'}\n")
    assert append_to_config(config, FeedConfig("World", url, 1800, ("syria",)))
    assert not append_to_config(config, FeedConfig("World", url, 1800, ()))
    assert config.read_text().startswith("# my feeds")
    assert [f.url for f in load_feed_config(config)] == ["https://a.example/rss", url]
    # The feeds block need not be last, and may be empty.
    config.write_text("feeds: []\n\n# polling\ndefaults:\n  poll_interval: 2h\n")
    assert append_to_config(config, FeedConfig("World", url, 1800, ()))
    assert load_feed_config(config) == [FeedConfig("World", url, 1800, ())]
    assert "defaults:\n  poll_interval: 2h" in config.read_text()


def test_feed_links_in_html_resolves_relative_and_base() -> None:
    page = (b'<html><head><base href="https://site.example/sub/">'
            b'<link rel="alternate" type="application/atom+xml" href="atom.xml">'
            b'<link rel="stylesheet" href="x.css"></head></html>')  # fmt: skip
    assert feed_links_in_html(page, "https://site.example/") == ["https://site.example/sub/atom.xml"]


# ---------------------------------------------------------------- real saved feeds

# file -> items it contains (counted from the files themselves, see PROVENANCE.md)
CORPUS = {
    "rss-parser/guardian.rss": 55, "rss-parser/heise.atom": 15, "rss-parser/uolNoticias.rss": 15,
    "rss-parser/encoding.rss": 40, "rss-parser/customfields.rss": 15, "rss-parser/itunes-href.rss": 10,
    "rss-parser/rss-1.rss": 69, "rss-parser/reddit.rss": 24, "rss-parser/reddit-atom.rss": 24,
    "rss-parser/content-encoded.rss": 7, "rss-parser/feedburner.atom": 25, "rss-parser/many-links.rss": 25,
    "feedjira/TechCrunch.xml": 20, "feedjira/HuffPostCanada.xml": 2, "feedjira/google_alerts_atom.xml": 20,
    "feedjira/RSSWithComments.xml": 30, "feedjira/AtomFeedWithSpacesAroundEquals.xml": 1,
    "feedjira/TypePadNews.xml": 10, "feedjira/FeedBurnerXHTML.xml": 10, "feedjira/SamRuby.xml": 20,
    "feedjira/DuplicateContentAtomFeed.xml": 10, "feedjira/json_feed.json": 20,
    "trafilatura/npr_technology_feed.json": 25,
}  # fmt: skip


def _raw_item_count(body: bytes) -> int:
    """Items as a plain count of <item>/<entry> elements or JSON items, independent of the parser."""
    if body.lstrip().startswith(b"{"):
        import json

        return len(json.loads(body)["items"])
    return len(re.findall(rb"<(?:item|entry)[\s>]", body))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_real_saved_feeds_parse_to_their_items(shared_corpus: Path, name: str) -> None:
    path = shared_corpus / "rss-feeds" / name
    body = path.read_bytes()
    parsed = parse_feed(body, url="https://feeds.example/feed")
    assert len(parsed.entries) + sum(parsed.skipped.values()) == _raw_item_count(body) == CORPUS[name]
    assert all(e.url.startswith(("http://", "https://")) for e in parsed.entries)
    assert len(parsed.entries) >= CORPUS[name] * 0.9


def test_real_feed_specialities(shared_corpus: Path) -> None:
    root = shared_corpus / "rss-feeds"
    alerts = parse_feed((root / "feedjira/google_alerts_atom.xml").read_bytes(), url="https://www.google.com/alerts")
    assert not any("google.com/url" in e.url for e in alerts.entries)
    techcrunch = parse_feed((root / "feedjira/TechCrunch.xml").read_bytes(), url="https://techcrunch.com/feed")
    assert all(e.url.startswith("http://techcrunch.com/") for e in techcrunch.entries)  # FeedBurner origLink
    jn = parse_feed((root / "rss-parser/encoding.rss").read_bytes(), url="https://jn.pt/rss")
    assert all("feeds.jn.pt/~r/" not in e.url for e in jn.entries)
    assert any("ç" in (e.title or "") or "ã" in (e.title or "") for e in jn.entries)  # ISO-8859-1 decoded
    uol = parse_feed((root / "rss-parser/uolNoticias.rss").read_bytes(), url="https://uol.com.br/rss")
    assert all(e.published is not None and e.published.year == 2018 for e in uol.entries)  # "Seg, 24 Set 2018"
    assert uol.entries[0].published == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)


# ---------------------------------------------------------------- adaptive polling


@pytest.mark.parametrize(
    ("interval", "since", "new", "wait"),
    [
        (300, None, 50, 60),  # first poll: its entries are a backlog, not a rate; a probe gives the rate
        (3600, None, 0, 60),
        (300, 0.0, 5, 300),  # a rerun at the same instant observes nothing
        (300, 300.0, 1, 150),  # one entry in 5 min: two polls per entry
        (300, 300.0, 300, 60),  # one a second: never sooner than the minimum
        (3600, 3600.0, 4, 450),
        (300, 300.0, 0, 300),  # quiet at the configured interval: stays there
        (300, 60.0, 0, 120),  # quiet after a busy spell: the wait doubles
        (300, 120.0, 0, 240),
        (300, 240.0, 0, 300),  # ... up to the configured interval, never beyond
        (300, 20.0, 0, 60),  # a poll 20 s after the last (the nightly run beside a watcher): minimum
        (3600, 7200.0, 1, 3600),  # slower than the interval: the interval
    ],
)
def test_adaptive_wait_follows_the_publishing_rate_within_the_bounds(
    interval: int, since: float | None, new: int, wait: int
) -> None:
    assert adaptive_wait(interval, since, new) == wait


def test_adaptive_wait_stays_within_minimum_and_interval() -> None:
    for interval in (60, 61, 300, 3600, 86400):
        for since in (None, 0.5, 1.0, 59.0, 60.0, 299.0, 3600.0, 10**7):
            for new in (0, 1, 2, 7, 1000):
                assert min(60, interval) <= adaptive_wait(interval, since, new) <= interval


def test_a_publishing_feed_is_polled_sooner_and_a_quiet_one_returns_to_its_interval(
    conn: Any, server: FaultServer
) -> None:
    """Polls at the times the feeds fall due: the publishing feed's next poll comes sooner (down to the
    60-s minimum); once it stops, the wait doubles back to its configured 5 minutes. A feed with
    `adaptive` off, publishing the same, and a feed that never publishes stay at 5 minutes."""
    published: list[tuple[str, str, str | None]] = [("/p/0", "p0", None)]

    def feed(prefix: str) -> Route:  # the entries published so far, as links under `prefix`
        def answer(_headers: dict[str, str]) -> Route:
            items = [(link.replace("/p/", prefix), title, None) for link, title, _ in published]
            return Route(body=rss(items), content_type="application/rss+xml")

        return Route(dynamic=answer)

    server.add("/busy", feed("/p/"))
    server.add("/fixed", feed("/q/"))
    server.add("/quiet", Route(body=rss([("/z/0", "z0", None)]), content_type="application/rss+xml", etag='"z"'))
    busy, fixed, quiet = (
        add_feed_row(conn, server.url(f"/{name}"), interval=300) for name in ("busy", "fixed", "quiet")
    )
    conn.execute("UPDATE feeds SET adaptive = false WHERE id = %s", (fixed,))
    settings = loopback_settings()

    def poll_at(seconds: int, publish: int = 0) -> dict[int, int]:
        for _ in range(publish):
            published.append((f"/p/{len(published)}", f"p{len(published)}", None))
        poll_feeds(conn, settings, now=NOW + timedelta(seconds=seconds))
        return {fid: int((feed_state(conn, fid)["next_poll_at"] - NOW).total_seconds()) for fid in (busy, fixed, quiet)}

    # First polls: an adaptive feed is probed again after the minimum (a rate needs two polls).
    assert poll_at(0) == {busy: 60, fixed: 300, quiet: 60}
    assert poll_at(60) == {busy: 180, fixed: 300, quiet: 180}  # nothing new yet: the wait doubles
    assert poll_at(180) == {busy: 420, fixed: 300, quiet: 420}  # 240 s
    assert poll_at(300, publish=10) == {busy: 420, fixed: 600, quiet: 420}  # only fixed is due
    assert poll_at(420) == {busy: 480, fixed: 600, quiet: 720}  # busy: 10 new in 240 s, the minimum
    assert poll_at(480, publish=1) == {busy: 540, fixed: 600, quiet: 720}  # due: busy only
    assert poll_at(540) == {busy: 660, fixed: 600, quiet: 720}  # nothing new: 120 s
    assert poll_at(660) == {busy: 900, fixed: 960, quiet: 720}  # busy 240 s; fixed finds the 11th
    waits = poll_at(960)  # all due, nothing new anywhere
    assert waits == {busy: 1260, fixed: 1260, quiet: 1260}  # every one at its 5 minutes again
    assert feed_state(conn, busy)["poll_wait_s"] == 300
    assert conn.execute("SELECT count(*) FROM frontier WHERE url LIKE '%%/p/%%'").fetchone()[0] == 12


def test_failure_backoff_wins_over_an_adaptive_wait(conn: Any, server: FaultServer) -> None:
    items = [("/b/0", "0", None)]
    server.add("/feed", Route(dynamic=lambda _h: Route(body=rss(items), content_type="application/rss+xml")))
    fid = add_feed_row(conn, server.url("/feed"), interval=300)
    settings = loopback_settings(retries=0)
    poll_feeds(conn, settings, now=NOW)
    items.extend((f"/b/{i}", str(i), None) for i in range(1, 30))
    poll_feeds(conn, settings, now=NOW + timedelta(seconds=300))
    assert feed_state(conn, fid)["poll_wait_s"] == 60
    server.add("/feed", Route(body=b"", status=503))
    for failures, at in enumerate((360, 660, 1260), start=1):  # 300 s, then 600 s, then 1200 s: never 60 s
        poll_feeds(conn, settings, now=NOW + timedelta(seconds=at))
        state = feed_state(conn, fid)
        assert state["failure_count"] == failures
        assert state["next_poll_at"] - (NOW + timedelta(seconds=at)) == timedelta(seconds=300 * 2 ** (failures - 1))
        assert state["poll_wait_s"] == 300 * 2 ** (failures - 1)


def test_feed_ids_poll_only_those(conn: Any, server: FaultServer) -> None:
    server.add("/f1", Route(body=rss([("/1", "1", None)]), content_type="application/rss+xml"))
    server.add("/f2", Route(body=rss([("/2", "2", None)]), content_type="application/rss+xml"))
    first = add_feed_row(conn, server.url("/f1"))
    add_feed_row(conn, server.url("/f2"))
    assert poll_feeds(conn, loopback_settings(), now=NOW, feed_ids=[first])["entries_new"] == 1
    assert [r[0] for r in conn.execute("SELECT url FROM frontier").fetchall()] == [normalize_url(server.url("/1"))]
