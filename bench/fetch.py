"""Fetch throughput under politeness: pages/s and CPU per page as the number of hosts grows.

    .venv/bin/python bench/fetch.py [--hosts 1,2,4,8] [--pages 20] [--delay 0.1] [--per-host 2]

N hosts are N loopback addresses (127.0.0.2, 127.0.0.3, ...), served by tests/httpfaults.py in a
separate process (so the CPU figure is the fetcher's alone). Each host serves `--pages` article-sized
pages and records when every request arrived. The fetcher runs with `per_host_delay_s=--delay`, so
no host may see two requests closer than that: the bench prints the smallest gap any host saw, and
fails (exit 1) if it is below the limit. The baseline is the same fetcher on one host, in the same
run: total throughput should grow about linearly with the hosts (each host stays at its limit),
until the global concurrency limit or the CPU binds.

Columns: "sent gap" is the smallest time between two requests' headers leaving the client for one
host (what the fetcher controls; must be >= the delay), "seen gap" the smallest gap between two
arrivals as the threaded test server logged them (adds the server's thread-scheduling jitter on a
busy machine), "host pages/s" the fastest host's average rate as the server saw it (<= 1/delay).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SERVER = r"""
import json, sys, time
sys.path.insert(0, {tests!r})
from httpfaults import FaultServer, Route

hosts = {hosts!r}
page = ("<html><head><title>t</title></head><body><article>" + "<p>" + "word " * 400 + "</p>" * 1
        + "</article></body></html>").encode() * 5
servers = [FaultServer(h, 0).__enter__() for h in hosts]
for s in servers:
    s.add("/robots.txt", Route(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"))
    for i in range({pages}):
        s.add(f"/p/{{i}}", Route(body=page))
print(json.dumps([s.base for s in servers]), flush=True)
sys.stdin.read()  # run until the bench closes our stdin
out = {{s.base: [r.at for r in s.requests if r.path.startswith("/p/")] for s in servers}}
print(json.dumps(out), flush=True)
for s in servers:
    s.__exit__(None, None, None)
"""


def start_servers(count: int, pages: int) -> tuple[subprocess.Popen[str], list[str]]:
    hosts = [f"127.0.0.{i + 2}" for i in range(count)]
    code = SERVER.format(tests=str(ROOT / "tests"), hosts=hosts, pages=pages)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    bases = json.loads(proc.stdout.readline())
    for base in bases:  # warm: each server answers before the clock starts
        with urlopen(base + "/robots.txt", timeout=5) as answer:
            answer.read()
    return proc, bases


def stop_servers(proc: subprocess.Popen[str]) -> dict[str, list[float]]:
    out, _ = proc.communicate("", timeout=60)
    return json.loads(out.strip().splitlines()[-1])


SENT: dict[int, list[float]] = {}


def record_sends() -> None:
    """Note when each request's headers leave the client, per host gate (the instant politeness governs)."""
    from pipeline.fetch.http import HostGate

    original = HostGate.at_send

    async def at_send(self: HostGate) -> None:
        await original(self)
        SENT.setdefault(id(self), []).append(time.monotonic())

    HostGate.at_send = at_send  # type: ignore[method-assign]


async def fetch_everything(urls: list[str], delay: float, per_host: int, concurrency: int) -> int:
    from pipeline.fetch.http import Fetcher
    from pipeline.settings import Settings

    settings = Settings(
        allow_private=("127.0.0.0/8",), per_host_delay_s=delay, per_host_concurrency=per_host,
        concurrency=concurrency, http_timeout_s=20, retries=0,
    )  # fmt: skip
    async with Fetcher(settings) as fetcher:
        results = await asyncio.gather(*(fetcher.get(u) for u in urls))
    return sum(len(r.body) for r in results)


def run_one(hosts: int, pages: int, delay: float, per_host: int, concurrency: int) -> dict[str, float]:
    proc, bases = start_servers(hosts, pages)
    SENT.clear()
    try:
        urls = [f"{b}/p/{i}" for i in range(pages) for b in bases]
        wall, cpu = time.perf_counter(), time.process_time()
        size = asyncio.run(fetch_everything(urls, delay, per_host, concurrency))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        arrivals = stop_servers(proc)
    gaps = _gaps(arrivals.values())
    sent_gaps = _gaps(SENT.values())
    fastest_host = max((len(t) - 1) / (max(t) - min(t)) if len(t) > 1 and max(t) > min(t) else 0
                       for t in arrivals.values())  # fmt: skip
    return {
        "hosts": hosts, "pages": len(urls), "seconds": wall, "pages_per_s": len(urls) / wall,
        "cpu_ms_per_page": 1000 * cpu / len(urls), "min_gap_ms": 1000 * min(gaps), "max_host_rate": fastest_host,
        "min_sent_gap_ms": 1000 * min(sent_gaps),
        "mb": size / 1e6,
    }  # fmt: skip


def _gaps(series: object) -> list[float]:
    out: list[float] = []
    for times in series:  # type: ignore[attr-defined]
        ordered = sorted(times)
        out += [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    return out or [float("inf")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="1,2,4,8")
    parser.add_argument("--pages", type=int, default=20, help="pages per host")
    parser.add_argument("--delay", type=float, default=0.1, help="per-host delay between request starts (s)")
    parser.add_argument("--per-host", type=int, default=2, help="requests at once per host")
    parser.add_argument("--concurrency", type=int, default=16, help="global requests at once")
    args = parser.parse_args()
    limit = 1 / args.delay
    print(f"politeness: >= {args.delay * 1000:.0f} ms between requests to one host (<= {limit:.1f} pages/s/host), "
          f"<= {args.per_host} at once per host, <= {args.concurrency} at once overall")  # fmt: skip
    print(f"{'hosts':>5} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'x 1 host':>9} {'ideal':>7} "
          f"{'CPU ms/page':>12} {'sent gap ms':>12} {'seen gap ms':>12} {'host pages/s':>13}")  # fmt: skip
    record_sends()
    run_one(1, 3, args.delay, args.per_host, args.concurrency)  # warm-up: imports, first connections
    baseline = None
    ok = True
    for hosts in [int(h) for h in args.hosts.split(",")]:
        r = run_one(hosts, args.pages, args.delay, args.per_host, args.concurrency)
        baseline = baseline or r["pages_per_s"]
        ideal = hosts * limit
        ok &= r["min_sent_gap_ms"] >= args.delay * 1000 and r["max_host_rate"] <= limit * 1.01
        print(f"{hosts:>5} {r['pages']:>6.0f} {r['seconds']:>8.2f} {r['pages_per_s']:>8.1f} "
              f"{r['pages_per_s'] / baseline:>8.2f}x {ideal:>7.1f} {r['cpu_ms_per_page']:>12.2f} "
              f"{r['min_sent_gap_ms']:>12.1f} {r['min_gap_ms']:>12.1f} {r['max_host_rate']:>13.2f}")  # fmt: skip
    print("every host within its limit" if ok else "A HOST WAS HIT FASTER THAN ALLOWED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
