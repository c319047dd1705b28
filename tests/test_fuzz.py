"""Fuzzing the parsers that read hostile input: no exception but the project's named errors.

Targets: the URL normalizer, feed parsing, the extraction entry point, the WARC and sitemap readers,
the taxonomy loader. The default run gives each a small budget (`FUZZ_QUICK` inputs); the
`fuzz_long` marker runs the same properties with `FUZZ_LONG` inputs each, by hand:

    pytest -p no:cacheprovider -m fuzz_long tests/test_fuzz.py
"""

from __future__ import annotations

import contextlib
import gzip
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import NewsflowError

FUZZ_QUICK = 60
FUZZ_LONG = 2000
BUDGETS = [pytest.param(FUZZ_QUICK, id="quick"), pytest.param(FUZZ_LONG, id="long", marks=pytest.mark.fuzz_long)]

# Any code point: controls, private use, unassigned, lone surrogates (st.text leaves surrogates out).
CHARS = st.characters(blacklist_categories=())

# Pieces that make generated inputs reach the parsers' interesting paths, not only their first check.
URL_PARTS = st.sampled_from(["http://", "https://", "//", "HTTP://", "ftp://", "javascript:", "[", "]", "::",
                             "%", "%zz", "%00", "@", ":", ":99999", ":-1", "?", "#", "/", "..", "xn--", "\u0000",
                             "\u200b", "ﬀ", "example.com", "www.google.com/url?q=", "t.co", "127.0.0.1", "[::1]",
                             "utm_source=x", "&", "=", " ", "\t", "\\", "０", "ß", "ǅ", "%2F%2F"])  # fmt: skip
URLS = st.one_of(
    st.text(CHARS, max_size=80), st.lists(st.one_of(URL_PARTS, st.text(CHARS, max_size=6)), max_size=12).map("".join)
)

XML_PARTS = st.sampled_from(['<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="bogus"?>',
                             "<rss>", "</rss>", '<rss version="2.0">', "<channel>", "</channel>", "<item>", "</item>",
                             "<link>", "</link>", "<title>", "</title>", "<pubDate>", "</pubDate>",
                             '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>", "<entry>", "</entry>",
                             '<link href="', '"/>', "<urlset>", "</urlset>", "<sitemapindex>", "</sitemapindex>",
                             "<url>", "</url>", "<sitemap>", "</sitemap>", "<loc>", "</loc>", "<lastmod>",
                             "</lastmod>", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', "&e;", "&amp;",
                             "<![CDATA[", "]]>", "http://example.com/a", "2024-13-45", "Mon, 99 Foo 2024",
                             "javascript:alert(1)", "\x00", "\ufeff", "{", "}", '"items": [', "]"])  # fmt: skip
XMLISH = st.lists(st.one_of(XML_PARTS, st.text(CHARS, max_size=8)), max_size=30).map("".join)
XML_BYTES = st.one_of(st.binary(max_size=300), XMLISH.map(lambda s: s.encode("utf-8", "surrogatepass")))

HTML_PARTS = st.sampled_from(["<html>", "</html>", "<head>", "<body>", "<article>", "</article>", "<p>", "</p>",
                              "<script>", "</script>", '<meta charset="', '">', "utf-16", "shift_jis", "bogus",
                              "<title>", '<meta property="og:url" content="', '<link rel="canonical" href="',
                              '<time datetime="', "2024-02-30T25:61", "<div>", "</div>", "<table><tr><td>",
                              "<!--", "-->", "<![CDATA[", "\x00", "\ufeff", "\x1f\x8b", "%PDF", "<br>",
                              "Some words of a sentence. ", "<h1>", "</h1>", "&#0;", "&#xD800;", "<svg>"])  # fmt: skip
HTMLISH = st.lists(st.one_of(HTML_PARTS, st.text(CHARS, max_size=12)), max_size=40).map("".join)
HTML_INPUT = st.one_of(st.binary(max_size=400), HTMLISH, HTMLISH.map(lambda s: s.encode("utf-8", "surrogatepass")))

YAML_PARTS = st.sampled_from(["topics:", "\n", "  - id: ", "x", "    name: ", "    keywords: [", "]", "relevance:",
                              "require_any: [", "examples:", "*", "&a", "*a", "{", "}", ": ", "- ", "'", '"',
                              "!!python/object:os.system", "~", "1e999", "\t", "version: 1", "labels:",
                              "    description: "])  # fmt: skip
YAMLISH = st.lists(YAML_PARTS, max_size=40).map("".join)


def run(budget: int, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    @settings(max_examples=budget, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def prop(value: Any) -> None:
        with contextlib.suppress(NewsflowError):  # a named error (Skip, ConfigError) answers bad input
            check(value)

    prop()


@pytest.mark.parametrize("budget", BUDGETS)
def test_url_normalizer(budget: int) -> None:
    from pipeline.urls import normalize_url, source_of

    def check(value: tuple[str, str | None]) -> None:
        url = normalize_url(*value)
        assert isinstance(url, str) and normalize_url(url) == url  # normalizing twice changes nothing
        source_of(url)

    run(budget, st.tuples(URLS, st.one_of(st.none(), URLS)), check)


@pytest.mark.parametrize("budget", BUDGETS)
def test_feed_parser(budget: int) -> None:
    from pipeline.feeds.parse import parse_feed

    run(budget, XML_BYTES, lambda body: parse_feed(body, url="http://example.com/feed"))


@pytest.mark.parametrize("budget", BUDGETS)
def test_extraction_entry_point(budget: int) -> None:
    from pipeline.extract.core import extract

    run(budget, st.tuples(HTML_INPUT, st.one_of(st.none(), URLS)), lambda value: extract(*value))


@pytest.mark.parametrize("budget", BUDGETS)
def test_sitemap_reader(budget: int) -> None:
    from pipeline.sources.sitemaps import parse_sitemap

    bodies = st.one_of(XML_BYTES, XML_BYTES.map(gzip.compress), XML_BYTES.map(lambda b: gzip.compress(b)[:-7]))
    run(budget, bodies, lambda body: parse_sitemap(body, "http://example.com/sitemap.xml", Counter()))


WARC_RECORD = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.com/a\r\n"
               b"WARC-Date: 2024-01-05T10:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
               b"Content-Length: 95\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
               b"<html><body><p>An archived page with some text.</p></body></html>\r\n\r\n")  # fmt: skip
WARC_BYTES = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.integers(0, len(WARC_RECORD)), st.binary(max_size=40)).map(
        lambda cut: WARC_RECORD[: cut[0]] + cut[1] + WARC_RECORD[cut[0] :]
    ),
    st.integers(0, len(WARC_RECORD)).map(lambda n: gzip.compress(WARC_RECORD)[:n]),
    st.binary(max_size=60).map(lambda b: gzip.compress(WARC_RECORD + b)),
)


@pytest.mark.parametrize("budget", BUDGETS)
def test_warc_reader(budget: int) -> None:
    from pipeline.sources.warc import read_warc

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.warc.gz"

        def check(data: bytes) -> None:
            path.write_bytes(data)
            counts: Counter[str] = Counter()
            pages = list(read_warc(path, counts, start=None, end=None, max_bytes=100_000))
            assert pages or counts  # every file either gives pages or says why not

        run(budget, WARC_BYTES, check)


@pytest.mark.parametrize("budget", BUDGETS)
def test_taxonomy_loader(budget: int) -> None:
    from pipeline.classify.taxonomy import load_taxonomy

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "topics.yaml"

        def check(text: str) -> None:
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
            load_taxonomy(path)

        run(budget, st.one_of(YAMLISH, st.text(CHARS, max_size=200)), check)
