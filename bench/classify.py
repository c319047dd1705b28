"""Classification speed on one core: documents per second and model load time, beside a baseline.

Rates and load times are CPU time of one thread (the machine is shared; wall-clock rates fall when
other jobs take the cores); training is given in CPU and wall-clock seconds.

    .venv/bin/python bench/classify.py [--data ../shared/corpus] [--repeat 3]

Rows: the rule classifier of the shipped taxonomy (seed-sized news articles when the seeds are
present), and for SATP and BBC the trained newsflow model against the baseline "TF-IDF words +
characters, logistic regression" in the same run. The trained models are cached (joblib) and
loaded from the cache to time a cold start.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from pipeline.classify import models  # noqa: E402
from pipeline.classify.evaluate import DATASETS, read_split, split_path, write_taxonomy  # noqa: E402
from pipeline.classify.taxonomy import Example, Taxonomy, load_taxonomy  # noqa: E402
from pipeline.settings import PROJECT_ROOT  # noqa: E402

Docs = Sequence[tuple[str, str]]


def rate(fn: Callable[[Docs], object], docs: Docs, repeat: int) -> float:
    """Documents per second of CPU time (one thread), best of `repeat`: the machine is shared, and
    wall-clock rates fall 2-4x when other jobs take the cores; CPU time is what one core delivers."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn(docs)
        best = min(best, time.process_time() - started)
    return len(docs) / max(best, 1e-9)


