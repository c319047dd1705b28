"""The Fetcher's pieces against a real local server: politeness, robots.txt, retries, guards."""

from __future__ import annotations

import gzip
import ipaddress
import time
from typing import Any

import pytest
from httpfaults import FaultServer, Route, loopback_settings

from pipeline.errors import Skip
from pipeline.fetch.http import (
    AddressGuard,
    BodyDecoder,
    Fetcher,
    FetchError,
    backoff_delay,
    detect_charset,
    is_internal,
    parse_retry_after,
    run_sync,
)

pytestmark = pytest.mark.usefixtures("fast_backoff")


def fetch_all(settings: Any, urls: list[str]) -> list[Any]:
    import asyncio

    async def run() -> list[Any]:
        async with Fetcher(settings) as fetcher:

            async def one(url: str) -> Any:
                try:
                    return await fetcher.get(url)
                except (Skip, FetchError) as exc:
                    return exc

            return list(await asyncio.gather(*(one(u) for u in urls)))

    return run_sync(run)


def test_per_host_delay_and_concurrency_are_kept() -> None:
    with FaultServer() as srv:
        srv.add("/robots.txt", Route(body=b"User-agent: *\nCrawl-delay: 0.2\n", content_type="text/plain"))
        for i in range(6):
            srv.add(f"/p/{i}", Route(body=b"<html>x</html>", delay_s=0.05))
        settings = loopback_settings(per_host_delay_s=0.05, per_host_concurrency=2, concurrency=16)
        results = fetch_all(settings, [srv.url(f"/p/{i}") for i in range(6)])
        assert all(r.status == 200 for r in results)
        starts = sorted(r.at for r in srv.requests if r.path.startswith("/p/"))
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
        assert min(gaps) >= 0.19  # robots.txt's crawl-delay (0.2 s) is larger than the setting, so it wins


def test_distinct_hosts_are_fetched_in_parallel() -> None:
    with FaultServer("127.0.0.2") as a, FaultServer("127.0.0.3") as b:
        for srv in (a, b):
            for i in range(3):
                srv.add(f"/p/{i}", Route(body=b"<html>x</html>"))
        settings = loopback_settings(per_host_delay_s=0.3, per_host_concurrency=1)
        started = time.monotonic()
        results = fetch_all(settings, [s.url(f"/p/{i}") for s in (a, b) for i in range(3)])
        elapsed = time.monotonic() - started
        assert all(r.status == 200 for r in results)
        assert 0.6 <= elapsed < 1.2  # 3 per host at 0.3 s apart, both hosts at once (not 6 x 0.3 s)


def test_robots_missing_allows_and_robots_error_defers() -> None:
    with FaultServer("127.0.0.4") as missing, FaultServer("127.0.0.5") as broken:
        missing.add("/a", Route(body=b"<html>a</html>"))
        broken.add("/robots.txt", Route(body=b"", status=500))
        broken.add("/a", Route(body=b"<html>a</html>"))
        ok, deferred = fetch_all(loopback_settings(retries=0), [missing.url("/a"), broken.url("/a")])
        assert ok.status == 200
        assert isinstance(deferred, FetchError) and deferred.reason == "robots_unavailable"
        assert broken.hits("/a") == 0


def test_user_agent_and_retry_after_date() -> None:
    with FaultServer() as srv:
        srv.add("/a", Route(body=b"<html>a</html>", fail_times=1, fail_status=503,
                            fail_headers={"Retry-After": "0"}))  # fmt: skip
        (result,) = fetch_all(loopback_settings(user_agent="newsflow-test/1 (+https://x.example)"), [srv.url("/a")])
        assert result.status == 200 and result.attempts == 2
        agents = {r.headers.get("user-agent") for r in srv.requests}
        assert agents == {"newsflow-test/1 (+https://x.example)"}
    assert parse_retry_after("120") == 120.0
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (parse_retry_after(later) or 0) <= 31
    assert parse_retry_after("soon") is None


def test_backoff_grows_and_honours_retry_after() -> None:
    assert all(0 <= backoff_delay(1, None, base=1.0) <= 1.0 for _ in range(50))
    assert all(0 <= backoff_delay(4, None, base=1.0) <= 8.0 for _ in range(50))
    assert max(backoff_delay(4, None, base=1.0) for _ in range(200)) > 2.0
    assert all(backoff_delay(1, 5.0) >= 5.0 for _ in range(50))


def test_too_long_retry_after_is_not_waited_for() -> None:
    with FaultServer() as srv:
        srv.add("/a", Route(body=b"", status=429, headers={"Retry-After": "3600"}))
        started = time.monotonic()
        (result,) = fetch_all(loopback_settings(), [srv.url("/a")])
        assert isinstance(result, FetchError) and result.reason == "rate_limited"
        assert time.monotonic() - started < 1.0 and srv.hits("/a") == 1


@pytest.mark.parametrize(
    ("address", "internal"),
    [("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.1", True), ("169.254.169.254", True),
     ("224.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("fe80::1", True), ("8.8.8.8", False),
     ("2001:4860:4860::8888", False)],
)  # fmt: skip
def test_internal_addresses(address: str, internal: bool) -> None:
    assert is_internal(ipaddress.ip_address(address)) is internal


def test_address_guard_allow_list() -> None:
    import asyncio

    async def verdict(allow: tuple[str, ...], host: str) -> str:
        try:
            await AddressGuard(allow).check(host, 80)
        except Skip as exc:
            return exc.reason
        return "ok"

    assert asyncio.run(verdict((), "127.0.0.1")) == "blocked_address"
    assert asyncio.run(verdict((), "localhost")) == "blocked_address"
    assert asyncio.run(verdict(("127.0.0.0/8",), "127.0.0.9")) == "ok"
    assert asyncio.run(verdict(("localhost",), "localhost")) == "ok"
    assert asyncio.run(verdict(("10.0.0.0/8",), "127.0.0.1")) == "blocked_address"


def test_body_decoder_limits() -> None:
    small = gzip.compress(b"<p>hello</p>" * 100)
    assert BodyDecoder("gzip", 10_000).feed(small) == b"<p>hello</p>" * 100
    with pytest.raises(Skip, match="decompression_bomb"):
        BodyDecoder("gzip", 1_000_000).feed(gzip.compress(b"\0" * 50_000_000))
    with pytest.raises(Skip, match="too_large"):
        BodyDecoder("", 100).feed(b"x" * 101)
    with pytest.raises(Skip, match="unsupported_encoding"):
        BodyDecoder("br", 100)


@pytest.mark.parametrize(
    ("body", "ctype", "charset"),
    [
        ("café".encode("latin-1"), "text/html; charset=ISO-8859-1", "iso8859-1"),
        (b'<meta charset="windows-1256"><p>x</p>', "text/html", "cp1256"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><rss/>', None, "iso8859-1"),
        ("السلام عليكم".encode(), "text/html", "utf-8"),
        ("\ufeffhello".encode(), None, "utf-8"),
    ],
)
def test_detect_charset(body: bytes, ctype: str | None, charset: str) -> None:
    assert detect_charset(body, ctype) == charset


def test_detect_charset_without_declaration_guesses_legacy_text() -> None:
    text = "Les forces de sécurité ont arrêté trois suspects à Raqqa, a déclaré un porte-parole. " * 5
    assert "café".encode(detect_charset(text.encode("cp1252"))) == "café".encode("cp1252")
    assert text.encode("cp1252").decode(detect_charset(text.encode("cp1252"))) == text
