"""Quality gate: newsflow's extraction scored on the shared benchmarks must not fall below the F1
pinned in tests/extraction_baseline.json (minus a small tolerance). Skipped, with the reason, when the
evaluation data is absent. Re-pin after a deliberate change with:

    .venv/bin/python tests/test_extract_quality.py --pin
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pipeline.extract.evaluate import evaluate

BASELINE = Path(__file__).with_name("extraction_baseline.json")


def _pinned() -> dict[str, dict[str, float]]:
    return json.loads(BASELINE.read_text(encoding="utf-8"))


def _measure(dataset: str, pages: int | None, root: Path) -> dict[str, float]:
    result = evaluate(dataset, root=root, baseline=False, limit=pages)
    return {"f1": round(result.newsflow.f1, 4), "precision": round(result.newsflow.precision, 4),
            "recall": round(result.newsflow.recall, 4), "pages": result.pages}  # fmt: skip


@pytest.mark.parametrize("dataset", ["aeb", "trafilatura-eval"])
def test_extraction_f1_does_not_drop(dataset: str, shared_corpus: Path) -> None:
    if not (shared_corpus / "extraction" / dataset).is_dir():
        pytest.skip(f"benchmark {dataset} absent under {shared_corpus / 'extraction'}")
    pinned = _pinned()
    entry = pinned[dataset]
    measured = _measure(dataset, int(entry["pages"]), shared_corpus)
    assert measured["pages"] == entry["pages"]
    assert measured["f1"] >= entry["f1"] - pinned["tolerance"]["f1"], (dataset, measured, entry)


if __name__ == "__main__":
    if sys.argv[1:] != ["--pin"]:
        raise SystemExit("usage: test_extract_quality.py --pin")
    from pipeline.extract.evaluate import eval_data_root

    current = _pinned()
    for name in ("aeb", "trafilatura-eval"):
        current[name] = _measure(name, int(current[name]["pages"]), eval_data_root())
        print(name, current[name])
    BASELINE.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
