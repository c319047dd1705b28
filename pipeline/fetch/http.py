"""Polite, guarded HTTP fetching (httpx, asyncio). Every network read of newsflow goes through `Fetcher`.

Politeness: a global limit of requests in flight (`Settings.concurrency`), and per host at most
`per_host_concurrency` at once with at least `per_host_delay_s` (or the robots.txt crawl-delay, if
larger) between the starts of two requests. robots.txt is read once per origin and run. A 429 or
503 with Retry-After pushes the whole host back, not only the one request.

Retries: timeouts, connection errors, 408, 429 and 5xx are retried `Settings.retries` times with
exponential backoff and full jitter, never sooner than Retry-After; other 4xx are not retried.

Guards: only http(s); the resolved addresses of every hop are checked (loopback, private,
link-local, multicast and reserved addresses are refused unless `Settings.allow_private` names the
host or a CIDR that contains it); at most `max_redirects` redirects, loops detected; the content
type is checked before the body is read; the body is streamed and cut at `max_page_bytes` after
decompression, which this module does itself with a bounded output (a decompression bomb is stopped
at the limit, not after inflating); a whole request, redirects included, must finish within
`http_timeout_s` (a server that drips one byte a second is cut off).

Failures are raised as `Skip(reason)` (permanent: the item is counted and not retried) or
`FetchError(reason)` (temporary, a `TransientError`: retried now, and again on a later run).
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import ipaddress
import random
import re
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.errors import Skip, TransientError
from pipeline.fetch.robots import ALLOW_ALL, UA_TOKEN, RobotsRules, robots_url, rules_for_status
from pipeline.settings import Settings

Kind = Literal["page", "feed", "sitemap", "robots"]

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 60.0
# Retry-After longer than this is not waited for in this run: the item fails temporarily instead.
MAX_RETRY_AFTER_S = 120.0
# Inflated / compressed ratio above which an over-limit body is called a decompression bomb.
BOMB_RATIO = 100
CHUNK = 65536

PAGE_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPE_HINTS = ("xml", "rss", "atom", "json", "text/")
SITEMAP_TYPE_HINTS = ("xml", "text/plain", "gzip", "octet-stream")
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})["']""")

T = TypeVar("T")


class FetchError(TransientError):
    """A fetch that may succeed later (timeout, 429, 5xx, connection refused)."""

    def __init__(
        self, reason: str, detail: str = "", *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    content_type: str | None
    charset: str | None
    elapsed_ms: int
    redirects: int = 0
    attempts: int = 1

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class LogRow:
    """One row for `fetch_log`."""

    kind: str
    url: str
    final_url: str | None
    status: int | None
    outcome: str
    error: str | None
    bytes: int | None
    elapsed_ms: int | None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))


# ---------------------------------------------------------------- addresses


class AddressGuard:
    """Refuses hosts that resolve to internal addresses, unless allow-listed."""

    def __init__(self, allow: tuple[str, ...]) -> None:
        self.allowed_hosts: set[str] = set()
        self.allowed_nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in allow:
            try:
                self.allowed_nets.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                self.allowed_hosts.add(item.strip().lower())
        self._cache: dict[tuple[str, int], None | Skip] = {}

    async def check(self, host: str, port: int) -> None:
        key = (host, port)
        if key not in self._cache:
            self._cache[key] = await self._verdict(host, port)
        verdict = self._cache[key]
        if verdict is not None:
            raise verdict

    async def _verdict(self, host: str, port: int) -> Skip | None:
        if host in self.allowed_hosts:
            return None
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            return Skip("dns_error", f"{host}: {exc}")
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if is_internal(address) and not any(address in net for net in self.allowed_nets):
                return Skip("blocked_address", f"{host} resolves to {address}, an internal address")
        return None


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


# ---------------------------------------------------------------- politeness


