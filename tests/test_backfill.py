"""Backfill from a WARC written here with warcio, from sitemaps served by a real local server, from
saved HTML and URL lists. Good pages arrive once, the rest is counted by reason, reruns
change nothing."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from httpfaults import FaultServer, Route, html_page, loopback_settings
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.errors import ConfigError
from pipeline.jobs.backfill import backfill, parse_source
from pipeline.sources.files import page_address
from pipeline.sources.sitemaps import parse_sitemap

WORDS = " ".join(
    [
        "officials said the convoy reached the town after a long delay while local councils counted the families",
        "who had returned to their homes and asked for water electricity and schools to reopen before winter",
    ]
).split(" ")


def article_html(title: str, n: int, *, canonical: str | None = None, charset: str = "utf-8") -> bytes:
    paragraphs = [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(30)).capitalize() + "." for i in range(n)]
    return html_page(title, paragraphs, canonical=canonical, charset=charset)


def write_warc(path: Path, records: list[tuple[str, int, str, bytes, str]]) -> None:
    """(url, status, content type, body, WARC-Date) responses, plus a request record, gzip per record."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, status, ctype, body, when in records:
            headers = StatusAndHeaders(f"{status} X", [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": when},
            )
            writer.write_record(record)
            request = writer.create_warc_record(url, "request", payload=BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
            writer.write_record(request)


@pytest.fixture()
def settings(tmp_path: Path, database_url: str) -> Any:
    return loopback_settings(home=tmp_path / "home", batch_size=3, database_url=database_url)


pytestmark = pytest.mark.usefixtures("fast_backoff")


def table_counts(conn: Any) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("raw_pages", "articles", "frontier")}


def test_warc_backfill_loads_good_pages_once_and_counts_the_rest(conn: Any, settings: Any, tmp_path: Path) -> None:
    warc = tmp_path / "CC-NEWS-test.warc.gz"
    day = "2024-03-05T10:00:00Z"
    write_warc(
        warc,
        [
            *[
                (
                    f"https://news.example/2024/03/05/story-{i}?utm_source=x",
                    200,
                    "text/html; charset=utf-8",
                    article_html(f"Story {i}", 6),
                    day,
                )
                for i in range(5)
            ],  # fmt: skip
            (
                "https://news.example/latin",
                200,
                "text/html; charset=iso-8859-1",
                article_html("Sécurité à Mossoul", 6, charset="iso-8859-1"),
                day,
            ),  # fmt: skip
            ("https://news.example/missing", 404, "text/html", b"<html>gone</html>", day),
            ("https://news.example/logo.png", 200, "image/png", b"\x89PNG....", day),
            ("https://news.example/old", 200, "text/html", article_html("Old", 6), "2024-02-01T00:00:00Z"),
            ("https://news.example/2024/03/05/story-0", 200, "text/html", article_html("Story 0", 6), day),
        ],
    )
    counts = backfill(conn, settings, f"warc:{warc}", date_from=date(2024, 3, 5), date_to=date(2024, 3, 5))
    assert counts["pages_stored"] == 6 and counts["pages_already_stored"] == 1  # story-0 twice in the archive
    assert counts["skip:http_404"] == 1 and counts["skip:bad_content_type"] == 1
    assert counts["skip:outside_window"] == 1 and counts["warc_request_records"] == 10
    assert counts["articles"] == 6
    urls = {r[0] for r in conn.execute("SELECT url FROM articles").fetchall()}
    assert "https://news.example/2024/03/05/story-0" in urls and len(urls) == 6
    text = conn.execute("SELECT title FROM articles WHERE url = 'https://news.example/latin'").fetchone()[0]
    assert text == "Sécurité à Mossoul"
    fetched_at = conn.execute("SELECT fetched_at FROM raw_pages WHERE url LIKE '%%story-1'").fetchone()[0]
    assert fetched_at == datetime(2024, 3, 5, 10, tzinfo=UTC)

    before = table_counts(conn)
    again = backfill(conn, settings, f"warc:{warc}", date_from=date(2024, 3, 5), date_to=date(2024, 3, 5))
    assert table_counts(conn) == before
    assert again["pages_already_stored"] == 7 and "pages_stored" not in again and "articles" not in again


def _story_warc(path: Path, stories: int, site: str) -> None:
    day = "2024-03-05T10:00:00Z"
    write_warc(path, [(f"https://{site}/2024/03/05/story-{i}", 200, "text/html", article_html(f"Story {i}", 6), day)
                      for i in range(stories)])  # fmt: skip


def _waiting(conn: Any) -> tuple[int, int]:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE link_state = 'pending'), count(*) FILTER (WHERE events_state = 'pending')"
        " FROM article_work"
    ).fetchone()
    return int(row[0]), int(row[1])


