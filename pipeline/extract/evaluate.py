"""Run newsflow's extraction and trafilatura's default over an extraction benchmark and score both
with the benchmark authors' metric (see scoring.py).

Datasets, under the evaluation data folder (`NEWSFLOW_EVAL_DATA`, default `../shared/corpus`):
- `aeb`: `extraction/aeb/html/<id>.html.gz` and `ground-truth.json` ({id: {articleBody, url}}).
- `trafilatura-eval`: `extraction/trafilatura-eval/evaldata.json` ({url: {file, with, without}}),
  files in `cache/` then `eval/`, gzip-compressed.

Pages of one host in a dataset are extracted together (`extract_many`), as `newsflow extract`
does with the pages it is given, so site-level boilerplate learning takes part; `site_learning=False`
scores page by page.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError, ItemFailed, Skip
from pipeline.extract.scoring import Score, aeb_score, snippet_score
from pipeline.settings import PROJECT_ROOT

DATASETS = ("aeb", "trafilatura-eval")


@dataclass(frozen=True)
class Page:
    key: str
    url: str
    path: Path


@dataclass
class EvalResult:
    dataset: str
    newsflow: Score
    trafilatura: Score | None
    skips: dict[str, int]
    pages: int


def eval_data_root() -> Path:
    env = os.environ.get("NEWSFLOW_EVAL_DATA")
    return Path(env).expanduser() if env else PROJECT_ROOT.parent / "shared" / "corpus"


def dataset_dir(dataset: str, root: Path | None = None) -> Path:
    if dataset not in DATASETS:
        raise ConfigError(f"unknown extraction dataset {dataset!r} (known: {', '.join(DATASETS)})")
    folder = (root or eval_data_root()) / "extraction" / dataset
    if not folder.is_dir():
        raise ConfigError(f"extraction dataset {dataset!r} not found at {folder} (set NEWSFLOW_EVAL_DATA)")
    return folder


def _load_json(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read benchmark file: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def aeb_pages(folder: Path) -> tuple[list[Page], dict[str, str]]:
    truth = _load_json(folder / "ground-truth.json")
    pages = [Page(key, str(item.get("url") or ""), folder / "html" / f"{key}.html.gz") for key, item in truth.items()]
    return pages, {key: str(item.get("articleBody") or "") for key, item in truth.items()}


def trafilatura_eval_pages(folder: Path) -> tuple[list[Page], dict[str, tuple[list[str], list[str]]]]:
    data = _load_json(folder / "evaldata.json")
    pages, gold = [], {}
    for url, item in data.items():
        name = str(item["file"])
        path = folder / "cache" / f"{name}.gz"
        if not path.exists():
            path = folder / "eval" / f"{name}.gz"
        pages.append(Page(url, url, path))
        gold[url] = (list(item.get("with") or []), list(item.get("without") or []))  # type: ignore[call-overload]
    return pages, gold


def read_page(page: Page) -> bytes:
    with gzip.open(page.path, "rb") as stream:
        return stream.read()


def newsflow_texts(
    pages: list[Page], *, site_learning: bool = True, tick: Callable[[int], None] | None = None, fast: bool = False
) -> tuple[dict[str, str | None], dict[str, int]]:
    from pipeline.extract.core import extract_many

    texts: dict[str, str | None] = {}
    skips: dict[str, int] = defaultdict(int)
    groups = [pages] if site_learning else [[p] for p in pages]
    for group in groups:
        results = extract_many([(read_page(p), p.url or None) for p in group], tick=tick, fast=fast)
        for page, result in zip(group, results, strict=True):
            if isinstance(result, Skip | ItemFailed):
                skips[f"{'skip' if isinstance(result, Skip) else 'failed'}:{result.reason}"] += 1
                texts[page.key] = None
            else:
                texts[page.key] = result.text
    return texts, dict(skips)


def trafilatura_texts(
    pages: list[Page], *, comments: bool = True, tick: Callable[[int], None] | None = None
) -> dict[str, str | None]:
    """trafilatura's default extraction: `trafilatura.extract(html, url=url)` with the library's
    defaults, or with comments off (`comments=False`, the call trafilatura's own evaluation uses)."""
    import trafilatura

    texts: dict[str, str | None] = {}
    for page in pages:
        texts[page.key] = trafilatura.extract(read_page(page), url=page.url or None, include_comments=comments)
        if tick:
            tick(1)
    return texts


def score_texts(dataset: str, texts: dict[str, str | None], gold: dict[str, object]) -> Score:
    if dataset == "aeb":
        return aeb_score((str(gold[key]), texts.get(key) or "") for key in gold)
    return snippet_score((texts.get(key), *gold[key]) for key in gold)  # type: ignore[misc]


def load_dataset(dataset: str, root: Path | None = None) -> tuple[list[Page], dict[str, object]]:
    folder = dataset_dir(dataset, root)
    if dataset == "aeb":
        pages, truth = aeb_pages(folder)
        return pages, dict(truth)
    pages, snippets = trafilatura_eval_pages(folder)
    return pages, dict(snippets)


def evaluate(
    dataset: str,
    *,
    root: Path | None = None,
    baseline: bool = True,
    site_learning: bool = True,
    limit: int | None = None,
    tick: Callable[[int], None] | None = None,
    fast: bool = False,
) -> EvalResult:
    pages, gold = load_dataset(dataset, root)
    if limit:
        pages = pages[:limit]
        gold = {p.key: gold[p.key] for p in pages}
    texts, skips = newsflow_texts(pages, site_learning=site_learning, tick=tick, fast=fast)
    reference = score_texts(dataset, trafilatura_texts(pages, tick=tick), gold) if baseline else None
    return EvalResult(dataset, score_texts(dataset, texts, gold), reference, skips, len(pages))