class HostGate:
    """At most `limit` requests at once to one host, and `delay` seconds between two starts.

    A start is reserved before the request (`try_start`, so a waiting request holds no global slot),
    and checked again when its headers are actually written (`at_send`, from httpcore's trace hook):
    connecting can take longer for one request than for the next on a kept-alive connection, and
    the spacing that matters is the one the server sees.
    """

    def __init__(self, limit: int, delay: float) -> None:
        self.slots = asyncio.Semaphore(max(1, limit))
        self.delay = delay
        self.next_start = 0.0
        self.last_sent = -1e9

    async def at_send(self) -> None:
        """Wait until `delay` has passed since the last request to this host actually left."""
        while True:
            now = time.monotonic()
            if now >= self.last_sent + self.delay:
                self.last_sent = now
                return
            await asyncio.sleep(self.last_sent + self.delay - now)

    def wait_time(self) -> float:
        return max(0.0, self.next_start - time.monotonic())

    def try_start(self) -> bool:
        now = time.monotonic()
        if now < self.next_start:
            return False
        self.next_start = now + self.delay
        return True

    def sent_ago(self, seconds: float) -> None:
        """Another process sent this host a request `seconds` ago: keep the delay from that one too."""
        sent = time.monotonic() - max(0.0, seconds)
        self.last_sent = max(self.last_sent, sent)
        self.next_start = max(self.next_start, sent + self.delay)

    def seconds_since_sent(self) -> float | None:
        """How long ago this process last sent the host a request (None: never)."""
        return time.monotonic() - self.last_sent if self.last_sent > 0 else None

    def push_back(self, seconds: float) -> None:
        self.next_start = max(self.next_start, time.monotonic() + seconds)
        self.last_sent = max(self.last_sent, time.monotonic() + seconds - self.delay)


# ---------------------------------------------------------------- bodies


class BodyDecoder:
    """Inflates gzip/deflate with a bounded output, so a small bomb cannot fill memory."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.raw_bytes = 0
        self.out_bytes = 0
        enc = encoding.strip().lower()
        self.inflater: Any = None
        if enc in ("gzip", "x-gzip"):
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self.inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
        elif enc not in ("", "identity"):
            raise Skip("unsupported_encoding", f"Content-Encoding {encoding!r}")

    def feed(self, chunk: bytes) -> bytes:
        self.raw_bytes += len(chunk)
        if self.inflater is None:
            return self._count(chunk)
        parts = []
        data = chunk
        while data:
            try:
                out = self.inflater.decompress(data, self.limit - self.out_bytes + 1)
            except zlib.error as exc:
                raise Skip("bad_encoding", f"cannot inflate body: {exc}") from exc
            data = self.inflater.unconsumed_tail
            parts.append(self._count(out, pending=len(data)))
        return b"".join(parts)

    def _count(self, out: bytes, pending: int = 0) -> bytes:
        self.out_bytes += len(out)
        if self.out_bytes > self.limit:
            consumed = max(1, self.raw_bytes - pending)
            if self.inflater is not None and self.out_bytes > BOMB_RATIO * consumed:
                raise Skip("decompression_bomb", f"{consumed} bytes inflate past {self.limit}")
            raise Skip("too_large", f"body over {self.limit} bytes")
        return out


def media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";")[0].strip().lower() or None


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.I)
    return _known_codec(match.group(1)) if match else None


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def detect_charset(body: bytes, content_type: str | None = None) -> str:
    """The body's character set: header, BOM, <meta>/<?xml?> declaration, then statistical detection."""
    declared = header_charset(content_type)
    if declared:
        return declared
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = body[:4096]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            found = _known_codec(match.group(1).decode("ascii", "ignore"))
            if found:
                return found
    try:
        body[:200_000].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    return (_known_codec(best.encoding) if best is not None else None) or "utf-8"


def content_type_ok(kind: Kind, mtype: str | None) -> bool:
    if mtype is None or kind == "robots":
        return True
    if kind == "page":
        return mtype in PAGE_TYPES
    hints = FEED_TYPE_HINTS if kind == "feed" else SITEMAP_TYPE_HINTS
    return any(h in mtype for h in hints)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, retry_after: float | None, base: float = BACKOFF_BASE_S) -> float:
    """Full-jitter exponential backoff, never shorter than Retry-After."""
    jittered = random.uniform(0, min(BACKOFF_MAX_S, base * 2 ** (attempt - 1)))
    if retry_after is not None:
        return retry_after + random.uniform(0, min(1.0, 0.1 * retry_after + 0.05))
    return jittered


# ---------------------------------------------------------------- the fetcher


