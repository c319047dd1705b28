"""Event-stage speed: the time `mentions_in` adds per article, beside the extraction step the same
article goes through, in the same run.

    .venv/bin/python bench/events.py [--pages N] [--dataset aeb|trafilatura-eval] [--repeat R]

Each page is extracted with newsflow's whole extraction step (the baseline: the largest per-article
cost of the pipeline) and its text then run through the event stage, one after the other, after one
warm-up pass of both (as in a worker that has handled a few articles). The gazetteer and YAML files
load once per process (from a cache after the first); that one-off time is printed apart.
Goal (events issue): events add at most 10 % to the pipeline's time per article. Extraction alone is
less than the whole pipeline, so events / extraction is an upper bound of that share.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime

from pipeline.errors import ConfigError, Skip
from pipeline.events.config import load_config
from pipeline.events.gazetteer import load_gazetteer
from pipeline.events.rules import mentions_in
from pipeline.extract import extract
from pipeline.extract.evaluate import load_dataset, read_page


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
    started = time.perf_counter()
    load_config()
    load_gazetteer()
    load_seconds = time.perf_counter() - started
    now = datetime.now(UTC)
    docs = []
    for page in pages[: args.pages]:
        html = read_page(page)
        try:
            warm = extract(html, page.url or None, now=now)  # warm-up pass (caches, coarse regions)
        except Skip:
            continue
        mentions_in(warm.text, warm.published_at or now)
        docs.append((html, page.url or None))
    extract_ms: list[float] = []
    events_ms: list[float] = []
    found = 0
    for _ in range(args.repeat):
        for html, url in docs:
            t0 = time.perf_counter()
            article = extract(html, url, now=now)
            t1 = time.perf_counter()
            found += len(mentions_in(article.text, article.published_at or now))
            t2 = time.perf_counter()
            extract_ms.append((t1 - t0) * 1000)
            events_ms.append((t2 - t1) * 1000)
    print(f"{args.dataset}: {len(docs)} extracted pages x {args.repeat}; {found} events found")
    print(f"one-off load of gazetteer and YAML files: {load_seconds:.2f} s per process")
    print(f"{'step':34} {'median ms':>10} {'mean ms':>10} {'p95 ms':>8}")
    for name, values in (("newsflow extract (baseline)", extract_ms), ("events (mentions_in)", events_ms)):
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        print(f"{name:34} {statistics.median(values):10.2f} {statistics.mean(values):10.2f} {p95:8.2f}")
    share = sum(events_ms) / sum(extract_ms)
    median_share = statistics.median(events_ms) / statistics.median(extract_ms)
    print(f"events / extraction: total {share:.3f}, median {median_share:.3f}")
    print(f"goal: events add <= 10% per article (total time): {'met' if share <= 0.10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
