"""Peak memory of `newsflow extract` on a decompression bomb, beside an ordinary page in the same run.

    python bench/bounded_inputs.py            # writes its inputs to a temporary folder

Each case runs in its own process; the figure is that process's peak resident memory (ru_maxrss).
The bomb is a 1.5 MB .html.gz that inflates to 1.5 GB; the goal is a peak under 500 MB, close to
the ordinary page's.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_mb(path: Path) -> float:
    newsflow = str(Path(sys.executable).parent / "newsflow")
    run = [sys.executable, "-c", MEASURE, newsflow, "extract", "--no-database", str(path)]
    found = subprocess.run(run, capture_output=True, text=True, check=True)
    return int(found.stdout.strip()) / 1024


def write_inputs(folder: Path) -> tuple[Path, Path]:
    page = folder / "page.html.gz"
    paragraphs = "".join(f"<p>Paragraph {i} says what happened in the city on that day.</p>" for i in range(400))
    page.write_bytes(gzip.compress(f"<html><body><article><h1>News</h1>{paragraphs}</article></body></html>".encode()))
    bomb = folder / "bomb.html.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:
        stream.write(b"<html><body><article><p>")
        for _ in range(1500):
            stream.write(b"a" * 1_000_000)
    return page, bomb


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        page, bomb = write_inputs(Path(tmp))
        base, attack = peak_mb(page), peak_mb(bomb)
        print(f"{'input':<34}{'file MB':>9}{'peak MB':>10}{'ratio':>8}")
        print(f"{'ordinary page (baseline)':<34}{page.stat().st_size / 1e6:>9.3f}{base:>10.0f}{1:>8.2f}")
        print(f"{'bomb (1.5 GB inflated)':<34}{bomb.stat().st_size / 1e6:>9.3f}{attack:>10.0f}{attack / base:>8.2f}")


if __name__ == "__main__":
    main()
