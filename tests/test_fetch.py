"""Stage 2 against a real HTTP server on 127.0.0.1 that injects faults: good pages arrive once,
bad ones are counted by reason, a rerun changes nothing."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest
from httpfaults import FaultServer, Route, html_page, loopback_settings, redirect

from pipeline.fetch import fetch_pages
from pipeline.fetch.store import FrontierItem, add_to_frontier, load_raw_body, pending_frontier, store_raw_page
from pipeline.urls import normalize_url

LATIN1_TEXT = "Le président a déclaré que la sécurité à Mossoul était rétablie"


@pytest.fixture()
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        srv.add("/robots.txt", Route(body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
        srv.add("/good/1", Route(body=html_page("One", ["Good article one."])))
        srv.add("/good/2", Route(body=html_page("Two", ["Good article two."]), encoding="gzip"))
        srv.add("/latin1", Route(body=html_page("Mossoul", [LATIN1_TEXT], charset="iso-8859-1"),
                                 content_type="text/html"))  # fmt: skip
        srv.add("/flaky500", Route(body=html_page("Flaky", ["Recovers."]), fail_times=1, fail_status=500))
        srv.add("/limited", Route(body=html_page("Limited", ["Rate limited."]), fail_times=1, fail_status=429,
                                  fail_headers={"Retry-After": "1"}))  # fmt: skip
        srv.add("/down", Route(body=b"", status=503))
        srv.add("/gone", Route(body=b"gone", status=410, content_type="text/plain"))
        srv.add("/forbidden-4xx", Route(body=b"no", status=403, content_type="text/plain"))
        srv.add("/hang", Route(body=html_page("Hang", ["late"]), delay_s=5))
        srv.add("/drip", Route(body=html_page("Drip", ["x" * 2000]), drip_s=0.3, drip_chunk=50))
        srv.add("/huge", Route(endless=True))
        srv.add("/declared-huge", Route(body=b"<html></html>", declared_length=50_000_000))
        srv.add("/bomb", Route(body=b"\0" * 20_000_000, encoding="gzip"))
        srv.add("/pdf", Route(body=b"%PDF-1.4", content_type="application/pdf"))
        srv.add("/loop/a", redirect("/loop/b"))
        srv.add("/loop/b", redirect("/loop/a"))
        for i in range(7):
            srv.add(f"/chain/{i}", redirect(f"/chain/{i + 1}", status=301))
        srv.add("/moved", redirect("/good/1", status=301))
        srv.add("/private/secret", Route(body=html_page("Secret", ["robots forbid this"])))
        yield srv


EXPECTED = {
    "/good/1": "fetched",
    "/good/2": "fetched",
    "/latin1": "fetched",
    "/flaky500": "fetched",
    "/limited": "fetched",
    "/moved": "fetched",
    "/down": "failed:http_503",
    "/hang": "failed:timeout",
    "/drip": "failed:timeout",
    "/gone": "skip:http_410",
    "/forbidden-4xx": "skip:http_403",
    "/missing": "skip:http_404",
    "/huge": "skip:too_large",
    "/declared-huge": "skip:too_large",
    "/bomb": "skip:decompression_bomb",
    "/pdf": "skip:bad_content_type",
    "/loop/a": "skip:redirect_loop",
    "/chain/0": "skip:too_many_redirects",
    "/private/secret": "skip:robots_disallowed",
}


def _queue(conn: Any, server: FaultServer, paths: list[str]) -> list[int]:
    add_to_frontier(conn, [FrontierItem(normalize_url(server.url(p)), "test") for p in paths])
    conn.commit()
    return pending_frontier(conn)


def _counts(expected: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for outcome in expected.values():
        out[outcome] = out.get(outcome, 0) + 1
    return out


def test_fetch_with_faults_counts_by_reason_and_reruns_change_nothing(
    conn: Any, server: FaultServer, fast_backoff: None
) -> None:
    settings = loopback_settings(max_page_bytes=1_000_000, http_timeout_s=1.0, retries=2)
    ids = _queue(conn, server, list(EXPECTED))
    counts, raw_ids = fetch_pages(conn, settings, ids, run_id=7)
    conn.commit()
    assert counts == _counts(EXPECTED)
    assert len(raw_ids) == len(set(raw_ids)) == 6

    states = dict(conn.execute("SELECT url, coalesce(last_reason, state) FROM frontier").fetchall())
    for path, outcome in EXPECTED.items():
        want = "fetched" if outcome == "fetched" else outcome.split(":", 1)[1]
        assert states[normalize_url(server.url(path))] == want, path

    # The 500 and the 429 were retried (the 429 not before its Retry-After), the 410 never.
    assert server.hits("/flaky500") == 2 and server.hits("/limited") == 2
    assert server.hits("/gone") == 1 and server.hits("/missing") == 1
    limited = [r.at for r in server.requests if r.path == "/limited"]
    assert limited[1] - limited[0] >= 1.0
    assert server.hits("/down") == 3  # first try + 2 retries
    assert server.hits("/private/secret") == 0
    assert server.hits("/robots.txt") == 1

    # The fetch log has a row per page and the robots.txt fetch.
    log = dict(conn.execute("SELECT kind, count(*) FROM fetch_log WHERE run_id = 7 GROUP BY kind").fetchall())
    assert log == {"page": len(EXPECTED), "robots": 1}

    # Rerun: pending holds only the temporary failures; fetching them again stores nothing new.
    before = conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
    again = pending_frontier(conn)
    assert {normalize_url(server.url(p)) for p in ("/down", "/hang", "/drip")} == set(
        r[0] for r in conn.execute("SELECT url FROM frontier WHERE id = ANY(%s)", (again,)).fetchall()
    )
    # Fetching the stored rows again returns their raw pages without a request.
    hits_before = server.hits("/good/1")
    good = [normalize_url(server.url(p)) for p in ("/good/1", "/good/2")]
    good_ids = [r[0] for r in conn.execute("SELECT id FROM frontier WHERE url = ANY(%s) ORDER BY id", (good,))]
    stored = [r[0] for r in conn.execute("SELECT id FROM raw_pages WHERE url = ANY(%s)", (good,))]
    counts2, raw_ids2 = fetch_pages(conn, settings, good_ids)
    assert counts2 == {"already_fetched": 2} and sorted(raw_ids2) == sorted(stored) and len(stored) == 2
    assert server.hits("/good/1") == hits_before
    assert conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == before


def test_stored_pages_keep_bytes_charset_and_final_url(conn: Any, server: FaultServer, fast_backoff: None) -> None:
    ids = _queue(conn, server, ["/latin1", "/good/2", "/moved"])
    counts, raw_ids = fetch_pages(conn, loopback_settings(), ids)
    assert counts == {"fetched": 3}
    query = "SELECT url, id, charset, final_url, content_type, body_bytes FROM raw_pages"
    rows = {r[0]: r[1:] for r in conn.execute(query).fetchall()}
    latin = rows[normalize_url(server.url("/latin1"))]
    assert latin[1] == "iso8859-1"
    assert LATIN1_TEXT in load_raw_body(conn, latin[0]).decode(latin[1])
    gz = rows[normalize_url(server.url("/good/2"))]
    assert load_raw_body(conn, gz[0]).startswith(b"<!DOCTYPE html>")  # stored decoded, compressed by us
    moved = rows[normalize_url(server.url("/moved"))]
    assert moved[2] == server.url("/good/1")


def test_store_raw_page_is_idempotent(conn: Any) -> None:
    body = b"<html><body>x</body></html>"
    first = store_raw_page(conn, url="http://Example.com/a?utm_source=x", body=body, source="test")
    second = store_raw_page(conn, url="http://example.com/a", body=b"other", source="test")
    assert first is not None and first == second
    stored = conn.execute("SELECT body_gz, body_bytes, body_sha256 FROM raw_pages").fetchall()
    assert len(stored) == 1 and gzip.decompress(stored[0][0]) == body and stored[0][1] == len(body)
    assert store_raw_page(conn, url="http://example.com/empty", body=b"", source="test") is None


def test_private_addresses_are_refused_by_default(conn: Any, server: FaultServer) -> None:
    ids = _queue(conn, server, ["/good/1"])
    counts, raw_ids = fetch_pages(conn, loopback_settings(allow_private=()), ids)
    assert counts == {"skip:blocked_address": 1} and raw_ids == []
    assert server.requests == []  # not even robots.txt was asked for


def test_known_article_urls_are_not_fetched(conn: Any, server: FaultServer) -> None:
    url = normalize_url(server.url("/good/1"))
    ids = _queue(conn, server, ["/good/1"])
    raw = store_raw_page(conn, url="http://elsewhere.example/a", body=b"<html></html>", source="t")
    article = conn.execute(
        """INSERT INTO articles (url, raw_page_id, source, text, word_count, content_hash, extractor)
           VALUES ('http://elsewhere.example/a', %s, 'elsewhere.example', 'x', 1, 'h', 't') RETURNING id""",
        (raw,),
    ).fetchone()[0]
    conn.execute("INSERT INTO article_urls (url, article_id, kind) VALUES (%s, %s, 'canonical')", (url, article))
    counts, raw_ids = fetch_pages(conn, loopback_settings(), ids)
    assert counts == {"already_known": 1} and raw_ids == []
    assert server.hits("/good/1") == 0
    # And the frontier does not take a known address at all.
    assert add_to_frontier(conn, [FrontierItem(url, "again")]) == {"known": 1}
