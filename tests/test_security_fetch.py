"""SSRF: hostile addresses are refused before any socket connects; the checked address is the one
connected to; the allow-list names a port; one time budget covers every redirect hop.

A socket guard (`connects`) records every TCP connect attempt of the process, so "refused" here
means "refused without a connection", not only "answered with a skip"."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from typing import Any

import pytest
from httpfaults import FaultServer, Route, html_page, loopback_settings, redirect

from pipeline.errors import ConfigError, Skip
from pipeline.fetch.addresses import AddressPolicy, IPAddress, embedded_ipv4, parse_allowed, refusal
from pipeline.fetch.http import Fetcher, FetchError, run_sync

PAGE = html_page("A page", ["Some text of a page. " * 5])

# Addresses an attacker would hand newsflow in a feed, a page link or a sitemap.
HOSTILE = [
    "http://127.0.0.1/", "http://127.1/", "http://0177.0.0.1/", "http://2130706433/", "http://0x7f000001/",
    "http://localhost/", "http://LOCALHOST./", "http://[::1]/", "http://0.0.0.0/", "http://0/", "http://[::]/",
    "http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd00::1]/",
    "http://100.64.0.1/", "http://100.100.100.200/",  # shared address space (cloud metadata lives here)
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://[2002:a9fe:a9fe::1]/", "http://[2002:7f00:1::1]/", "http://[2002:c0a8:101::1]/",  # 6to4
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "http://[2001:0:a9fe:a9fe::1]/",  # Teredo, server 169.254.169.254
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b:1::a9fe:a9fe]/",  # NAT64
    "http://[::127.0.0.1]/", "http://[::a9fe:a9fe]/",  # IPv4-compatible
    "http://224.0.0.1/", "http://239.255.255.250/", "http://[ff02::1]/", "http://255.255.255.255/",
    "http://198.18.0.1/", "http://192.0.0.1/", "http://192.0.2.1/", "http://240.0.0.1/",
    "http://[2001:db8::1]/", "http://192.88.99.1/", "http://[fec0::1]/",
    "http://127.0.0.1:5432/", "http://127.0.0.1:22/", "https://169.254.169.254/latest/meta-data/",
]  # fmt: skip


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every TCP connect attempt of this process while the test runs."""
    seen: list[Any] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return seen


def outcome(settings: Any, url: str, setup: Any = None) -> Any:
    async def run() -> Any:
        async with Fetcher(settings) as fetcher:
            if setup is not None:
                setup(fetcher)
            try:
                return await fetcher.get(url)
            except (Skip, FetchError) as exc:
                return exc

    return run_sync(run)


def test_there_are_enough_hostile_addresses() -> None:
    assert len(set(HOSTILE)) >= 45


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_address_is_refused_without_a_connection(url: str, connects: list[Any]) -> None:
    result = outcome(loopback_settings(allow_private=(), retries=0), url)
    assert isinstance(result, Skip), result
    assert result.reason in ("blocked_address", "invalid_url", "dns_error"), result
    assert connects == []


@pytest.mark.parametrize(
    "address",
    ["2002:a9fe:a9fe::1", "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::a00:1",
     "::ffff:10.0.0.1", "100.100.100.200", "fe80::1"],
)  # fmt: skip
def test_embedded_and_shared_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "2002:5db8:d822::1",
                                     "64:ff9b::5db8:d822", "8.8.8.8"])  # fmt: skip
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_embedded_ipv4_of_each_form() -> None:
    def inner(text: str) -> list[str]:
        return [str(a) for a in embedded_ipv4(ipaddress.ip_address(text))]

    assert inner("2002:a9fe:a9fe::1") == ["169.254.169.254"]
    assert "127.0.0.1" in inner("2001:0:4136:e378:8000:63bf:80ff:fffe")
    assert inner("64:ff9b::7f00:1") == ["127.0.0.1"]
    assert inner("::ffff:10.1.2.3") == ["10.1.2.3"]


def test_allow_list_entries_name_host_and_port() -> None:
    assert parse_allowed("127.0.0.1:8080").port == 8080
    assert parse_allowed("[::1]:8080").port == 8080
    assert str(parse_allowed("127.0.0.0/8:81").net) == "127.0.0.0/8"
    assert parse_allowed("localhost:8080").host == "localhost"
    assert parse_allowed("::1").port is None and parse_allowed("127.0.0.0/8").port is None
    with pytest.raises(ConfigError):
        parse_allowed("127.0.0.1:99999")
    with pytest.raises(ConfigError):
        parse_allowed("user@host:80")


def test_allow_list_opens_only_the_named_port(connects: list[Any]) -> None:
    with FaultServer() as allowed, FaultServer() as other:
        allowed.add("/p", Route(body=PAGE))
        other.add("/p", Route(body=PAGE))
        settings = loopback_settings(allow_private=(f"127.0.0.1:{allowed.port}",), retries=0)
        assert outcome(settings, allowed.url("/p")).status == 200
        refused = outcome(settings, other.url("/p"))
        assert isinstance(refused, Skip) and refused.reason == "blocked_address"
        assert other.requests == []
        assert connects and all(addr[1] == allowed.port for addr in connects)


