"""The demo news site: real HTTP on 127.0.0.1, feeds parsed with feedparser. Needs no database."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest
import yaml

from pipeline.demo import DemoSite, feeds_yaml

REFERENCE = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite(reference_time=REFERENCE) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def _parse(client: httpx.Client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    return feedparser.parse(response.content, response_headers=dict(response.headers))


def _house_style(text: str) -> str:
    return text.replace("the Islamic State", "ISIS").replace("Islamic State", "ISIS").replace("American", "U.S.")


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def test_feeds_together_list_every_page_with_absolute_links(site: DemoSite, client: httpx.Client) -> None:
    rss, atom = _parse(client, site.rss_url), _parse(client, site.atom_url)
    assert not rss.bozo and not atom.bozo
    assert rss.version == "rss20" and atom.version == "atom10"
    rss_links = [e.link for e in rss.entries]
    atom_links = [e.link for e in atom.entries]
    assert all(link.startswith(site.base_url + "/") for link in rss_links + atom_links)
    listed = {_strip_query(link) for link in rss_links + atom_links}
    assert listed == {site.base_url + a.path for a in site.articles}
    assert 0 < len(set(rss_links) & set(atom_links)) < min(len(rss_links), len(atom_links))
    tracked = [link for link in rss_links if "utm_source=rss" in link and "utm_medium=feed" in link]
    assert len(tracked) == 1


def test_feed_dates_match_publication_times(site: DemoSite, client: httpx.Client) -> None:
    by_url = {site.base_url + a.path: a for a in site.articles}
    raw_rss = client.get(site.rss_url).text
    assert re.search(r"<pubDate>\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT</pubDate>", raw_rss)
    for feed_url in (site.rss_url, site.atom_url):
        for entry in _parse(client, feed_url).entries:
            expected = by_url[_strip_query(entry.link)].published_at
            parsed = datetime(*entry.published_parsed[:6], tzinfo=UTC)
            assert parsed == expected, entry.link


def test_feed_links_resolve(site: DemoSite, client: httpx.Client) -> None:
    links = {e.link for e in _parse(client, site.rss_url).entries}
    links |= {e.link for e in _parse(client, site.atom_url).entries}
    statuses = {link: client.get(link).status_code for link in links}
    errors = {_strip_query(link) for link, code in statuses.items() if code != 200}
    assert errors == {site.base_url + a.path for a in site.articles if a.kind == "error"}
    assert set(statuses.values()) == {200, 500}


def test_article_page_holds_body_and_boilerplate(site: DemoSite, client: httpx.Client) -> None:
    for art in site.articles:
        if art.kind == "error":
            continue
        response = client.get(site.url_for(art.slug))
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = html.unescape(response.text)
        assert all(p in page for p in art.body_paragraphs), art.slug
        assert all(b in page for b in art.boilerplate), art.slug
        assert not any(b in p for b in art.boilerplate for p in art.body_paragraphs), art.slug


def test_article_metadata(site: DemoSite, client: httpx.Client) -> None:
    with_ld = 0
    for art in site.articles:
        if art.kind in {"error", "empty"}:
            continue
        page = client.get(site.url_for(art.slug)).text
        assert f"<title>{html.escape(art.title)} | " in page
        blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
        if blocks:
            with_ld += 1
            data = json.loads(blocks[0])
            assert data["@type"] == "NewsArticle" and data["headline"] == art.title
            assert datetime.fromisoformat(data["datePublished"]) == art.published_at
            assert f'<link rel="canonical" href="{site.url_for(art.slug)}">' in page
            assert 'property="article:published_time"' in page
        else:  # only the visible byline and date
            assert f"By {art.author}" in page and "Published " in page
    rich = [a for a in site.articles if a.kind not in {"error", "empty"}]
    assert len(rich) - 4 <= with_ld < len(rich)


def test_on_topic_stories_carry_numbers_and_relative_days(site: DemoSite) -> None:
    news = [a for a in site.articles if a.kind == "news"]
    assert len(news) >= 10
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    for art in news:
        text = " ".join(art.body_paragraphs)
        assert art.topics and 150 <= len(text.split()) <= 500, art.slug
        assert re.search(r"\d", text), art.slug
        assert "{day" not in text
        named = [d for d in days if f"on {d}" in text]
        assert named or "last month" in text or "last week" in text, art.slug
    yesterday = (REFERENCE - timedelta(hours=5, days=1)).strftime("%A")
    kirkuk = site.article("kirkuk-bus-station-suicide-bombing")
    assert f"on {yesterday} evening" in kirkuk.body_paragraphs[0]


def test_syndicated_copy_is_later_shorter_and_restyled(site: DemoSite, client: httpx.Client) -> None:
    copy = next(a for a in site.articles if a.kind == "copy")
    assert copy.original_slug is not None
    original = site.article(copy.original_slug)
    assert original.published_at < copy.published_at <= original.published_at + timedelta(days=1)
    assert copy.path.startswith("/partner/") and copy.title != original.title
    copy_words = len(" ".join(copy.body_paragraphs).split())
    assert copy_words < 0.8 * len(" ".join(original.body_paragraphs).split())
    text = " ".join(copy.body_paragraphs)
    assert "ISIS" in text and "Islamic State" not in text and "American" not in text
    assert copy.body_paragraphs[0] == "See more of the story"
    kept = [_house_style(p) for p in original.body_paragraphs[:4]]
    assert all(p in copy.body_paragraphs for p in kept)
    page = html.unescape(client.get(site.url_for(copy.slug)).text)
    assert f"By {original.author}, The Levant Ledger" in page
    assert "The Euphrates Courier" in page


def test_dates_are_deterministic_and_in_window(site: DemoSite) -> None:
    for art in site.articles:
        assert REFERENCE - timedelta(days=3) <= art.published_at <= REFERENCE - timedelta(hours=1)
    again = DemoSite(reference_time=REFERENCE)
    try:
        assert [(a.path, a.published_at) for a in again.articles] == [(a.path, a.published_at) for a in site.articles]
    finally:
        again.stop()
    kinds = {a.kind for a in site.articles}
    assert kinds == {"news", "copy", "aggregator", "offtopic", "empty", "error"}


def test_extra_routes(site: DemoSite, client: httpx.Client) -> None:
    robots = client.get(site.base_url + "/robots.txt")
    assert robots.status_code == 200 and "Allow: /" in robots.text
    home = client.get(site.base_url + "/").text
    assert '<link rel="alternate" type="application/rss+xml" href="/feeds/rss.xml">' in home
    assert all(a.path in home for a in site.articles)
    assert client.get(site.base_url + "/no/such/page").status_code == 404
    error = next(a for a in site.articles if a.kind == "error")
    assert client.get(site.url_for(error.slug)).status_code == 500
    head = client.head(site.rss_url)
    assert head.status_code == 200 and head.headers["content-type"].startswith("application/rss+xml")
    assert client.get(site.atom_url).headers["content-type"].startswith("application/atom+xml")


def test_feed_etag_gives_304(site: DemoSite, client: httpx.Client) -> None:
    first = client.get(site.rss_url)
    again = client.get(site.rss_url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_request_log_records_paths_with_query(site: DemoSite, client: httpx.Client) -> None:
    client.get(site.base_url + "/robots.txt?probe=1")
    path, when = site.request_log[-1]
    assert path == "/robots.txt?probe=1"
    assert when.tzinfo is not None


def test_feeds_yaml_lists_both_feeds(site: DemoSite) -> None:
    feeds = yaml.safe_load(feeds_yaml(site))["feeds"]
    assert [f["url"] for f in feeds] == [site.rss_url, site.atom_url]
    assert all(f["name"] and f["poll_interval"] > 0 and isinstance(f["topic_hints"], list) for f in feeds)


def test_server_stops_and_rejects_naive_time() -> None:
    with DemoSite(reference_time=REFERENCE) as running:
        assert httpx.get(running.rss_url, timeout=5).status_code == 200
        url = running.rss_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    with pytest.raises(ValueError, match="timezone-aware"):
        DemoSite(reference_time=datetime(2025, 1, 1))


def test_copy_keeps_original_weekdays_across_midnight() -> None:
    late = DemoSite(reference_time=datetime(2025, 3, 14, 20, 0, tzinfo=UTC))
    try:
        copy = next(a for a in late.articles if a.kind == "copy")
        assert copy.original_slug is not None
        original = late.article(copy.original_slug)
        assert copy.published_at.date() != original.published_at.date()
        assert original.body_paragraphs[0] in copy.body_paragraphs
    finally:
        late.stop()
