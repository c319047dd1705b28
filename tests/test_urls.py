"""URL normalization and outlet (registered domain) of a URL."""

from __future__ import annotations

import pytest

from pipeline.errors import Skip
from pipeline.urls import normalize_url, source_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM:80/a?id=3#comments", "http://example.com/a?id=3"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com./x", "https://example.com/x"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("//cdn.example.com/a", "https://cdn.example.com/a"),
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&p=2&fbclid=abc&gclid=1",
            "https://example.com/a?p=2",
        ),
        ("https://example.com/a?mc_cid=1&mc_eid=2&b=1&a=2", "https://example.com/a?b=1&a=2"),
        ("https://science.example.org/content/1?rss=1", "https://science.example.org/content/1?rss=1"),
        ("https://münchen.example/x", "https://xn--mnchen-3ya.example/x"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize_url("HTTP://www.Example.com/p/a%20b?x=1&utm_campaign=z#f")
    assert normalize_url(once) == once


def test_relative_urls_resolve_against_base() -> None:
    assert normalize_url("../b?x=1", "https://h.example/a/c/d") == "https://h.example/a/b?x=1"
    assert normalize_url("/top", "https://h.example/a/c/d") == "https://h.example/top"


@pytest.mark.parametrize(
    ("wrapped", "target"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://www.reuters.com/world/x%3Fa%3D1&ct=ga&usg=AF",
            "https://www.reuters.com/world/x?a=1",
        ),
        ("https://www.google.co.uk/url?q=https://bbc.co.uk/news/1&sa=U", "https://bbc.co.uk/news/1"),
        (
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2Fa%3Futm_source%3Dfb&h=x",
            "https://example.com/a",
        ),
    ],
)
def test_redirect_wrappers_are_unwrapped(wrapped: str, target: str) -> None:
    assert normalize_url(wrapped) == target


def test_google_search_page_is_not_a_wrapper() -> None:
    assert normalize_url("https://www.google.com/search?q=https://x.example") == (
        "https://www.google.com/search?q=https://x.example"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "mailto:a@b.c",
        "javascript:alert(1)",
        "ftp://x.example/f",
        "http://",
        "http://h:99999/",
        "http://exa mple.com/a b",
        "http://a%20b.example/",
    ],
)
def test_invalid_urls_raise_skip(bad: str) -> None:
    with pytest.raises(Skip) as info:
        normalize_url(bad)
    assert info.value.reason == "invalid_url"


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://www.nytimes.com/2024/01/01/world/x.html", "nytimes.com"),
        ("https://www.bbc.co.uk/news/world-middle-east-1", "bbc.co.uk"),
        ("https://english.alarabiya.net/News/1", "alarabiya.net"),
        ("http://127.0.0.1:8080/a", "127.0.0.1"),
        ("http://[::1]:8080/a", "::1"),
        ("http://localhost/a", "localhost"),
    ],
)
def test_source_of(url: str, source: str) -> None:
    assert source_of(url) == source
