"""A real HTTP/1.1 server on a loopback address that serves routes with faults, for tests and benches.

    with FaultServer() as server:
        server.add("/feed.xml", Route(body=rss, content_type="application/rss+xml"))
        server.add("/flaky", Route(body=html, fail_times=2, fail_status=503,
                                   fail_headers={"Retry-After": "1"}))
        url = server.url("/feed.xml")

Faults a route can have: a status (500, 404, ...), `fail_times` failures before succeeding,
`delay_s` before answering (a timeout), `drip_s` between body chunks (a slow drip), `endless` (a
body that never ends), gzip `encoding`, any headers (Retry-After, Location for redirects), and ETag /
Last-Modified validators answered with 304. Every request is recorded (`server.requests`), with its
arrival time, so a test can check politeness. Importable by any test: `from tests.httpfaults import ...`.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Longest a fault may hold a connection: the server must stop by itself.
MAX_HOLD_S = 30.0


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    fail_times: int = 0
    fail_status: int = 500
    fail_headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drip_s: float = 0.0
    drip_chunk: int = 16
    endless: bool = False
    encoding: str | None = None  # "gzip": the body is sent gzip-compressed
    etag: str | None = None
    last_modified: str | None = None
    declared_length: int | None = None  # a Content-Length to announce instead of the real one
    dynamic: Callable[[dict[str, str]], Route] | None = None  # build the answer from the request headers


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() on arrival
    host: str  # the address the request reached
    path: str
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.record(Seen(time.monotonic(), self.server.server_address[0], self.path, headers))
        route = self.server.routes.get(self.path.split("#")[0]) or self.server.routes.get(self.path.split("?")[0])
        if route is None:
            return self._answer(Route(body=b"not found", status=404, content_type="text/plain"))
        if route.dynamic is not None:
            route = route.dynamic(headers)
        if self.server.count_failure(self.path, route):
            return self._answer(Route(body=b"failure", status=route.fail_status, content_type="text/plain",
                                      headers=route.fail_headers))  # fmt: skip
        if route.etag and headers.get("if-none-match") == route.etag:
            return self._answer(Route(status=304, content_type=None, headers={"ETag": route.etag}))
        if route.last_modified and headers.get("if-modified-since") == route.last_modified:
            return self._answer(Route(status=304, content_type=None, headers={"Last-Modified": route.last_modified}))
        self._answer(route)

    def _answer(self, route: Route) -> None:
        try:
            if route.delay_s:
                time.sleep(min(route.delay_s, MAX_HOLD_S))
            body = gzip.compress(route.body) if route.encoding == "gzip" else route.body
            self.send_response(route.status)
            if route.content_type:
                self.send_header("Content-Type", route.content_type)
            if route.encoding:
                self.send_header("Content-Encoding", route.encoding)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            if route.endless:
                self.send_header("Connection", "close")
                self.end_headers()
                return self._endless()
            self.send_header("Content-Length", str(route.declared_length or len(body)))
            self.end_headers()
            self._write(body, route)
        except (BrokenPipeError, ConnectionResetError):
            self.server.disconnects += 1  # the client gave up (timeouts, size limits): expected
            self.close_connection = True

    def _write(self, body: bytes, route: Route) -> None:
        if not route.drip_s:
            self.wfile.write(body)
            return
        deadline = time.monotonic() + MAX_HOLD_S
        for start in range(0, len(body), route.drip_chunk):
            if time.monotonic() > deadline:
                break
            self.wfile.write(body[start : start + route.drip_chunk])
            self.wfile.flush()
            time.sleep(route.drip_s)

    def _endless(self) -> None:
        chunk = b"<p>" + b"x" * 65_000 + b"</p>\n"
        deadline = time.monotonic() + MAX_HOLD_S
        while time.monotonic() < deadline:
            self.wfile.write(chunk)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.failures: dict[str, int] = {}
        self.disconnects = 0
        self.lock = threading.Lock()

    def record(self, seen: Seen) -> None:
        with self.lock:
            self.requests.append(seen)

    def count_failure(self, path: str, route: Route) -> bool:
        if not route.fail_times:
            return False
        with self.lock:
            done = self.failures.get(path, 0)
            self.failures[path] = done + 1
            return done < route.fail_times


class FaultServer:
    """Start with `with FaultServer(host) as server:`; stops (and closes its threads) on exit."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = _Server((host, port))
        self.host, self.port = self.httpd.server_address[0], int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        self.httpd.routes[path] = route
        return self.url(path)

    @property
    def requests(self) -> list[Seen]:
        with self.httpd.lock:
            return list(self.httpd.requests)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)


def redirect(to: str, status: int = 302) -> Route:
    return Route(status=status, content_type="text/plain", headers={"Location": to})


def html_page(title: str, paragraphs: list[str], *, canonical: str | None = None, charset: str = "utf-8") -> bytes:
    """A small article page written for tests (no third-party text)."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paras = "".join(f"<p>{p}</p>" for p in paragraphs)
    doc = (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title>{link}</head>'
           f"<body><article><h1>{title}</h1>{paras}</article></body></html>")  # fmt: skip
    return doc.encode(charset)


def rss(items: list[tuple[str, str, str | None]], *, title: str = "Test feed", encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 document of (link, title, pubDate) items."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link>" + (f"<pubDate>{d}</pubDate>" if d else "") + "</item>"
        for link, t, d in items
    )
    doc = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>{title}</title>'
           f"<link>http://example.invalid/</link>{entries}</channel></rss>")  # fmt: skip
    return doc.encode(encoding)


def loopback_settings(**overrides: Any) -> Any:
    """Settings for tests against this server: 127.0.0.0/8 allowed, short delays and timeouts."""
    from pipeline.settings import Settings

    values: dict[str, Any] = {
        "allow_private": ("127.0.0.0/8",),
        "per_host_delay_s": 0.02,
        "per_host_concurrency": 4,
        "http_timeout_s": 1.5,
        "retries": 2,
        "max_page_bytes": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)