def test_archive_backfill_links_and_reads_events_as_it_goes(conn: Any, settings: Any, tmp_path: Path) -> None:
    """Each extracted batch is linked and read for events while the next is loaded; only the last
    batch waits for the caller's link stage."""
    warc = tmp_path / "three-batches.warc.gz"
    _story_warc(warc, 9, "news.example")  # batch_size 3: three batches
    counts = backfill(conn, settings, f"warc:{warc}")
    assert counts["articles"] == 9
    assert _waiting(conn) == (3, 3)


def test_archive_backfill_leaves_linking_to_the_process_that_holds_the_lock(
    conn: Any, settings: Any, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill beside a linker that is busy does not wait for it (a lock wait would fail here:
    lock_timeout); what it extracted stays pending for that linker."""
    import psycopg

    from pipeline.events.store import EVENTS_LOCK
    from pipeline.syndication.store import LINK_LOCK

    warc = tmp_path / "beside-a-linker.warc.gz"
    _story_warc(warc, 9, "other.example")
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=3000")  # the backfill's new connections
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s), pg_advisory_lock(%s, %s)", (*LINK_LOCK, *EVENTS_LOCK))
        counts = backfill(conn, settings, f"warc:{warc}")
    assert counts["articles"] == 9
    assert _waiting(conn) == (9, 9)


def test_the_final_link_stage_with_nothing_waiting_does_not_wait_for_a_busy_linker(
    conn: Any, settings: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from pipeline.events.store import EVENTS_LOCK
    from pipeline.jobs.nightly import link_and_find_events
    from pipeline.runs import start_run
    from pipeline.syndication.store import LINK_LOCK

    run_id = start_run(conn, "backfill")
    conn.commit()
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=3000")  # a wait for the lock fails the test
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s), pg_advisory_lock(%s, %s)", (*LINK_LOCK, *EVENTS_LOCK))
        assert link_and_find_events(settings, run_id) == {}


def test_fast_backfill_marks_its_articles_and_a_thorough_reextract_redoes_them(
    conn: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`extract_fast` reaches trafilatura and is recorded on what it made; a page it skipped is taken
    again by the thorough mode (which finds its text), never by the fast mode; `reextract` in the
    thorough mode redoes the fast articles (and only once)."""
    import pipeline.extract.text as text_module
    from pipeline.extract.core import EXTRACTOR_VERSION, FAST_EXTRACTOR_VERSION
    from pipeline.extract.store import claim_raw_pages
    from pipeline.jobs.maintenance import reextract

    modes: list[bool] = []
    real = text_module.bare_extraction

    def recording(*args: Any, **kwargs: Any) -> Any:
        modes.append(bool(kwargs.get("fast")))
        return real(*args, **kwargs)

    monkeypatch.setattr(text_module, "bare_extraction", recording)
    warc = tmp_path / "fast.warc.gz"
    day = "2024-03-05T10:00:00Z"
    stories = [(f"https://fast.example/2024/03/05/story-{i}", 200, "text/html", article_html(f"Story {i}", 6), day)
               for i in range(3)]  # fmt: skip
    # text in spans of one div: the thorough mode finds it (its fallback extractors), the fast one
    # keeps too little of it
    sentence = "the council said the convoy reached the town after a long delay while families returned home. "
    spans = ("<html><head><title>Convoy</title></head><body><div>" + f"<span>{sentence}</span>" * 8
             + "</div></body></html>").encode()  # fmt: skip
    short = ("https://fast.example/2024/03/05/spans", 200, "text/html", spans, day)
    write_warc(warc, [*stories, short])
    fast = settings.with_overrides(extract_fast=True, workers=1)
    counts = backfill(conn, fast, f"warc:{warc}")
    assert counts["articles"] == 3 and modes and all(modes)
    assert {r[0] for r in conn.execute("SELECT extractor FROM articles")} == {FAST_EXTRACTOR_VERSION}
    skipped = conn.execute("SELECT id, extracted_by FROM raw_pages WHERE extract_state = 'skipped'").fetchall()
    assert [by for _, by in skipped] == [FAST_EXTRACTOR_VERSION]
    assert claim_raw_pages(conn, 10, fast=True) == []  # the fast mode does not take it again
    conn.rollback()
    assert claim_raw_pages(conn, 10) == [skipped[0][0]]  # the thorough mode does
    conn.rollback()

    modes.clear()
    conn.execute("UPDATE article_work SET link_state = 'done', events_state = 'done'")  # the later stages ran
    conn.commit()
    report = reextract(settings.with_overrides(workers=1))
    # these plain pages give the same text in both modes: their articles take the thorough mode's
    # extractor and do not go back to the later stages
    done = report.counts["extract"]
    assert (done["changed"], done["unchanged"], done["stored"]) == (0, 3, 1)  # + the page fast skipped
    assert modes and not any(modes)
    assert {r[0] for r in conn.execute("SELECT extractor FROM articles")} == {EXTRACTOR_VERSION}
    assert conn.execute("SELECT count(*) FROM article_work WHERE link_state = 'pending'").fetchone()[0] == 0
    # ... and the page the fast mode skipped was extracted thoroughly on the way (`process_pending`)
    assert conn.execute("SELECT count(*) FROM articles WHERE url LIKE '%%/spans'").fetchone()[0] == 1
    again = reextract(settings.with_overrides(workers=1))
    assert again.counts.get("extract", {}) == {}
    assert claim_raw_pages(conn, 10, fast=True) == [] and claim_raw_pages(conn, 10) == []


def test_sitemap_index_and_news_sitemap_backfill_a_window(conn: Any, settings: Any) -> None:
    with FaultServer() as srv:
        robots = f"User-agent: *\nDisallow: /private/\nSitemap: {srv.url('/sitemap_index.xml')}\n"
        srv.add("/robots.txt", Route(body=robots.encode(), content_type="text/plain"))
        index = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{srv.url("/news-sitemap.xml")}</loc><lastmod>2024-03-06</lastmod></sitemap>
  <sitemap><loc>{srv.url("/archive-2023.xml.gz")}</loc><lastmod>2023-12-31</lastmod></sitemap>
  <sitemap><loc>{srv.url("/broken.xml")}</loc></sitemap>
</sitemapindex>"""
        news = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>{srv.url("/a/in-window")}</loc>
    <news:news><news:publication_date>2024-03-05T08:00:00+00:00</news:publication_date>
    <news:title>In the window</news:title></news:news><lastmod>2024-04-01</lastmod></url>
  <url><loc>{srv.url("/a/by-lastmod")}</loc><lastmod>2024-03-05T23:59:00Z</lastmod></url>
  <url><loc>{srv.url("/a/too-new")}</loc><lastmod>2024-03-06T00:00:00Z</lastmod></url>
  <url><loc>{srv.url("/a/undated")}</loc></url>
  <url><loc>{srv.url("/private/in-window")}</loc><lastmod>2024-03-05</lastmod></url>
  <url><loc>{srv.url("/a/gone")}</loc><lastmod>2024-03-05</lastmod></url>
</urlset>"""
        srv.add("/sitemap_index.xml", Route(body=index.encode(), content_type="application/xml"))
        srv.add("/news-sitemap.xml", Route(body=news.encode(), content_type="application/xml"))
        srv.add("/archive-2023.xml.gz", Route(body=gzip.compress(b"<urlset/>"), content_type="application/gzip"))
        srv.add("/broken.xml", Route(body=b"this is not xml at all", content_type="application/xml"))
        for path in ("/a/in-window", "/a/by-lastmod", "/a/too-new", "/a/undated", "/private/in-window"):
            srv.add(path, Route(body=article_html(path, 6)))
        srv.add("/a/gone", Route(body=b"", status=410, content_type="text/plain"))

        counts = backfill(conn, settings, f"sitemap:{srv.url('/')}", date_from=date(2024, 3, 5),
                          date_to=date(2024, 3, 5), process=False)  # fmt: skip
        assert counts["sitemaps_read"] == 2 and counts["sitemaps_older_than_window"] == 1
        assert counts["skip:sitemap_not_a_sitemap"] == 1
        assert srv.hits("/archive-2023.xml.gz") == 0
        assert counts["skip:outside_window"] == 1 and counts["skip:sitemap_undated"] == 1
        assert counts["urls_listed"] == 4 and counts["fetched"] == 2
        assert counts["skip:robots_disallowed"] == 1 and counts["skip:http_410"] == 1
        frontier = dict(conn.execute("SELECT url, title_hint FROM frontier").fetchall())
        assert frontier[srv.url("/a/in-window")] == "In the window"

        before = table_counts(conn)
        hits = len(srv.requests)
        again = backfill(conn, settings, f"sitemap:{srv.url('/sitemap_index.xml')}", date_from=date(2024, 3, 5),
                         date_to=date(2024, 3, 5), process=False)  # fmt: skip
        assert table_counts(conn) == before
        assert again["already_fetched"] == 2 and again["skip:previously_skipped"] == 2
        page_hits = [r.path for r in srv.requests[hits:] if r.path.startswith(("/a/", "/private/"))]
        assert page_hits == []


def test_html_directory_and_url_file(conn: Any, settings: Any, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    (saved / "sub").mkdir(parents=True)
    (saved / "one.html").write_bytes(article_html("One", 6, canonical="https://outlet.example/one?utm_medium=x"))
    (saved / "sub" / "two.htm").write_bytes(
        b"<!-- saved from url=(0029)https://outlet.example/two -->\n" + article_html("Two", 6)
    )
    (saved / "anonymous.html").write_bytes(article_html("Nobody", 6))
    (saved / "notes.txt").write_text("not a page")
    counts = backfill(conn, settings, f"html:{saved}", process=False)
    assert counts == {"pages_stored": 2, "skip:no_url": 1}
    assert {r[0] for r in conn.execute("SELECT url FROM raw_pages").fetchall()} == {
        "https://outlet.example/one", "https://outlet.example/two"}  # fmt: skip

    with FaultServer() as srv:
        srv.add("/p/1", Route(body=article_html("P1", 6)))
        srv.add("/p/2", Route(body=article_html("P2", 6)))
        listing = tmp_path / "urls.txt"
        listing.write_text(
            f"# urls to load\n{srv.url('/p/1')}  2024-03-05\n{srv.url('/p/2')}\n"
            f"{srv.url('/p/3')} 2023-01-01\nnot a url\n"
        )
        counts = backfill(conn, settings, f"urls:{listing}", date_from=date(2024, 3, 5), date_to=date(2024, 3, 5),
                          process=False)  # fmt: skip
        assert counts.get("fetched") == 2 and counts["skip:outside_window"] == 1 and counts["skip:invalid_url"] == 1, (
            str(counts)
        )
        assert srv.hits("/p/3") == 0


def test_parse_source_and_sitemap_details(tmp_path: Path) -> None:
    assert parse_source("https://site.example/sitemap.xml").kind == "sitemap"
    assert parse_source(str(tmp_path / "x.warc.gz")).kind == "warc"
    assert parse_source(f"html:{tmp_path}").kind == "html"
    with pytest.raises(ConfigError):
        parse_source("ftp:somewhere")
    doc = parse_sitemap(b"https://a.example/1\n\nhttps://a.example/2\n", "https://a.example/sitemap.txt")
    assert [e.url for e in doc.urls] == ["https://a.example/1", "https://a.example/2"]
    bomb = gzip.compress(b"<" + b"a" * 60_000_000)
    with pytest.raises(Exception, match="decompression_bomb"):
        parse_sitemap(bomb, "https://a.example/s.xml.gz")
    # An XML entity bomb is not expanded.
    lol = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>' \
          b"<urlset><url><loc>https://a.example/&b;</loc></url></urlset>"  # fmt: skip
    assert len(parse_sitemap(lol, "https://a.example/s.xml").urls[0].url) < 100
    assert page_address(b'<html><head><meta property="og:url" content="https://o.example/x#top"></head></html>') == (
        "https://o.example/x"
    )


def test_a_warc_record_without_a_target_uri_is_skipped_and_the_rest_loaded(
    conn: Any, settings: Any, tmp_path: Path
) -> None:
    warc = tmp_path / "no-uri.warc.gz"
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(4):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                f"https://w.example/{i}", "response", payload=BytesIO(article_html(f"Story {i}", 8)),
                http_headers=headers, warc_headers_dict={"WARC-Date": "2026-01-05T10:00:00Z"},
            )  # fmt: skip
            if i == 0:
                record.rec_headers.remove_header("WARC-Target-URI")
            writer.write_record(record)
        # an HTTP/2 response (as crawlers record them today) reads like any other
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/2")
        record = writer.create_warc_record(
            "https://w.example/h2", "response", payload=BytesIO(article_html("Story h2", 8)),
            http_headers=headers, warc_headers_dict={"WARC-Date": "2026-01-05T10:00:00Z"},
        )  # fmt: skip
        writer.write_record(record)
    counts = backfill(conn, settings, f"warc:{warc}")
    assert counts["pages_stored"] == 4 and counts["skip:invalid_url"] == 1, counts
    assert not any(k.startswith("failed:") for k in counts), counts
