"""Freshness of `newsflow watch`: loopback feeds on several hosts publish new items at a steady rate;
`newsflow watch` runs in a subprocess against a fresh database; for each item, the time from its
appearance in its feed to its article being labelled, linked and read for events (queryable) is
measured. Prints the median and 95th percentile beside the bound the feeds' poll interval sets (the
baseline: an item waits on average half an interval, at worst a whole one, before any poll sees it;
the nightly run's baseline is up to 24 h), the item rate sustained, the watcher's RSS over time, and
how often each feed was polled (adaptive polling polls a publishing feed sooner than its interval;
`--quiet-hosts` adds feeds that publish nothing, which should stay at their interval; `--fixed`
turns adaptive polling off, for the baseline).

    .venv/bin/python bench/freshness.py --minutes 3 --rate 2 --hosts 4 --poll 60
    .venv/bin/python bench/freshness.py --minutes 30 --rate 10 --hosts 10 --quiet-hosts 2 --poll 300

Needs PostgreSQL ($NEWSFLOW_BENCH_ADMIN_URL, default postgres@127.0.0.1:5432); the database it creates
is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from loopsite import LoopSite  # noqa: E402 - the test suite's loopback site, with `publish`

DONE = """SELECT a.url FROM articles a JOIN article_classifications c ON c.article_id = a.id
          JOIN article_work w ON w.article_id = a.id
          WHERE w.link_state <> 'pending' AND w.events_state <> 'pending'"""


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):  # the process ended between listing and reading
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (the watcher's extraction pool and its resource tracker)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def tree_rss_kib(pid: int) -> tuple[int, int]:
    """RSS of the watcher process alone and of it with its worker processes."""
    own = rss_kib(pid)
    return own, own + sum(rss_kib(child) for child in descendants(pid))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def feed_polls(site: LoopSite, started: float) -> list[list[float]]:
    """For each host, the times (s from the start) its feed was requested."""
    offset = time.time() - time.monotonic()  # the site logs monotonic times
    by_host: dict[str, list[float]] = {host.address: [] for host in site.hosts}
    for address, path, at in list(site.log):
        if path == "/feed.xml":
            by_host[address].append(at + offset - started)
    return [sorted(by_host[host.address]) for host in site.hosts]


def report_polls(polls: list[list[float]], args: argparse.Namespace) -> None:
    """Polls per feed and the median wait between two polls, publishing feeds apart from quiet ones."""
    for label, group in (("publishing", polls[: args.hosts]), ("quiet", polls[args.hosts :])):
        gaps = [b - a for times in group for a, b in zip(times, times[1:], strict=False)]
        if group:
            print(f"feed polls ({label}, {len(group)} feeds): {sum(map(len, group))} in all, "
                  f"{statistics.mean(map(len, group)):.1f} per feed; wait between polls median "
                  f"{statistics.median(gaps) if gaps else 0:.0f} s, max {max(gaps, default=0):.0f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long items are published")
    parser.add_argument("--rate", type=float, default=2.0, help="new items per second, over all hosts")
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--poll", type=int, default=60, help="feeds' poll interval in seconds (minimum 60)")
    parser.add_argument("--delay", type=float, default=0.2, help="per-host politeness delay in seconds")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the last items")
    parser.add_argument("--quiet-hosts", type=int, default=0, help="more hosts whose feeds publish nothing")
    parser.add_argument("--fixed", action="store_true", help="adaptive polling off: every poll at --poll")
    args = parser.parse_args()

    admin_url = os.environ.get("NEWSFLOW_BENCH_ADMIN_URL", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    name = f"newsflow_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    published: dict[str, float] = {}  # url -> wall time it appeared in its feed
    done: dict[str, float] = {}
    memory: list[tuple[float, int, int]] = []  # (seconds, watcher KiB, watcher and its workers KiB)
    politeness: list[float] = []  # gaps between two requests to one host
    served_twice = 0
    stop = threading.Event()
    try:
        hosts = args.hosts + args.quiet_hosts
        with LoopSite(hosts=hosts, pages_per_host=1, copies=0) as site, tempfile.TemporaryDirectory() as home:
            feeds = Path(home) / "feeds.yaml"
            adaptive = "false" if args.fixed else "true"
            lines = [f"defaults: {{poll_interval: {args.poll}, adaptive: {adaptive}}}", site.feeds_yaml().rstrip()]
            feeds.write_text("\n".join(lines) + "\n", encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "DATABASE_URL"))}
            env.update(
                DATABASE_URL=url, NEWSFLOW_HOME=home, NEWSFLOW_FEEDS=str(feeds),
                NEWSFLOW_ALLOW_PRIVATE=site.allow_list(), NEWSFLOW_PER_HOST_DELAY=str(args.delay),
                NEWSFLOW_PER_HOST_CONCURRENCY="1", PYTHONPATH=str(ROOT),
            )  # fmt: skip
            log = open(Path(home) / "watch.log", "w")  # noqa: SIM115 - closed below
            proc = subprocess.Popen(
                [sys.executable, "-c", "from pipeline.cli import main; main()", "watch", "--idle", "5"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

            def publisher() -> None:
                n = 0
                start = time.monotonic()
                while not stop.is_set() and time.monotonic() - start < args.minutes * 60:
                    page_url = site.publish(n % args.hosts, event=n % 3 == 0)
                    published[page_url] = time.time()
                    n += 1
                    time.sleep(max(0.0, start + n / args.rate - time.monotonic()))

            thread = threading.Thread(target=publisher, daemon=True)
            started = time.time()
            thread.start()
            try:  # the watcher ends with the bench, whatever happens
                with psycopg.connect(url, autocommit=True) as conn:
                    deadline = time.monotonic() + args.minutes * 60 + args.drain
                    last_memory = 0.0
                    while time.monotonic() < deadline:
                        now = time.time()
                        try:
                            for (done_url,) in conn.execute(DONE):
                                done.setdefault(done_url, now)
                        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
                            pass  # the watcher has not applied the migrations yet (or not all of them)
                        if now - last_memory >= 10:
                            memory.append((now - started, *tree_rss_kib(proc.pid)))
                            last_memory = now
                        if not thread.is_alive() and all(u in done for u in published):
                            break
                        time.sleep(0.5)
            finally:
                stop.set()
                proc.terminate()
                proc.wait(timeout=60)
                log.close()
            polls = feed_polls(site, started)
            politeness = site.gaps()
            served_twice = sum(1 for n in site.page_requests().values() if n > 1)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    lags = [done[u] - t for u, t in published.items() if u in done]
    finished = [done[u] for u in published if u in done]
    span = (max(finished) - min(published.values())) if finished else 0.0
    print(f"items published {len(published)} at {args.rate}/s over {args.minutes} min on {args.hosts} hosts "
          f"(poll interval {args.poll} s, per-host delay {args.delay} s); queryable {len(lags)}")  # fmt: skip
    if lags:
        median, p95 = statistics.median(lags), percentile(lags, 0.95)
        print(f"freshness  median {median:.1f} s  p95 {p95:.1f} s  max {max(lags):.1f} s")
        print(f"baseline (poll interval bound): mean wait {args.poll / 2:.0f} s, worst {args.poll} s; "
              f"median/mean-wait = {median / (args.poll / 2):.2f}, p95/interval = {p95 / args.poll:.2f}")  # fmt: skip
        print(f"sustained rate {len(lags) / span:.2f} items/s (offered {args.rate}/s)")
        # Items made queryable per second in the middle half of the publishing period (the first and last
        # quarters hold the start-up and the drain): what the watcher keeps up with in steady state.
        begin = min(published.values())
        window = (begin + args.minutes * 15, begin + args.minutes * 45)
        steady = sum(1 for t in finished if window[0] <= t < window[1])
        print(f"steady rate {steady / (window[1] - window[0]):.2f} items/s made queryable in the middle half "
              f"of the run (offered {args.rate}/s)")  # fmt: skip
        order = sorted((t, done[u] - t) for u, t in published.items() if u in done)
        halves = [[lag for _, lag in order[: len(order) // 2]], [lag for _, lag in order[len(order) // 2 :]]]
        if all(halves):  # a watcher that falls behind shows a later half slower than the first
            print("freshness by half of the run (first, second): median "
                  f"{statistics.median(halves[0]):.1f} s, {statistics.median(halves[1]):.1f} s; "
                  f"p95 {percentile(halves[0], 0.95):.1f} s, {percentile(halves[1], 0.95):.1f} s")  # fmt: skip
    report_polls(polls, args)
    if politeness:
        # The times are taken in the site's server threads, which the watcher's load delays a little:
        # a gap below the delay by a few ms is the server's scheduling, well below it the client's fault.
        short = sum(1 for gap in politeness if gap < 0.75 * args.delay)
        print(f"politeness: {len(politeness)} gaps measured, smallest "
              f"{min(politeness):.3f} s between two requests to one host (delay {args.delay} s), {short} under "
              f"0.75 x the delay; pages served more than once: {served_twice}")  # fmt: skip
    if memory:
        print("RSS (KiB) over time, watcher / with its workers: "
              + ", ".join(f"{t:.0f}s={own}/{tree}" for t, own, tree in memory))  # fmt: skip
        for label, column in (("watcher", 1), ("watcher and workers", 2)):
            report_memory(label, [(row[0], int(row[column])) for row in memory])


def report_memory(label: str, samples: list[tuple[float, int]]) -> None:
    """Growth after start-up (from the first sample at 1 minute: the models load in the first seconds)
    and over the last two thirds of the run."""
    started_up = next((kib for t, kib in samples if t >= 60), None)
    if not started_up:
        return
    last = samples[-1][1]
    settled = samples[len(samples) // 3][1]
    print(f"{label}: RSS at 1 min {started_up} KiB, at a third {settled} KiB, last {last} KiB, peak "
          f"{max(k for _, k in samples)} KiB; growth after start-up {100 * (last - started_up) / started_up:+.1f} %, "
          f"after a third {100 * (last - settled) / settled:+.1f} %")  # fmt: skip


if __name__ == "__main__":
    main()
