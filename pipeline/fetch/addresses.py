"""Which addresses newsflow may connect to, and a connection backend that connects only to those.

The policy (`refusal`) takes `ipaddress`'s own idea of "globally routable" (`is_global`, which
knows the IANA special-purpose registries: private, loopback, link-local, shared 100.64.0.0/10,
benchmarking, documentation, reserved...) and adds what it leaves open: multicast, and IPv6
addresses that carry an IPv4 address inside them (IPv4-mapped and -compatible, 6to4, Teredo server
and client, NAT64 64:ff9b::/96), whose embedded IPv4 must pass the same test. A few ranges that are
not meant to be reached as a destination are refused outright (`EXTRA_REFUSED`).

The allow-list (`Settings.allow_private`) opens a refused address on a named port: entries are
`HOST:PORT`, `[IPv6]:PORT`, `CIDR:PORT`, or the same without a port for every port (tests only;
the demo names its own port).

`GuardedBackend` is the httpcore network backend `Fetcher` connects through: it resolves a host
once, checks every address it got, and connects to a checked address itself, so a name cannot
resolve to a public address for the check and to an internal one for the connection (DNS
rebinding). The request keeps its Host header, and TLS its SNI and certificate name, since
httpcore takes both from the URL, not from the socket. It runs on every hop of a redirect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from pipeline.errors import ConfigError, Skip

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NAT64 = ipaddress.ip_network("64:ff9b::/96")
EXTRA_REFUSED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): embeds IPv4 at a site-chosen place
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated, RFC 7526)
        "::/96",  # IPv4-compatible IPv6 (deprecated) and the unspecified address
        "fec0::/10",  # site-local (deprecated)
        "2001:db8::/32",  # documentation
    )
)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in NAT64 or int(address) >> 32 == 0:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def refusal(address: IPAddress) -> str | None:
    """Why newsflow must not connect to this address, or None if it is a public destination."""
    if address.is_multicast:
        return "multicast"
    if not address.is_global:
        return "not globally routable"
    if any(address in net for net in EXTRA_REFUSED if net.version == address.version):
        return "special-purpose range"
    for inner in embedded_ipv4(address):
        why = refusal(inner)
        if why is not None:
            return f"embeds {inner}, {why}"
    return None


def is_internal(address: IPAddress) -> bool:
    """True for every address `refusal` refuses (kept for callers of the old name)."""
    return refusal(address) is not None


def parse_address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%")[0].strip("[]"))


@dataclass(frozen=True)
class Allowed:
    """One allow-list entry: a host name or a network, on one port or (port None) every port."""

    host: str | None
    net: IPNetwork | None
    port: int | None

    def admits_host(self, host: str, port: int) -> bool:
        return self.host is not None and self.host == host.lower().rstrip(".") and self._port_ok(port)

    def admits_address(self, address: IPAddress, port: int) -> bool:
        return self.net is not None and address.version == self.net.version and address in self.net and \
            self._port_ok(port)  # fmt: skip

    def _port_ok(self, port: int) -> bool:
        return self.port is None or self.port == port


def parse_allowed(item: str) -> Allowed:
    """`127.0.0.1:8080`, `[::1]:8080`, `127.0.0.0/8:8080`, `localhost:8080`; without `:PORT`, every port."""
    text = item.strip()
    if not text:
        raise ConfigError("allow_private: an empty entry")
    port: int | None = None
    if text.startswith("["):
        inside, _, rest = text[1:].partition("]")
        text = inside
        if rest:
            port = _port(rest.removeprefix(":"), item)
    else:
        try:
            return Allowed(None, ipaddress.ip_network(text, strict=False), None)  # bare address or CIDR
        except ValueError:
            pass
        head, sep, tail = text.rpartition(":")
        if sep and tail.isdigit():
            text, port = head, _port(tail, item)
    try:
        return Allowed(None, ipaddress.ip_network(text, strict=False), port)
    except ValueError:
        pass
    if not text or any(c in text for c in "/[]@ :"):
        raise ConfigError(f"allow_private: {item!r} is neither HOST[:PORT] nor CIDR[:PORT]")
    return Allowed(text.lower().rstrip("."), None, port)


def _port(text: str, item: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"allow_private: {item!r} has no valid port")
    return int(text)


class AddressPolicy:
    """Resolves a host and returns the addresses newsflow may connect to, or raises Skip."""

    def __init__(self, allow: Iterable[str]) -> None:
        self.allowed = [parse_allowed(item) for item in allow]

    def check_address(self, host: str, address: IPAddress, port: int) -> None:
        why = refusal(address)
        if why is None:
            return
        if any(a.admits_address(address, port) or a.admits_host(host, port) for a in self.allowed):
            return
        shown = host if host == str(address) else f"{host} resolves to {address}, which is"
        raise Skip("blocked_address", f"{shown} {why} (port {port})")

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address of `host`, each checked; Skip("blocked_address") if any is refused."""
        host = host.strip("[]")
        try:
            addresses = [parse_address(host)]
        except ValueError:
            addresses = await self.lookup(host, port)
        for address in addresses:
            self.check_address(host, address, port)
        return addresses

    async def lookup(self, host: str, port: int) -> list[IPAddress]:
        """The host's addresses from the system resolver (a test may put its own resolver here)."""
        return await system_lookup(host, port)


async def system_lookup(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Skip("dns_error", f"{host}: {exc}") from exc
    found: list[IPAddress] = []
    for info in infos:
        address = parse_address(str(info[4][0]))
        if address not in found:
            found.append(address)
    if not found:
        raise Skip("dns_error", f"{host}: no address")
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy admits, to the very address it checked."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()
        self.connected: list[tuple[str, int]] = []  # (address, port) of every connection, for tests

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.policy.resolve(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the host's next address, as a resolver-driven connect would
                continue
            self.connected.append((str(address), port))
            return stream
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise Skip("blocked_address", "unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(backend: GuardedBackend, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through `backend` (no proxies, no env)."""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(  # httpx builds its pool without a backend hook
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport
