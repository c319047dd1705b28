"""Whole-pipeline throughput: a backfill of real pages into a fresh PostgreSQL database, beside plain
`trafilatura.extract` over the same pages in the same run.

    .venv/bin/python bench/whole_pipeline.py [--pages N] [--workers 1,2] [--fast] [--database-url URL]

The pages are the shared extraction corpora (`$NEWSFLOW_EVAL_DATA/extraction`: aeb, then
trafilatura-eval), written at bench time into one temporary WARC.gz (never into the repository).
Each measured method runs in a fresh child process, one after another, so that its CPU time and
peak memory are its own:

- `trafilatura`: plain `trafilatura.extract(html, url=url)` over the pages, in one process;
- `pipeline wN`: `backfill(warc:...)` then `link_and_find_events` with `workers=N` into a fresh
  database (extract, classify, syndication, events, all committed), then the same backfill again
  (the rerun of an already-loaded archive);
- with `--fast`, also `pipeline wN fast`: the same with `extract_fast` (trafilatura's fast mode).

Prints pages/s, wall and CPU per page (the process and its extraction workers; PostgreSQL's own
CPU is not counted) and their ratios to plain trafilatura, the wall seconds per stage from the
run's `pipeline_runs.durations`, peak RSS (the process, and the largest worker), and the rerun time.
Goals (issue "Throughput"): CPU per page <= 1.3x plain trafilatura; on 2 cores, pages/s >= 1.5x
single-core plain trafilatura; rerun <= 5 % of the first run; peak memory of a 1,000-page backfill
<= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

# This file is named like the `pipeline` package: keep its own folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATASETS = ("aeb", "trafilatura-eval")


def load_pages(limit: int) -> list[tuple[str, bytes]]:
    """(url, html bytes) of up to `limit` corpus pages with distinct URLs."""
    from pipeline.extract.evaluate import load_dataset, read_page

    pages: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for dataset in DATASETS:
        for page in load_dataset(dataset)[0]:
            if len(pages) >= limit:
                return pages
            if page.url and page.url not in seen:
                seen.add(page.url)
                pages.append((page.url, read_page(page)))
    return pages


def write_warc(pages: list[tuple[str, bytes]], path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, body in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2024-05-01T12:00:00Z"},
            )  # fmt: skip
            writer.write_record(record)


def _usage() -> dict[str, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "rss_mb": _own_peak_mb(),
        # ru_maxrss of the children: an upper bound (Linux carries a process's peak over fork and exec, so a
        # worker started by a large parent reports at least the parent's size at that moment)
        "worker_rss_mb": kids.ru_maxrss / 1024,
    }


def _own_peak_mb() -> float:
    """This process's peak RSS since its exec (VmHWM). ru_maxrss would carry the peak of the bench's
    parent, which forked this child while holding every page in memory."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


# ---------------------------------------------------------------- children: one method each


def child_trafilatura(warc: Path) -> dict[str, Any]:
    import trafilatura

    from pipeline.sources.warc import read_warc

    counts: Counter[str] = Counter()  # a page the WARC reader skips (a bad URL) is counted, not fatal
    pages = [(p.url, p.body) for p in read_warc(warc, counts, start=None, end=None, max_bytes=10**8)]  # type: ignore[arg-type]
    start, cpu = time.perf_counter(), _usage()["cpu"]
    made = sum(1 for url, body in pages if trafilatura.extract(body, url=url))
    return {"pages": len(pages), "wall": time.perf_counter() - start, "cpu": _usage()["cpu"] - cpu, "made": made,
            **{k: v for k, v in _usage().items() if k != "cpu"}}  # fmt: skip


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    name = f"newsflow_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _backfill_once(settings: Any, warc: Path) -> tuple[float, dict[str, float], dict[str, int]]:
    from pipeline.db import connection
    from pipeline.jobs.backfill import backfill
    from pipeline.jobs.nightly import held_run, link_and_find_events
    from pipeline.runs import load_report

    start = time.perf_counter()
    with held_run(settings, "backfill", sync_feeds=False) as run_id:
        with connection(settings) as conn:
            counts = backfill(conn, settings, f"warc:{warc}", run_id=run_id)
        link_and_find_events(settings, run_id)
    wall = time.perf_counter() - start
    with connection(settings) as conn:
        report = load_report(conn, run_id)
    staged = {f"{stage}.{key}": n for stage, found in report.counts.items() for key, n in found.items()}
    return wall, {k: float(v) for k, v in report.durations.items()}, {**counts, **staged}


