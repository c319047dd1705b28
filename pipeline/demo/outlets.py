"""A second, independent demo outlet served on another loopback address (127.0.0.2), so that one event
reported by two outlets can be seen merged into one event with two independent sources.

"The Tigris Tribune" writes its own report (not a copy) of an event the Levant Ledger also reports:
other words, another spelling of the place and another way of counting. Its articles are fictional.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime

from pipeline.demo.content import h
from pipeline.demo.site import HTML, RSS, TEXT, BackgroundServer, Page, _fill, _make_handler

SECOND_OUTLET = "The Tigris Tribune"
SECOND_HOST = "127.0.0.2"


@dataclass(frozen=True)
class OutletStory:
    slug: str
    title: str
    author: str
    age: timedelta
    paragraphs: tuple[str, ...]
    same_event_as: str  # the Levant Ledger story that reports the same event


STORIES: tuple[OutletStory, ...] = (
    OutletStory(
        slug="warplanes-pound-daesh-caves-in-hamreen",
        title="Warplanes pound Daesh caves in the Hamreen range, nine militants dead",
        author="Lina Saadi",
        age=h(28),
        same_event_as="hamrin-air-strikes-kill-nine",
        paragraphs=(
            "Nine Daesh militants were killed when Iraqi warplanes bombed their caves in the Hamreen "
            "mountains on {day-2}, a military spokesman told the Tribune.",
            "Soldiers who searched the area afterwards found weapons, ammunition and food stores, the "
            "spokesman said, adding that the hideouts had been watched for weeks.",
            "The air strikes are part of a military operation against Islamic State cells that still hide "
            "in the rugged range between Diyala and Kirkuk, years after the group lost its territory.",
            "Residents of nearby villages said they heard several loud explosions before dawn. Local "
            "officials say Islamic State fighters have used the caves to prepare attacks on army posts.",
        ),
    ),
)


@dataclass(frozen=True)
class OutletArticle:
    slug: str
    url: str
    title: str
    published_at: datetime
    paragraphs: tuple[str, ...]
    same_event_as: str


class SecondOutlet:
    """The second outlet's site: a home page, robots.txt, an RSS feed and its articles."""

    def __init__(self, reference_time: datetime, host: str = SECOND_HOST, port: int = 0) -> None:
        self._server = BackgroundServer(host, port, _make_handler(self._lookup, lambda path: None), "demo-outlet-2")
        self.base_url = f"http://{host}:{self._server.port}"
        self.rss_url = f"{self.base_url}/rss.xml"
        self.articles = [self._article(s, reference_time) for s in STORIES]
        self._pages = self._render()

    def _article(self, story: OutletStory, reference_time: datetime) -> OutletArticle:
        published = reference_time - story.age
        path = f"/{published:%Y/%m/%d}/{story.slug}"
        paragraphs = tuple(_fill(p, published) for p in story.paragraphs)
        return OutletArticle(story.slug, self.base_url + path, story.title, published, paragraphs, story.same_event_as)

    def _render(self) -> dict[str, Page]:
        pages = {"/robots.txt": Page(200, TEXT, b"User-agent: *\nAllow: /\n")}
        links = "".join(f'<li><a href="{a.url}">{html.escape(a.title)}</a></li>' for a in self.articles)
        pages["/"] = Page(200, HTML, f"<html><body><h1>{SECOND_OUTLET}</h1><ul>{links}</ul></body></html>".encode())
        items = "".join(
            f"<item><title>{html.escape(a.title)}</title><link>{a.url}</link><guid>{a.url}</guid>"
            f"<pubDate>{format_datetime(a.published_at)}</pubDate></item>"
            for a in self.articles
        )
        rss = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{SECOND_OUTLET}</title><link>{self.base_url}/</link><description>News</description>"
            f"{items}</channel></rss>"
        )
        pages["/rss.xml"] = Page(200, RSS, rss.encode())
        for a in self.articles:
            body = "".join(f"<p>{html.escape(p)}</p>" for p in a.paragraphs)
            page = (
                f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(a.title)}'
                f'</title><meta property="article:published_time" content="{a.published_at.isoformat()}"></head>'
            )
            page += (
                f"<body><header><p>{SECOND_OUTLET}</p></header><article><h1>{html.escape(a.title)}</h1>"
                f'<time datetime="{a.published_at.isoformat()}">{a.published_at:%d %B %Y}</time>{body}</article>'
                "<footer><p>Copyright The Tigris Tribune. All rights reserved.</p></footer></body></html>"
            )
            pages[a.url.removeprefix(self.base_url)] = Page(200, HTML, page.encode())
        return pages

    def _lookup(self, path: str) -> Page | None:
        return self._pages.get(path.split("?", 1)[0])

    def start(self) -> SecondOutlet:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
