"""Extraction speed: newsflow's whole extraction step against plain `trafilatura.extract` on the same
pages in the same run, with lxml's parse time as the floor.

    .venv/bin/python bench/extract.py [--pages N] [--dataset aeb|trafilatura-eval] [--repeat R]

Each page is timed with the three methods one after another (so machine load hits all three
alike), after one warm-up pass. Prints median and mean milliseconds per page and the ratios to
plain trafilatura. Goal (issue 4): newsflow at most 1.5x plain trafilatura per page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import lxml.html
import trafilatura

from pipeline.errors import ConfigError, Skip
from pipeline.extract import extract
from pipeline.extract.evaluate import load_dataset, read_page


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


SKIPS: Counter[str] = Counter()


def _newsflow(html: bytes, url: str | None, now: datetime) -> None:
    try:
        extract(html, url, now=now)
    except Skip as skip:  # a skipped page is part of the step's work all the same; counted
        SKIPS[skip.reason] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="aeb", choices=("aeb", "trafilatura-eval"))
    parser.add_argument("--pages", type=int, default=181)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        pages, _ = load_dataset(args.dataset)
    except ConfigError as exc:
        print(f"no benchmark data: {exc}", file=sys.stderr)
        return 2
    pages = pages[: args.pages]
    loaded = [(read_page(p), p.url or None) for p in pages]
    now = datetime.now(UTC)
    methods: dict[str, Callable[[bytes, str | None], object]] = {
        "lxml parse (floor)": lambda html, url: lxml.html.fromstring(html),
        "trafilatura.extract (plain)": lambda html, url: trafilatura.extract(html, url=url),
        "newsflow extract (whole step)": lambda html, url: _newsflow(html, url, now),
    }
    for html, url in loaded[:5]:  # warm-up: imports, caches, language model
        for method in methods.values():
            method(html, url)
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeat):
        for html, url in loaded:
            for name, method in methods.items():
                times[name].append(_timed(lambda m=method, h=html, u=url: m(h, u)))  # type: ignore[misc]
    base_median = statistics.median(times["trafilatura.extract (plain)"])
    base_mean = statistics.mean(times["trafilatura.extract (plain)"])
    print(f"{args.dataset}: {len(loaded)} pages x {args.repeat}")
    print(f"{'method':32} {'median ms':>10} {'mean ms':>10} {'median ratio':>13} {'mean ratio':>11}")
    for name, values in times.items():
        median, mean = statistics.median(values), statistics.mean(values)
        print(f"{name:32} {median:10.1f} {mean:10.1f} {median / base_median:13.2f} {mean / base_mean:11.2f}")
    if SKIPS:
        print("newsflow skips (all passes): " + ", ".join(f"{k}={v}" for k, v in sorted(SKIPS.items())))
    ratio = statistics.median(times["newsflow extract (whole step)"]) / base_median
    print(f"goal: newsflow <= 1.5x plain trafilatura per page (median): {'met' if ratio <= 1.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
