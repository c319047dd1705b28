"""A news site on several loopback hosts (127.0.0.2, 127.0.0.3, ...), each with its own server, RSS
feed, robots.txt and articles, for the reliability suite. Every text is generated here (our own
words). Some articles name the Islamic State with a place, a date and a toll (events); one host
republishes, shortened, stories of another (syndicated copies). Every request is logged with the
time the server received it, so tests can check that each page was served once and that no host
got requests faster than its politeness limit.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

WORDS = [
    "council",
    "market",
    "river",
    "harbour",
    "school",
    "farmers",
    "budget",
    "railway",
    "bridge",
    "winter",
    "festival",
    "museum",
    "library",
    "hospital",
    "clinic",
    "engineers",
    "drivers",
    "teachers",
    "students",
    "report",
    "committee",
    "mayor",
    "district",
    "province",
    "village",
    "valley",
    "coast",
    "mountain",
    "forest",
    "weather",
    "harvest",
    "exports",
    "imports",
    "factory",
    "workers",
    "union",
    "contract",
    "tender",
    "minister",
    "ministry",
    "agency",
    "court",
    "judge",
    "lawyer",
    "witness",
    "evidence",
    "hearing",
    "statement",
    "officials",
    "residents",
    "families",
    "neighbours",
    "volunteers",
    "charity",
    "donors",
    "concert",
    "theatre",
    "stadium",
    "league",
    "season",
    "coach",
    "players",
    "supporters",
    "ticket",
    "prices",
    "fuel",
    "electricity",
    "water",
    "supply",
    "network",
    "repairs",
    "road",
]
PLACES = ("Mosul", "Raqqa", "Kirkuk", "Tikrit", "Ramadi", "Fallujah", "Palmyra", "Aleppo", "Homs", "Hasakah")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Page:
    host: str
    path: str
    title: str
    paragraphs: list[str]
    published: datetime
    copy_of: tuple[str, str] | None = None  # (host, path) of the original


@dataclass
class Host:
    address: str
    server: ThreadingHTTPServer | None = None
    pages: dict[str, Page] = field(default_factory=dict)

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://{self.address}:{self.server.server_address[1]}"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(9, 16))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(3))


def _event_paragraph(rng: random.Random, published: datetime) -> str:
    place, killed = rng.choice(PLACES), rng.randint(2, 40)
    day = WEEKDAYS[(published - timedelta(days=1)).weekday()]
    return (
        f"Islamic State militants attacked an army checkpoint near {place} on {day}, killing {killed} "
        f"soldiers, officials said. The group claimed the attack in a statement."
    )


class LoopSite:
    """`with LoopSite(hosts=4, pages_per_host=10) as site:`; `site.feeds_yaml()` lists its feeds."""

    def __init__(self, *, hosts: int = 4, pages_per_host: int = 10, copies: int = 3, seed: int = 7,
                 reference_time: datetime | None = None) -> None:  # fmt: skip
        self.reference_time = reference_time or datetime.now(UTC)
        self.hosts = [Host(f"127.0.0.{i + 2}") for i in range(hosts)]
        self.log: list[tuple[str, str, float]] = []  # (host, path, monotonic time received)
        self.down = False
        self._lock = threading.Lock()
        rng = random.Random(seed)
        self._rng = random.Random(seed + 1)  # for pages published while serving
        for h, host in enumerate(self.hosts):
            for i in range(pages_per_host):
                published = self.reference_time - timedelta(hours=1 + h * pages_per_host + i)
                paragraphs = [_paragraph(rng) for _ in range(4)]
                if i % 3 == 0:
                    paragraphs.insert(1, _event_paragraph(rng, published))
                title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {i} on host {h}"
                host.pages[f"/news/{i}.html"] = Page(host.address, f"/news/{i}.html", title, paragraphs, published)
        if hosts >= 2:  # the last host republishes, shortened, the first stories of the first host
            source, target = self.hosts[0], self.hosts[-1]
            for i in range(copies):
                original = source.pages[f"/news/{i}.html"]
                path = f"/wire/{i}.html"
                target.pages[path] = Page(
                    target.address, path, original.title, original.paragraphs[:-1],
                    original.published + timedelta(minutes=30), copy_of=(source.address, original.path),
                )  # fmt: skip

    # ---------------------------------------------------------------- serving

    def __enter__(self) -> LoopSite:
        for host in self.hosts:
            host.server = ThreadingHTTPServer((host.address, 0), self._handler(host))
            host.server.daemon_threads = True
            threading.Thread(target=host.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for host in self.hosts:
            if host.server is not None:
                host.server.shutdown()
                host.server.server_close()

    def _handler(self, host: Host) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with site._lock:
                    site.log.append((host.address, self.path, time.monotonic()))
                if site.down:
                    self.send_error(503)
                    return
                status, ctype, body = site._answer(host, self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _answer(self, host: Host, path: str) -> tuple[int, str, bytes]:
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if path == "/feed.xml":
            return 200, "application/rss+xml", self._rss(host).encode()
        with self._lock:
            page = host.pages.get(path)
        if page is None:
            return 404, "text/plain", b"not found"
        return 200, "text/html; charset=utf-8", self._html(host, page).encode()

    def _rss(self, host: Host) -> str:
        with self._lock:
            pages = list(host.pages.values())
        items = "".join(
            f"<item><title>{escape(p.title)}</title><link>{host.base}{p.path}</link>"
            f"<pubDate>{format_datetime(p.published)}</pubDate></item>"
            for p in pages
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{host.address}</title>{items}</channel></rss>'

    def _html(self, host: Host, page: Page) -> str:
        body = "".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
        credit = "<p>Reuters</p>" if page.copy_of else ""
        return (
            f"<!DOCTYPE html><html lang='en'><head><title>{escape(page.title)}</title>"
            f"<meta property='article:published_time' content='{page.published.isoformat()}'>"
            f"<link rel='canonical' href='{host.base}{page.path}'></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
            f"<article><h1>{escape(page.title)}</h1>{credit}{body}</article>"
            f"<footer>Copyright {host.address} news</footer></body></html>"
        )

    # ---------------------------------------------------------------- for tests

    def publish(self, host_index: int, *, event: bool = True, published: datetime | None = None) -> str:
        """Add an article to a host while the site serves (it appears in the host's feed from now on);
        returns its URL."""
        host = self.hosts[host_index]
        published = published or datetime.now(UTC)
        with self._lock:
            n = len(host.pages)
            paragraphs = [_paragraph(self._rng) for _ in range(4)]
            if event:
                paragraphs.insert(1, _event_paragraph(self._rng, published))
            title = f"{self._rng.choice(WORDS).capitalize()} {self._rng.choice(WORDS)} late {n} on host {host_index}"
            path = f"/news/late-{n}.html"
            host.pages[path] = Page(host.address, path, title, paragraphs, published)
        return f"{host.base}{path}"

    def feeds_yaml(self) -> str:
        lines = ["feeds:"]
        for host in self.hosts:
            lines += [f"  - name: Loop {host.address}", f"    url: {host.base}/feed.xml"]
        return "\n".join(lines) + "\n"

    def allow_list(self) -> str:
        return ",".join(host.address for host in self.hosts)

    def page_requests(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter((h, p) for h, p, _ in self.log if p.startswith(("/news/", "/wire/")))

    def gaps(self) -> list[float]:
        """Every time between two successive requests to the same host (any path), in seconds."""
        with self._lock:
            by_host: dict[str, list[float]] = {}
            for h, _, t in self.log:
                by_host.setdefault(h, []).append(t)
        return [b - a for times in by_host.values() for a, b in itertools.pairwise(sorted(times))]

    def smallest_gap(self) -> float:
        """The shortest time between two requests to the same host (any path), in seconds."""
        return min(self.gaps(), default=float("inf"))

    def article_count(self) -> int:
        return sum(len(h.pages) for h in self.hosts)
