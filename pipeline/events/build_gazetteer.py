"""`python -m pipeline.events.build_gazetteer`: write the events stage's gazetteer file if it is missing
(`./dev.sh setup` and the Docker image run this, so that no backfill or task pays the ~10 s build).

With PLACES_FILE MIN_POPULATION CACHE: the child process of `gazetteer.build_store_in_child`, which
builds that file outside the caller's memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.events.gazetteer import build_store, warm_cache


def main(argv: list[str]) -> int:
    if len(argv) == 3:
        build_store(Path(argv[0]), int(argv[1]), Path(argv[2]))
        return 0
    if argv:
        print("usage: python -m pipeline.events.build_gazetteer [PLACES_FILE MIN_POPULATION CACHE]", file=sys.stderr)
        return 2
    try:
        print(f"gazetteer: {warm_cache() or 'not cached (NEWSFLOW_CACHE is empty)'}")
    except OSError as exc:
        print(f"gazetteer: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
