"""`newsflow eval classify`: the honest protocol. Every setting is chosen on the train split alone.

1. A taxonomy file is written on the fly into a temporary folder, its examples file the shared
   train split (the data stay in the shared corpus, never copied into the repo). Like the taxonomy
   an analyst writes, it names each label with a description from the data set's documented label
   meanings; keyword patterns are added only with `keywords=True` (they were written while looking
   at the data, so they are not part of the headline figure).
2. Training chooses features, regularisation and thresholds by 5-fold cross-validation on train.
   The cross-validation estimate (mean and sample standard deviation over the folds, each fold
   scored at thresholds chosen on the other folds) is reported.
3. The trained model scores dev once (and test, when a `*-test.jsonl` is present). Nothing is
   tuned on dev.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.classify.models import Classifier, Labels, train
from pipeline.classify.taxonomy import Example, load_taxonomy
from pipeline.errors import ConfigError
from pipeline.jsonl import iter_jsonl
from pipeline.settings import PROJECT_ROOT

Gold = Sequence[frozenset[str]]
Pred = Sequence[set[str]]


@dataclass(frozen=True)
class TopicSpec:
    id: str
    label: str
    description: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    name: str
    stem: str  # classification/<stem>-{train,dev,test}.jsonl
    metric: str  # "example_f1" | "micro_f1"
    published: float  # best published score (ConfliBERT, Table 3)
    topics: tuple[TopicSpec, ...]


DATASETS: dict[str, Dataset] = {
    "satp": Dataset(
        name="satp",
        stem="satp",
        metric="example_f1",
        published=0.8908,
        topics=(
            TopicSpec(
                "armed_assault",
                "Armed assault",
                "Shootings, gun battles, encounters between security forces and militants.",
                (
                    r"shot|shoot(?:ing|out)?s?|gun ?(?:fight|battle)s?|gun(?:s|men|man)?|fir(?:e|ed|ing)",
                    r"encounters?|exchange of fire|opened fire|ambush(?:ed)?|rifles?|bullets?",
                ),
            ),
            TopicSpec(
                "bombing_explosion",
                "Bombing or explosion",
                "Bomb, IED, grenade or landmine blasts and explosions.",
                (
                    r"bomb(?:s|ing|ings|ed|er|ers)?|blasts?|(?-i:IEDs?)|improvised explosive",
                    r"grenades?|explo(?:sion|sions|sive|sives|ded|de)|(?:land ?)?mines?|detonat(?:e|ed|ion)",
                ),
            ),
            TopicSpec(
                "kidnapping",
                "Kidnapping",
                "Abductions and hostage taking.",
                (r"kidnap(?:ped|ping|pers?|s)?|abduct(?:ed|ion|ions|s)?|hostages?|ransom|captivity",),
            ),
            TopicSpec(
                "other",
                "Other attack",
                "Other attacks: on posts without explicit gunfire or blasts, arson, killings by other means.",
                (
                    r"arson|torch(?:ed)?|set (?:on )?fire|set ablaze|burnt|burned",
                    r"hacked|axe|stabbed|knife|beaten|lynched|strangled|sharp weapons?|killed",
                ),
            ),
        ),
    ),
    "bbc": Dataset(
        name="bbc",
        stem="bbc_politics",
        metric="micro_f1",
        published=0.9813,
        topics=(
            TopicSpec(
                "politics",
                "Politics",
                "Government, parliament, parties, elections and public policy.",
                (
                    r"government|parliament(?:ary)?|minister|ministers|mps?|election|elections|voters?",
                    r"party|parties|labour|tor(?:y|ies)|conservatives?|liberal democrats?|lib dems?",
                    r"commons|lords|cabinet|chancellor|prime minister|home secretary|manifesto|campaign",
                ),
            ),
        ),
    ),
}


@dataclass
class Report:
    dataset: str
    metric: str
    published: float
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # split -> metric -> value
    cv: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric -> (mean, sd) over train folds
    per_label: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # label -> P, R, F1
    thresholds: dict[str, float] = field(default_factory=dict)
    train_seconds: float = 0.0
    docs_per_second: float = 0.0
    version: str = ""
    selection: dict[str, float] = field(default_factory=dict)  # candidate -> cross-validated quality


def data_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_EVAL_DATA") or PROJECT_ROOT.parent / "shared" / "corpus")


def split_path(dataset: Dataset, split: str, root: Path | None = None) -> Path:
    return (root or data_dir()) / "classification" / f"{dataset.stem}-{split}.jsonl"


def get_dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise ConfigError(f"unknown data set {name!r} (known: {', '.join(sorted(DATASETS))})")
    return DATASETS[name]


def write_taxonomy(dataset: Dataset, train_file: Path, folder: Path, keywords: bool = False) -> Path:
    """A taxonomy file for this data set whose examples are the (shared, read-only) train split."""
    if not train_file.is_file():
        raise ConfigError(f"{train_file}: train split not found (NEWSFLOW_EVAL_DATA names the shared corpus)")
    body = {
        "name": f"eval-{dataset.name}",
        "examples": [str(train_file.resolve())],
        "topics": [
            {"id": t.id, "label": t.label, "description": t.description}
            | ({"keywords": list(t.keywords)} if keywords else {})
            for t in dataset.topics
        ],
    }
    path = folder / f"{dataset.name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def read_split(path: Path) -> list[tuple[str, Example]]:
    """(id, example) pairs of one JSON-lines split."""
    return [
        (str(row.get("id", where.rsplit(":", 1)[1])), Example(str(row["text"]), frozenset(row.get("labels", []))))
        for where, row in iter_jsonl(path)
    ]


def example_f1(gold: Gold, pred: Sequence[set[str] | frozenset[str]]) -> float:
    """Mean over documents of 2|G∩P|/(|G|+|P|); both empty scores 1 (Sorower 2010)."""
    total = 0.0
    for g, p in zip(gold, pred, strict=True):
        total += 1.0 if not g and not p else 2 * len(g & p) / (len(g) + len(p))
    return total / len(gold) if gold else 0.0


def label_prf(gold: Gold, pred: Pred, label: str) -> tuple[int, int, int]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if label in g and label in p)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if label not in g and label in p)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if label in g and label not in p)
    return tp, fp, fn


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def score(gold: Gold, pred: Pred, labels: Sequence[str]) -> dict[str, float]:
    counts = [label_prf(gold, pred, label) for label in labels]
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    return {
        "example_f1": round(example_f1(gold, pred), 4),
        "micro_f1": round(f1(tp, fp, fn), 4),
        "macro_f1": round(sum(f1(*c) for c in counts) / len(counts), 4) if counts else 0.0,
        "n": len(gold),
    }


def predict(model: Classifier, rows: Sequence[tuple[str, Example]]) -> list[Labels]:
    return model.classify([("", example.text) for _, example in rows])


def evaluate(
    name: str,
    folder: Path,
    root: Path | None = None,
    predictions: Path | None = None,
    keywords: bool = False,
) -> Report:
    """Train on train (settings by CV on train), report the CV estimate, score dev once (and test if present)."""
    dataset = get_dataset(name)
    taxonomy = load_taxonomy(write_taxonomy(dataset, split_path(dataset, "train", root), folder, keywords))
    started = time.perf_counter()
    model = train(taxonomy)
    report = Report(dataset.name, dataset.metric, dataset.published, version=model.version)
    report.train_seconds = round(time.perf_counter() - started, 2)
    report.selection = dict(model.selection)
    report.thresholds = dict(zip(taxonomy.topic_ids, model.thresholds, strict=True))
    report.cv = cv_summary(model.cv_folds)
    ids = taxonomy.topic_ids
    dev = read_split(split_path(dataset, "dev", root))
    gold = [e.labels for _, e in dev]
    started = time.perf_counter()
    dev_pred = _sets(predict(model, dev))
    report.docs_per_second = round(len(dev) / max(time.perf_counter() - started, 1e-9), 1)
    report.scores["dev"] = score(gold, dev_pred, ids)
    test_file = split_path(dataset, "test", root)
    if test_file.is_file():
        test = read_split(test_file)
        test_pred = _sets(predict(model, test))
        report.scores["test"] = score([e.labels for _, e in test], test_pred, ids)
        _per_label(report, [e.labels for _, e in test], test_pred, ids)
        _write_predictions(predictions, test, test_pred)
    else:
        _per_label(report, gold, dev_pred, ids)
        _write_predictions(predictions, dev, dev_pred)
    return report


def cv_summary(per_fold: Sequence[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """metric -> (mean, sample standard deviation) over the cross-validation folds."""
    out = {}
    for metric in ("example_f1", "micro_f1"):
        values = [fold[metric] for fold in per_fold]
        if not values:
            continue
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
        out[metric] = (round(mean, 4), round(var**0.5, 4))
    return out


def _sets(labels: Sequence[Labels]) -> list[set[str]]:
    return [{topic for topic, _ in lab.topics} for lab in labels]


def _per_label(report: Report, gold: Gold, pred: Pred, ids: Sequence[str]) -> None:
    for label in ids:
        tp, fp, fn = label_prf(gold, pred, label)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        report.per_label[label] = (round(p, 4), round(r, 4), round(f1(tp, fp, fn), 4))


def _write_predictions(path: Path | None, rows: Sequence[tuple[str, Example]], pred: Pred) -> None:
    if path is None:
        return
    with path.open("w", encoding="utf-8") as handle:
        for (doc_id, _), labels in zip(rows, pred, strict=True):
            handle.write(json.dumps({"id": doc_id, "labels": sorted(labels)}) + "\n")