def child_pipeline(warc: Path, workers: int, admin_url: str, home: Path, fast: bool) -> dict[str, Any]:
    from pipeline.settings import load_settings

    with fresh_database(admin_url) as url:
        settings = load_settings().with_overrides(database_url=url, workers=workers, home=home, extract_fast=fast)
        from pipeline.db import connection

        with connection(settings):  # migrations are set-up, not the pipeline's work
            pass
        cpu = _usage()["cpu"]
        wall, stages, counts = _backfill_once(settings, warc)
        from pipeline.extract import parallel

        parallel.shutdown()  # the workers' CPU time and peak memory are counted once they have ended
        used = _usage()
        rerun_wall, _, rerun_counts = _backfill_once(settings, warc)
    return {
        "wall": wall, "cpu": used["cpu"] - cpu, "rss_mb": used["rss_mb"], "worker_rss_mb": used["worker_rss_mb"],
        "stages": stages, "counts": counts, "rerun_wall": rerun_wall,
        "rerun_extracted": sum(v for k, v in rerun_counts.items() if k.startswith("extract.")),
    }  # fmt: skip


# ---------------------------------------------------------------- the parent: runs and compares


def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench child {args[:2]} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to measure")
    parser.add_argument("--database-url", default=os.environ.get("NEWSFLOW_BENCH_ADMIN_URL", ADMIN_URL),
                        help="a database on the server to create the bench databases from")  # fmt: skip
    parser.add_argument("--fast", action="store_true", help="also measure each worker count with extract_fast")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, warc = args.child[0], Path(args.child[1])
        if kind == "trafilatura":
            result = child_trafilatura(warc)
        else:
            result = child_pipeline(warc, int(args.child[2]), args.database_url, Path(args.child[3]),
                                    args.child[4] == "fast")  # fmt: skip
        print(json.dumps(result))
        return 0
    from pipeline.errors import ConfigError

    try:
        pages = load_pages(args.pages)
    except ConfigError as exc:
        print(f"no benchmark data: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp:
        warc = Path(tmp) / "pages.warc.gz"
        write_warc(pages, warc)
        print(f"{len(pages)} pages ({warc.stat().st_size / 1e6:.1f} MB WARC.gz), {os.cpu_count()} cores")
        base = _child(["trafilatura", str(warc)])
        modes = ("thorough", "fast") if args.fast else ("thorough",)
        results = {f"{w}{' fast' if mode == 'fast' else ''}": _child(["pipeline", str(warc), w, tmp, mode])
                   for mode in modes for w in args.workers.split(",")}  # fmt: skip
    report(len(pages), base, results)
    return 0


def report(n: int, base: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    print(f"\n{'method':<22}{'pages/s':>9}{'wall ms/p':>11}{'x traf':>8}{'CPU ms/p':>10}{'x traf':>8}"
          f"{'peak MB':>9}{'worker MB':>11}{'rerun s':>9}{'rerun %':>9}")  # fmt: skip
    bw, bc = base["wall"] / n * 1000, base["cpu"] / n * 1000
    print(f"{'plain trafilatura':<22}{n / base['wall']:>9.1f}{bw:>11.1f}{1:>8.2f}{bc:>10.1f}{1:>8.2f}"
          f"{base['rss_mb']:>9.0f}{'':>11}{'':>9}{'':>9}")  # fmt: skip
    for workers, r in results.items():
        w, c = r["wall"] / n * 1000, r["cpu"] / n * 1000
        print(f"{f'pipeline w={workers}':<22}{n / r['wall']:>9.1f}{w:>11.1f}{w / bw:>8.2f}{c:>10.1f}"
              f"{c / bc:>8.2f}{r['rss_mb']:>9.0f}{r['worker_rss_mb']:>11.0f}{r['rerun_wall']:>9.2f}"
              f"{100 * r['rerun_wall'] / r['wall']:>9.1f}")  # fmt: skip
    print("\nwall seconds per stage (pipeline_runs.durations) and ms per page:")
    for workers, r in results.items():
        stages = ", ".join(f"{k} {v:.1f} s ({v / n * 1000:.1f})" for k, v in sorted(r["stages"].items()))
        print(f"  workers={workers}: {stages}")
        print(f"    rerun extracted {r['rerun_extracted']} page(s); counts: "
              + ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()) if k in KEY_COUNTS))  # fmt: skip
    print(f"  plain trafilatura made text for {base['made']} of {base['pages']} pages")


KEY_COUNTS = ("pages_stored", "extract.stored", "extract.already_stored", "extract.skip:too_short",
              "extract.skip:no_text", "extract.failed:error", "events.events")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