def baseline(train_docs: Docs, labels: Sequence[frozenset[str]], ids: Sequence[str]) -> Callable[[Docs], object]:
    """TF-IDF words + char n-grams, one logistic regression per label (the issue's simple baseline)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    texts = [t for _, t in train_docs]
    x = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    fitted = [LogisticRegression(max_iter=2000).fit(x, [int(i in y) for y in labels]) for i in ids]

    def predict(docs: Docs) -> object:
        texts = [t for _, t in docs]
        z = sparse.hstack([words.transform(texts), chars.transform(texts)]).tocsr()
        return [m.predict_proba(z) for m in fitted]

    return predict


def bench_dataset(name: str, root: Path, repeat: int) -> None:
    dataset = DATASETS[name]
    if not split_path(dataset, "train", root).is_file():
        print(f"{name}: skipped, no data in {root}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp), Path(tmp) / "models"
        taxonomy = load_taxonomy(write_taxonomy(dataset, split_path(dataset, "train", root), folder))
        started, cpu = time.perf_counter(), time.process_time()
        models.get_classifier(taxonomy, cache)
        train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
        models._CLASSIFIERS.clear()
        started = time.process_time()
        model = models.get_classifier(taxonomy, cache)
        load_s = time.process_time() - started
        size = sum(p.stat().st_size for p in cache.iterdir())
    dev = [("", e.text) for _, e in read_split(split_path(dataset, "dev", root))]
    train = read_split(split_path(dataset, "train", root))
    base = baseline([("", e.text) for _, e in train], [e.labels for _, e in train], taxonomy.topic_ids)
    ours, theirs = rate(model.classify, dev, repeat), rate(base, dev, repeat)
    chosen = model.chosen.name if isinstance(model, models.LinearClassifier) else model.version
    print(
        f"{name:5s} newsflow {ours:8.0f} docs/s ({chosen}) | baseline words+chars LR {theirs:8.0f} docs/s | "
        f"ratio {ours / theirs:5.1f}x | train {train_cpu:5.1f} s CPU ({train_s:.1f} s wall) on {len(train)} "
        f"examples (goal <= 120 s for 2,000), load from cache "
        f"{load_s * 1000:6.0f} ms CPU ({size / 1e6:.1f} MB; goal <= 2 s) | {len(dev)} dev docs, "
        f"mean {sum(len(t) for _, t in dev) / len(dev):.0f} chars"
    )
    news = news_500(root)
    if news:
        ours, theirs = rate(model.classify, news, repeat), rate(base, news, repeat)
        print(
            f"{name:5s} newsflow {ours:8.0f} docs/s | baseline {theirs:8.0f} docs/s | ratio {ours / theirs:5.1f}x "
            f"| {len(news)} general-news articles cut to 500 words (goal >= 300 docs/s)"
        )


def bench_training(name: str, root: Path, size: int = 2_000) -> None:
    """Training time on `size` examples: the data set's train and dev texts, then pairs of train texts
    joined (with the union of their labels) until there are `size` (timing only, no quality)."""
    dataset = DATASETS[name]
    if not split_path(dataset, "train", root).is_file():
        return
    rows = [e for split in ("train", "dev") for _, e in read_split(split_path(dataset, split, root))]
    first = list(rows)
    for a, b in zip(first, first[1:], strict=False):
        if len(rows) >= size:
            break
        rows.append(Example(f"{a.text} {b.text}", a.labels | b.labels))
    with tempfile.TemporaryDirectory() as tmp:
        examples = Path(tmp) / "examples.jsonl"
        examples.write_text(
            "".join(json.dumps({"text": e.text, "labels": sorted(e.labels)}) + "\n" for e in rows[:size]),
            encoding="utf-8",
        )
        taxonomy = load_taxonomy(write_taxonomy(dataset, examples, Path(tmp)))
        started, cpu = time.perf_counter(), time.process_time()
        model = models.train(taxonomy)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{name:5s} training on {len(taxonomy.examples)} examples ({model.chosen.name}"
        f"{' + chain' if model.chain else ''}): {cpu:5.1f} s CPU ({wall:.1f} s wall; goal <= 120 s)"
    )


def per_topic_scan(taxonomy: Taxonomy) -> Callable[[Docs], object]:
    """The previous keyword counting: one regular-expression scan per topic and one for the anchors."""
    patterns = [t.keyword_pattern() for t in taxonomy.topics] + [taxonomy.relevance_pattern()]

    def count(docs: Docs) -> object:
        return [[len(p.findall(text)) for p in patterns if p is not None] for _, text in docs]

    return count


def news_500(root: Path) -> list[tuple[str, str]]:
    """General news cut to 500 words: the AEB article bodies of the extraction corpus."""
    aeb = root / "extraction" / "aeb" / "ground-truth.json"
    if not aeb.is_file():
        return []
    bodies = [v["articleBody"] for v in json.loads(aeb.read_text(encoding="utf-8")).values()]
    return [("", " ".join(b.split()[:500])) for b in bodies if len(b.split()) >= 500]


def bench_rules(root: Path, repeat: int) -> None:
    started = time.process_time()
    taxonomy = load_taxonomy(PROJECT_ROOT / "config" / "topics.yaml")
    model = models.get_classifier(taxonomy)
    model.classify([("", "warm-up")])
    load_s = time.process_time() - started
    seeds = sorted((root / "seeds").glob("0*.txt"))
    docs = [("", p.read_text(encoding="utf-8")) for p in seeds] * 20
    if not docs:
        print(f"rules: skipped, no seeds in {root}")
        return
    words = sum(len(t.split()) for _, t in docs) / len(docs)
    ours, theirs = rate(model.classify, docs, repeat), rate(per_topic_scan(taxonomy), docs, repeat)
    print(
        f"rules newsflow {ours:8.0f} docs/s (default taxonomy, whole classification) | one regex scan per topic, "
        f"counting only {theirs:6.0f} docs/s | ratio {ours / theirs:5.1f}x | load {load_s * 1000:.0f} ms | "
        f"seed articles, mean {words:.0f} words (goal >= 1,000 docs/s)"
    )
    news = news_500(root)
    if news:
        print(
            f"rules newsflow {rate(model.classify, news, repeat):8.0f} docs/s (default taxonomy) on {len(news)} "
            "general-news articles cut to 500 words (goal >= 300 docs/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("NEWSFLOW_EVAL_DATA", PROJECT_ROOT.parent / "shared" / "corpus")),
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_rules(args.data, args.repeat)
    for name in ("satp", "bbc"):
        bench_dataset(name, args.data, args.repeat)
    for name in ("satp", "bbc"):
        bench_training(name, args.data)


if __name__ == "__main__":
    main()