class Fetcher:
    """An async client with the politeness and guards above. Use as `async with Fetcher(s) as f:`."""

    def __init__(
        self,
        settings: Settings,
        *,
        backoff_base_s: float | None = None,
        max_retry_after_s: float | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.settings = settings
        # Read at construction (not import) time, so a test or bench may set the module defaults.
        self.backoff_base_s = BACKOFF_BASE_S if backoff_base_s is None else backoff_base_s
        self.max_retry_after_s = MAX_RETRY_AFTER_S if max_retry_after_s is None else max_retry_after_s
        self.max_bytes = max_bytes or settings.max_page_bytes
        self.guard = AddressGuard(settings.allow_private)
        self.global_slots = asyncio.Semaphore(max(1, settings.concurrency))
        self.gates: dict[str, HostGate] = {}
        self.robots: dict[str, asyncio.Task[RobotsRules]] = {}
        self.log: list[LogRow] = []  # robots.txt fetches; callers log their own fetches
        self.client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        limits = httpx.Limits(max_connections=self.settings.concurrency * 2, max_keepalive_connections=64)
        self.client = httpx.AsyncClient(
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": "en;q=1.0, *;q=0.5",
            },
            timeout=httpx.Timeout(self.settings.http_timeout_s),
            follow_redirects=False,
            limits=limits,
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.robots.values():
            task.cancel()
        if self.client is not None:
            await self.client.aclose()

    def gate(self, host: str) -> HostGate:
        if host not in self.gates:
            s = self.settings
            self.gates[host] = HostGate(s.per_host_concurrency, s.per_host_delay_s)
        return self.gates[host]

    async def get(self, url: str, *, kind: Kind = "page", headers: Mapping[str, str] | None = None) -> FetchResult:
        """GET with retries; raises Skip (permanent) or FetchError (temporary)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await self._follow(url, kind, dict(headers or {}))
                result.attempts = attempt
                return result
            except FetchError as exc:
                if attempt > self.settings.retries:
                    raise
                if exc.retry_after is not None and exc.retry_after > self.max_retry_after_s:
                    raise FetchError("rate_limited", f"Retry-After {exc.retry_after:.0f}s") from exc
                await asyncio.sleep(backoff_delay(attempt, exc.retry_after, self.backoff_base_s))

    async def _follow(self, url: str, kind: Kind, headers: dict[str, str]) -> FetchResult:
        started = time.monotonic()
        seen = {url}
        current = url
        for hop in range(self.settings.max_redirects + 1):
            await self._admit(current, kind)
            status, resp_headers, body = await self._one_request(current, kind, headers)
            if 300 <= status < 400 and status != 304:
                current = self._next_hop(current, resp_headers.get("location"), seen)
                continue
            elapsed = int((time.monotonic() - started) * 1000)
            return self._result(url, current, status, resp_headers, body, elapsed, hop)
        raise Skip("too_many_redirects", f"more than {self.settings.max_redirects} redirects from {url}")

    def _next_hop(self, current: str, location: str | None, seen: set[str]) -> str:
        if not location:
            raise Skip("bad_redirect", f"redirect without Location from {current}")
        target = urljoin(current, location.strip())
        if urlsplit(target).scheme not in ("http", "https"):
            raise Skip("bad_redirect", f"redirect to a non-http URL {target[:200]}")
        if target in seen:
            raise Skip("redirect_loop", f"{target} seen twice")
        seen.add(target)
        return target

    def _result(
        self, url: str, final: str, status: int, headers: dict[str, str], body: bytes, elapsed: int, hops: int
    ) -> FetchResult:
        ctype = headers.get("content-type")
        charset = detect_charset(body, ctype) if body and status != 304 else header_charset(ctype)
        return FetchResult(url, final, status, headers, body, media_type(ctype), charset, elapsed, hops)

    async def _admit(self, url: str, kind: Kind) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Skip("invalid_url", url[:200])
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await self.guard.check(parts.hostname, port)
        if kind == "robots" or not self.settings.respect_robots:
            return
        rules = await self.rules_for(f"{parts.scheme}://{parts.netloc}")
        if rules.unavailable is not None:
            raise FetchError("robots_unavailable", rules.unavailable)
        if not rules.allowed(url, UA_TOKEN):
            raise Skip("robots_disallowed", url[:200])

    async def rules_for(self, origin: str) -> RobotsRules:
        if origin not in self.robots:
            self.robots[origin] = asyncio.ensure_future(self._load_robots(origin))
        return await self.robots[origin]

    async def _load_robots(self, origin: str) -> RobotsRules:
        url = robots_url(origin)
        started = time.monotonic()
        try:
            result = await self._follow(url, "robots", {})
            rules = rules_for_status(result.status, result.body)
            self._log_robots(url, result.final_url, result.status, "ok", None, len(result.body), started)
        except Skip as exc:
            rules = (
                ALLOW_ALL
                if exc.reason in ("too_many_redirects", "redirect_loop")
                else RobotsRules(None, unavailable=str(exc))
            )
            self._log_robots(url, None, None, exc.reason, exc.detail, None, started)
        except FetchError as exc:
            rules = RobotsRules(None, unavailable=str(exc))
            self._log_robots(url, None, exc.status, exc.reason, exc.detail, None, started)
        delay = rules.crawl_delay(UA_TOKEN)
        host = urlsplit(origin).hostname or ""
        if delay is not None and delay > self.gate(host).delay:
            self.gate(host).delay = delay
        return rules

    def _log_robots(
        self, url: str, final: str | None, status: int | None, outcome: str, error: str | None,
        size: int | None, started: float,
    ) -> None:  # fmt: skip
        elapsed = int((time.monotonic() - started) * 1000)
        self.log.append(LogRow("robots", url, final, status, outcome, error, size, elapsed))

    async def _one_request(self, url: str, kind: Kind, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        host = urlsplit(url).hostname or ""
        gate = self.gate(host)
        async with gate.slots:
            while True:
                await asyncio.sleep(gate.wait_time())
                async with self.global_slots:
                    if gate.try_start():
                        return await self._timed_request(url, kind, headers, gate)

    async def _timed_request(
        self, url: str, kind: Kind, headers: dict[str, str], gate: HostGate
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            async with asyncio.timeout(self.settings.http_timeout_s):
                return await self._stream(url, kind, headers, gate)
        except TimeoutError as exc:
            raise FetchError("timeout", f"no complete answer within {self.settings.http_timeout_s}s") from exc
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"{type(exc).__name__}") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise Skip("invalid_url", str(exc)) from exc
        except httpx.ConnectError as exc:
            raise FetchError("connect_error", str(exc)[:200]) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise FetchError("network_error", f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    async def _stream(
        self, url: str, kind: Kind, headers: dict[str, str], gate: HostGate
    ) -> tuple[int, dict[str, str], bytes]:
        assert self.client is not None, "use Fetcher as an async context manager"

        async def trace(event: str, info: Mapping[str, Any]) -> None:
            if event.endswith("send_request_headers.started"):
                await gate.at_send()

        async with self.client.stream("GET", url, headers=headers, extensions={"trace": trace}) as response:
            status = response.status_code
            resp_headers = {k.lower(): v for k, v in response.headers.items()}
            if kind != "robots":  # robots.txt statuses are meanings (4xx: allow all), see pipeline.fetch.robots
                self._check_status(status, resp_headers, gate)
            if status == 304 or 300 <= status < 400 or (kind == "robots" and status >= 400):
                return status, resp_headers, b""
            if not content_type_ok(kind, media_type(resp_headers.get("content-type"))):
                raise Skip("bad_content_type", f"{resp_headers.get('content-type')} for a {kind}")
            body = await self._read_body(response, resp_headers)
            return status, resp_headers, body

    def _check_status(self, status: int, headers: dict[str, str], gate: HostGate) -> None:
        if status < 400:
            return
        retry_after = parse_retry_after(headers.get("retry-after"))
        if status in RETRY_STATUSES or status >= 500:
            if retry_after is not None:
                gate.push_back(min(retry_after, self.max_retry_after_s))
            raise FetchError(f"http_{status}", f"HTTP {status}", status=status, retry_after=retry_after)
        raise Skip(f"http_{status}", f"HTTP {status}")

    async def _read_body(self, response: httpx.Response, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes and not headers.get("content-encoding"):
            raise Skip("too_large", f"Content-Length {declared} over {self.max_bytes}")
        decoder = BodyDecoder(headers.get("content-encoding", ""), self.max_bytes)
        parts = []
        async for chunk in response.aiter_raw(CHUNK):
            parts.append(decoder.feed(chunk))
        return b"".join(parts)


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from synchronous code (CLI, Airflow task); refuses inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())  # type: ignore[arg-type]
    raise RuntimeError("newsflow's sync fetch API was called inside a running event loop")
