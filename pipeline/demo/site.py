"""A small fictional news site served on 127.0.0.1, for `newsflow demo` and the end-to-end tests.

`DemoSite` renders every page once at start (dates computed from `reference_time`), then serves them
from a stdlib `ThreadingHTTPServer` on a background thread. Content lives in `pipeline.demo.content`.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

import yaml

from pipeline.demo import content
from pipeline.demo.content import Story

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
TRACKING_QUERY = "utm_source=rss&utm_medium=feed&utm_campaign=morning"
TRACKED_SLUG = "hamrin-air-strikes-kill-nine"
_DAY_TOKEN = re.compile(r"\{day(-?\d+)\}")


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    path: str
    title: str
    author: str | None
    published_at: datetime  # UTC
    kind: str  # news | copy | aggregator | offtopic | empty | error
    topics: tuple[str, ...]
    body_paragraphs: tuple[str, ...]  # the true main text
    boilerplate: tuple[str, ...]  # on the page, but must not be in the extracted text
    original_slug: str | None


class BackgroundServer:
    """A threading HTTP server on a daemon thread: `start` serves, `stop` shuts it down and closes it."""

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._name = name
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes


class DemoSite:
    """The demo news site. Use as a context manager; the server thread stops on exit."""

    def __init__(
        self,
        reference_time: datetime | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        outlets: int = 1,
        second_port: int = 0,
    ):
        if reference_time is None:
            reference_time = datetime.now(UTC).replace(second=0, microsecond=0)
        if reference_time.tzinfo is None:
            raise ValueError("reference_time must be timezone-aware")
        self.reference_time = reference_time.astimezone(UTC)
        self.request_log: list[tuple[str, datetime]] = []
        self._log_lock = threading.Lock()
        self._server = BackgroundServer(host, port, _make_handler(self._lookup, self._record), "demo-site")
        bound_port = self._server.port
        self.base_url = f"http://{host}:{bound_port}"
        self.rss_url = f"{self.base_url}/feeds/rss.xml"
        self.atom_url = f"{self.base_url}/feeds/atom.xml"
        self._stories = {s.slug: s for s in content.all_stories()}
        self.articles = [self._article(s, i) for i, s in enumerate(self._stories.values())]
        self._pages = self._render_all()
        # outlets=2: a second, independent outlet on 127.0.0.2 (pipeline.demo.outlets) that reports one
        # of this site's events in its own words, so the merge across outlets can be seen.
        self.second = None
        if outlets > 1:
            from pipeline.demo.outlets import SecondOutlet

            self.second = SecondOutlet(self.reference_time, port=second_port)

    # -- public API ---------------------------------------------------------------------------
    def url_for(self, slug: str) -> str:
        return self.base_url + self.article(slug).path

    def article(self, slug: str) -> DemoArticle:
        for art in self.articles:
            if art.slug == slug:
                return art
        raise KeyError(f"no demo article {slug!r}")

    def start(self) -> DemoSite:
        if self.second is not None:
            self.second.start()
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self.second is not None:
            self.second.stop()

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- building -----------------------------------------------------------------------------
    def _article(self, story: Story, index: int) -> DemoArticle:
        published = self.reference_time - story.age
        written = self.reference_time - (story.text_age or story.age)
        return DemoArticle(
            slug=story.slug,
            path=_path(story, published),
            title=story.title,
            author=story.author,
            published_at=published,
            kind=story.kind,
            topics=story.topics,
            body_paragraphs=tuple(_fill(p, _local(story, written)) for p in story.paragraphs),
            boilerplate=self._boilerplate(story, index),
            original_slug=story.original_slug,
        )

    def _boilerplate(self, story: Story, index: int) -> tuple[str, ...]:
        if story.kind == "error":
            return ()
        items = [content.NEWSLETTER_PROMPT, content.COOKIE_NOTICE]
        if story.kind == "empty":
            return tuple(items)
        items += [story.caption, _comments(index)[0][1], self._related(story)[0].title]
        if story.kind == "aggregator":
            items += [content.AGGREGATOR_BOILERPLATE[0], *(text for _, text in story.extras)]
        return tuple(items)

    def _related(self, story: Story) -> list[Story]:
        pool = [s for s in self._stories.values() if s.kind in {"news", "copy", "offtopic", "aggregator"}]
        start = next((i for i, s in enumerate(pool) if s.slug == story.slug), 0)
        return [pool[(start + k) % len(pool)] for k in range(1, 4)]

    def _render_all(self) -> dict[str, Page]:
        pages = {
            "/": Page(200, HTML, render_home(self).encode()),
            "/robots.txt": Page(200, TEXT, b"User-agent: *\nAllow: /\n"),
            "/feeds/rss.xml": Page(200, RSS, render_rss(self).encode()),
            "/feeds/atom.xml": Page(200, ATOM, render_atom(self).encode()),
        }
        for index, art in enumerate(self.articles):
            story = self._stories[art.slug]
            if art.kind == "error":
                pages[art.path] = Page(500, TEXT, b"Internal Server Error\n")
            else:
                text = render_article(self, story, art, self._related(story), _comments(index))
                pages[art.path] = Page(200, HTML, text.encode())
        return pages

    # -- serving ------------------------------------------------------------------------------
    def _lookup(self, path: str) -> Page | None:
        return self._pages.get(urlsplit(path).path)

    def _record(self, path: str) -> None:
        with self._log_lock:
            self.request_log.append((path, datetime.now(UTC)))


def feeds_yaml(site: DemoSite) -> str:
    """A feeds.yaml text listing the site's two feeds (poll_interval in seconds), and the second outlet's."""
    feeds = [
        {
            "name": f"{content.OUTLET} (RSS)",
            "url": site.rss_url,
            "poll_interval": 900,
            "topic_hints": ["attacks", "military-ops"],
        },
        {
            "name": f"{content.OUTLET} (Atom)",
            "url": site.atom_url,
            "poll_interval": 1800,
            "topic_hints": ["detention", "foreign-fighters"],
        },
    ]
    if site.second is not None:
        from pipeline.demo.outlets import SECOND_OUTLET

        feeds.append({"name": f"{SECOND_OUTLET} (RSS)", "url": site.second.rss_url, "poll_interval": 900})
    return yaml.safe_dump({"feeds": feeds}, sort_keys=False)


# -- helpers --------------------------------------------------------------------------------------
def _local(story: Story, published: datetime) -> datetime:
    return published.astimezone(timezone(timedelta(hours=story.utc_offset_hours)))


def _fill(template: str, published: datetime) -> str:
    """Replace `{day-N}` with the weekday name N days from the publication date."""
    return _DAY_TOKEN.sub(lambda m: (published + timedelta(days=int(m.group(1)))).strftime("%A"), template)


def _path(story: Story, published: datetime) -> str:
    if story.kind == "aggregator":
        return f"/digest/{story.slug}"
    if story.kind in {"empty", "error"}:
        return f"/{story.section}/{story.slug}"
    return f"/{story.section}/{published:%Y/%m/%d}/{story.slug}"


def _comments(index: int) -> list[tuple[str, str]]:
    n = len(content.COMMENTS)
    picked = [content.COMMENTS[(2 * index) % n], content.COMMENTS[(2 * index + 1) % n]]
    if index % 3 == 0:
        picked.append(content.COMMENTS[(2 * index + 5) % n])
    return picked


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _human_date(dt: datetime) -> str:
    return f"{dt.day} {dt:%B %Y, %H:%M} GMT"


def _feed_link(site: DemoSite, art: DemoArticle) -> str:
    url = site.base_url + art.path
    return f"{url}?{TRACKING_QUERY}" if art.slug == TRACKED_SLUG else url


def _in_feed(site: DemoSite, art: DemoArticle, feed: str) -> bool:
    return site._stories[art.slug].feeds in {feed, "both"}


def _summary(art: DemoArticle) -> str:
    return next((p for p in art.body_paragraphs if p != content.SEE_MORE_LINE), art.title)


# -- HTML -----------------------------------------------------------------------------------------
def _masthead(story: Story) -> tuple[str, str]:
    if story.kind == "copy":
        return content.PARTNER_OUTLET, "Partner content"
    if story.kind == "aggregator":
        return content.AGGREGATOR_OUTLET, "Top stories from around the web"
    return content.OUTLET, "Independent reporting from Syria, Iraq and the Levant"


def _head(site: DemoSite, story: Story, art: DemoArticle) -> str:
    outlet, _ = _masthead(story)
    url = site.base_url + art.path
    parts = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(art.title)} | {_e(outlet)}</title>",
        f'<link rel="alternate" type="application/rss+xml" title="{_e(content.OUTLET)}" href="/feeds/rss.xml">',
        '<link rel="stylesheet" href="/static/site.css">',
    ]
    if story.rich_meta and story.kind != "empty":
        published = _local(story, art.published_at).isoformat()
        parts += [
            f'<meta property="og:title" content="{_e(art.title)}">',
            f'<meta property="og:url" content="{_e(url)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:site_name" content="{_e(outlet)}">',
            f'<link rel="canonical" href="{_e(url)}">',
            f'<meta name="description" content="{_e(_summary(art))}">',
        ]
        if art.author:
            parts.append(f'<meta name="author" content="{_e(art.author)}">')
        parts.append(f'<meta property="article:published_time" content="{published}">')
        parts.append(_json_ld(art, url, published, outlet))
    else:
        parts.append(f'<meta property="og:title" content="{_e(art.title)}">')
    return "\n".join(parts)


def _json_ld(art: DemoArticle, url: str, published: str, outlet: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": art.title,
        "url": url,
        "datePublished": published,
        "author": [{"@type": "Person", "name": art.author}] if art.author else [],
        "publisher": {"@type": "Organization", "name": outlet},
    }
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


def _header(story: Story, nav: bool = True) -> str:
    outlet, tagline = _masthead(story)
    sections = ("middle-east", "analysis", "business", "sport", "culture", "in-pictures") if nav else ()
    links = "".join(f'<li><a href="/#{s}">{s.replace("-", " ").title()}</a></li>' for s in sections)
    return (
        f'<div class="cookie-banner" role="dialog"><p>{_e(content.COOKIE_NOTICE)}</p>'
        '<button type="button">Accept all</button> <button type="button">Settings</button></div>\n'
        f'<header class="masthead"><a class="logo" href="/">{_e(outlet)}</a>'
        f'<p class="tagline">{_e(tagline)}</p>'
        f'<nav aria-label="Sections"><ul>{links}</ul></nav>'
        '<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>'
    )


def _byline(story: Story, art: DemoArticle) -> str:
    shown = _local(story, art.published_at)
    who = f"By {art.author}" if art.author else ""
    if story.kind == "copy":  # the partner credits the original outlet
        who = f"By {art.author}, {content.OUTLET}"
    if not story.rich_meta:
        return f'<p class="byline">{_e(who)}</p><p class="dateline">Published {_human_date(art.published_at)}</p>'
    return (
        f'<p class="byline"><span class="author">{_e(who)}</span> '
        f'<time datetime="{shown.isoformat()}">{_human_date(art.published_at)}</time></p>'
    )


def _figure(story: Story) -> str:
    src = f"/static/img/{story.slug}.jpg"
    return (
        f'<figure class="lead-photo"><img src="{src}" alt="" width="1200" height="675">'
        f'<figcaption>{_e(story.caption)} <span class="credit">{_e(story.credit)}</span>'
        "</figcaption></figure>"
    )


def _asides(site: DemoSite, related: list[Story], comments: list[tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="{_e(site.article(s.slug).path)}">{_e(s.title)}</a></li>' for s in related)
    notes = "".join(
        f'<li class="comment"><p class="commenter">{_e(name)}</p><p>{_e(text)}</p></li>' for name, text in comments
    )
    return (
        f'<aside class="newsletter"><p>{_e(content.NEWSLETTER_PROMPT)}</p>'
        '<form action="/newsletter"><input type="email" name="email"><button>Subscribe</button></form>'
        "</aside>\n"
        f'<aside class="related"><h2>Related stories</h2><ul>{links}</ul></aside>\n'
        f'<section class="comments"><h2>Comments ({len(comments)})</h2><ol>{notes}</ol>'
        '<p><a href="/login">Log in to comment</a></p></section>'
    )


def _footer(story: Story) -> str:
    outlet, _ = _masthead(story)
    return (
        '<footer><ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li>'
        '<li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul>'
        f"<p>&copy; {_e(outlet)}. All rights reserved.</p></footer>"
    )


def _body(story: Story, art: DemoArticle) -> str:
    paragraphs = list(art.body_paragraphs)
    lead = ""
    if story.kind == "copy" and paragraphs and paragraphs[0] == content.SEE_MORE_LINE:
        lead = f'<p class="see-more"><strong>{_e(paragraphs.pop(0))}</strong></p>'
    return lead + "".join(f"<p>{_e(p)}</p>" for p in paragraphs)


def _aggregator_tail(story: Story) -> str:
    ai, comments, related = content.AGGREGATOR_BOILERPLATE
    items = "".join(
        f'<article class="teaser"><h3>{_e(title)}</h3><p>{_e(text)}</p></article>' for title, text in story.extras
    )
    return (
        f'<div class="ai-promo"><h2>{_e(ai)}</h2><p>Summaries, translations and alerts.</p></div>'
        f'<section class="agg-comments"><h2>{_e(comments)}</h2><p>Be the first to comment.</p></section>'
        f'<section class="agg-related"><h2>{_e(related)}</h2>{items}</section>'
    )


def _gallery(story: Story) -> str:
    shots = "".join(
        f'<figure><img src="/static/img/{story.slug}-{i}.jpg" alt=""><figcaption>{_e(c)}</figcaption></figure>'
        for i, c in enumerate(content.GALLERY_CAPTIONS, 1)
    )
    return f'<div class="gallery">{shots}<p class="credit">{_e(story.credit)}</p></div>'


def render_article(
    site: DemoSite, story: Story, art: DemoArticle, related: list[Story], comments: list[tuple[str, str]]
) -> str:
    if story.kind == "empty":  # a photo gallery: captions only, no article text, no comments
        return (
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{_head(site, story, art)}\n</head>\n<body>\n'
            f"{_header(story, nav=False)}\n<main>\n<h1>{_e(art.title)}</h1>{_gallery(story)}\n</main>\n"
            f'<aside class="newsletter"><p>{_e(content.NEWSLETTER_PROMPT)}</p></aside>\n{_footer(story)}\n'
            "</body>\n</html>\n"
        )
    else:
        main = (
            f"<article><h1>{_e(art.title)}</h1>{_byline(story, art)}{_figure(story)}"
            f'<div class="article-body">{_body(story, art)}</div></article>'
        )
        if story.kind == "aggregator":
            main += _aggregator_tail(story)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{_head(site, story, art)}\n</head>\n<body>\n'
        f"{_header(story)}\n<main>\n{main}\n{_asides(site, related, comments)}\n</main>\n{_footer(story)}\n"
        "</body>\n</html>\n"
    )


def render_home(site: DemoSite) -> str:
    items = "".join(
        f'<li><a href="{_e(a.path)}">{_e(a.title)}</a> <time>{_human_date(a.published_at)}</time></li>'
        for a in sorted(site.articles, key=lambda a: a.published_at, reverse=True)
    )
    home = Story("home", "home", "", content.OUTLET, None, timedelta(0), (), (), "", "")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(content.OUTLET)}: news from Syria and Iraq</title>\n"
        '<link rel="alternate" type="application/rss+xml" href="/feeds/rss.xml">\n'
        '<link rel="alternate" type="application/atom+xml" href="/feeds/atom.xml">\n</head>\n<body>\n'
        f'{_header(home)}\n<main><h1>Latest news</h1><ul class="latest">{items}</ul></main>\n'
        f"{_footer(home)}\n"
        "</body>\n</html>\n"
    )


# -- feeds ----------------------------------------------------------------------------------------
def _newest_first(site: DemoSite, feed: str) -> list[DemoArticle]:
    chosen = [a for a in site.articles if _in_feed(site, a, feed)]
    return sorted(chosen, key=lambda a: a.published_at, reverse=True)


def render_rss(site: DemoSite) -> str:
    items = []
    for art in _newest_first(site, "rss"):
        creator = f"<dc:creator>{_e(art.author)}</dc:creator>" if art.author else ""
        items.append(
            f"<item><title>{_e(art.title)}</title><link>{_e(_feed_link(site, art))}</link>"
            f'<guid isPermaLink="false">levantledger-{art.slug}</guid>'
            f"<pubDate>{format_datetime(art.published_at, usegmt=True)}</pubDate>{creator}"
            f"<description>{_e(_summary(art))}</description></item>"
        )
    newest = max(a.published_at for a in site.articles)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>{_e(content.OUTLET)}</title><link>{site.base_url}/</link>"
        "<description>Independent reporting from Syria, Iraq and the Levant</description>"
        f"<language>en</language><lastBuildDate>{format_datetime(newest, usegmt=True)}</lastBuildDate>\n"
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )


def render_atom(site: DemoSite) -> str:
    entries = []
    for art in _newest_first(site, "atom"):
        author = f"<author><name>{_e(art.author)}</name></author>" if art.author else ""
        stamp = art.published_at.isoformat()
        entries.append(
            f"<entry><title>{_e(art.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{_e(_feed_link(site, art))}"/>'
            f"<id>tag:levantledger.example,2024:{art.slug}</id>"
            f"<published>{stamp}</published><updated>{stamp}</updated>{author}"
            f"<summary>{_e(_summary(art))}</summary></entry>"
        )
    newest = max(a.published_at for a in site.articles).isoformat()
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>{_e(content.OUTLET)}</title>"
        f'<link rel="self" href="{site.atom_url}"/><link rel="alternate" href="{site.base_url}/"/>'
        f"<id>tag:levantledger.example,2024:feed</id><updated>{newest}</updated>\n" + "\n".join(entries) + "\n</feed>\n"
    )


# -- HTTP -----------------------------------------------------------------------------------------
def _make_handler(lookup: Callable[[str], Page | None], record: Callable[[str], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "LevantLedger/1.0"

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            self._respond(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
            self._respond(send_body=False)

        def _respond(self, send_body: bool) -> None:
            record(self.path)
            page = lookup(self.path) or Page(404, TEXT, b"Not Found\n")
            etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
            if page.status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            if page.status == 200:
                self.send_header("ETag", etag)
            self.end_headers()
            if send_body:
                self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            return  # quiet: requests are recorded in DemoSite.request_log

    return Handler