@pytest.mark.parametrize(
    "target", ["http://100.100.100.200/", "http://[2002:a9fe:a9fe::1]/", "http://10.0.0.1/", "http://[::1]:22/"]
)
def test_redirect_to_an_internal_address_is_refused(target: str, connects: list[Any]) -> None:
    with FaultServer() as srv:
        srv.add("/go", redirect(target))
        settings = loopback_settings(allow_private=(f"127.0.0.1:{srv.port}",), retries=0)
        result = outcome(settings, srv.url("/go"))
        assert isinstance(result, Skip) and result.reason == "blocked_address", result
        assert {addr[1] for addr in connects} == {srv.port}


class Resolver:
    """A DNS that answers `answers` in turn (the last one again after), like a rebinding attacker's."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls += 1
        return [self.answers[min(self.calls, len(self.answers)) - 1]]


def test_dns_rebinding_is_refused_at_connect_time(connects: list[Any]) -> None:
    resolver = Resolver("93.184.216.34", "127.0.0.1")  # public for the early check, loopback for the connect
    with FaultServer() as srv:
        srv.add("/p", Route(body=PAGE))
        settings = loopback_settings(allow_private=(), retries=0, respect_robots=False)

        def setup(fetcher: Fetcher) -> None:
            fetcher.guard.policy.lookup = resolver  # type: ignore[method-assign]

        result = outcome(settings, f"http://rebind.invalid:{srv.port}/p", setup)
        assert isinstance(result, Skip) and result.reason == "blocked_address", result
        assert resolver.calls == 2 and connects == [] and srv.requests == []


def test_the_checked_address_is_the_one_connected_with_the_original_host_header() -> None:
    resolver = Resolver("127.0.0.1")
    with FaultServer() as srv:
        srv.add("/p", Route(body=PAGE))
        settings = loopback_settings(allow_private=(f"news.invalid:{srv.port}",), retries=0, respect_robots=False)
        backends: list[Any] = []

        def setup(fetcher: Fetcher) -> None:
            fetcher.guard.policy.lookup = resolver  # type: ignore[method-assign]
            backends.append(fetcher.backend)

        result = outcome(settings, f"http://news.invalid:{srv.port}/p", setup)
        assert not isinstance(result, Exception), result
        assert result.status == 200
        assert srv.requests[0].headers["host"] == f"news.invalid:{srv.port}"
        assert backends[0].connected == [("127.0.0.1", srv.port)]


def test_one_time_budget_covers_every_redirect_hop() -> None:
    with FaultServer() as srv:
        for i in range(4):
            srv.add(f"/hop{i}", Route(status=302, headers={"Location": f"/hop{i + 1}"}, delay_s=0.4, body=b""))
        srv.add("/hop4", Route(body=PAGE, delay_s=0.4))
        settings = loopback_settings(http_timeout_s=1.0, retries=0, respect_robots=False)
        started = time.monotonic()
        result = outcome(settings, srv.url("/hop0"))
        took = time.monotonic() - started
        assert isinstance(result, FetchError) and result.reason == "timeout", result
        assert took < 1.6  # each hop alone (0.4 s) is under the timeout; five of them are not


def test_policy_resolves_a_literal_address_without_dns() -> None:
    policy = AddressPolicy(())
    with pytest.raises(Skip, match="blocked_address"):
        asyncio.run(policy.resolve("[::ffff:127.0.0.1]", 80))
    assert asyncio.run(policy.resolve("93.184.216.34", 80)) == [ipaddress.ip_address("93.184.216.34")]


@pytest.fixture
def tls_server(tmp_path: Any) -> Any:
    """A TLS server on 127.0.0.1 with a self-signed certificate; records the SNI names it is sent."""
    import shutil
    import ssl
    import subprocess
    import threading

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=news.invalid"],
                   check=True, capture_output=True)  # fmt: skip
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(ssl.SSLError, OSError), context.wrap_socket(conn, server_side=True):
            pass  # the client refuses the self-signed certificate; the SNI was seen by then

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], names
    listener.close()
    thread.join(timeout=5)


def test_tls_keeps_the_original_name_for_sni_while_connecting_to_the_checked_address(tls_server: Any) -> None:
    port, names = tls_server
    resolver = Resolver("127.0.0.1")
    backends: list[Any] = []

    def setup(fetcher: Fetcher) -> None:
        fetcher.guard.policy.lookup = resolver  # type: ignore[method-assign]
        backends.append(fetcher.backend)

    settings = loopback_settings(allow_private=(f"news.invalid:{port}",), retries=0, respect_robots=False)
    result = outcome(settings, f"https://news.invalid:{port}/", setup)
    assert isinstance(result, FetchError), result  # the test certificate is not trusted: no answer
    assert names == ["news.invalid"]
    assert backends[0].connected == [("127.0.0.1", port)]
