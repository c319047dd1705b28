"""The two extraction benchmarks' metrics, implemented as their authors describe them.

AEB (scrapinghub article-extraction-benchmark): `\\w+` tokens, 4-word shingles counted as
multisets; per document TP/FP/FN normalised by their sum; precision and recall are the means over
documents (precision over documents with tp+fp > 0, recall over those with tp+fn > 0); F1 is the
harmonic mean of the two means. Accuracy: token sequences equal.

trafilatura-eval: whitespace-normalised substring tests of hand-picked "with" snippets (must be in
the text) and "without" snippets (must not be); counts pooled over all documents.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
SHINGLE_SIZE = 4


@dataclass(frozen=True)
class Score:
    """Precision, recall, F1 (and accuracy) of one system on one benchmark."""

    precision: float
    recall: float
    f1: float
    accuracy: float
    documents: int

    def as_dict(self) -> dict[str, float]:
        return {
            "f1": round(self.f1, 4),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "accuracy": round(self.accuracy, 4),
            "documents": self.documents,
        }


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str | None, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    return Counter(tuple(toks[i : i + size]) for i in range(max(0, len(toks) - size + 1)))


def shingle_counts(truth: str, predicted: str | None) -> tuple[int, int, int]:
    """True positives, false positives, false negatives of 4-shingles (multiset overlap)."""
    gold, pred = shingles(truth), shingles(predicted)
    tp = sum((gold & pred).values())
    fp = sum((pred - gold).values())
    fn = sum((gold - pred).values())
    return tp, fp, fn


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def aeb_score(pairs: Iterable[tuple[str, str | None]]) -> Score:
    """Score (ground truth, prediction) pairs the way the AEB authors do."""
    precisions: list[float] = []
    recalls: list[float] = []
    exact = 0
    count = 0
    for truth, predicted in pairs:
        count += 1
        exact += tokens(truth) == tokens(predicted)
        tp, fp, fn = shingle_counts(truth, predicted)
        total = tp + fp + fn
        if total == 0:
            continue
        ntp, nfp, nfn = tp / total, fp / total, fn / total
        if ntp + nfp > 0:
            precisions.append(ntp / (ntp + nfp))
        if ntp + nfn > 0:
            recalls.append(ntp / (ntp + nfn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    return Score(precision, recall, _f1(precision, recall), exact / count if count else 0.0, count)


def normalize_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass
class SnippetCounts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, other: SnippetCounts) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.tn += other.tn

    def score(self, documents: int) -> Score:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        total = self.tp + self.fn + self.fp + self.tn
        accuracy = (self.tp + self.tn) / total if total else 0.0
        return Score(precision, recall, _f1(precision, recall), accuracy, documents)


def snippet_counts(text: str | None, with_: Sequence[str], without: Sequence[str]) -> SnippetCounts:
    """One document of trafilatura-eval. `text=None` (a crash or nothing extracted) misses every
    "with" snippet and, as in the authors' script, counts every "without" snippet as absent."""
    if text is None:
        return SnippetCounts(tp=0, fn=len(with_), fp=0, tn=len(without))
    flat = normalize_space(text)
    counts = SnippetCounts()
    for snippet in with_:
        if normalize_space(snippet) in flat:
            counts.tp += 1
        else:
            counts.fn += 1
    for snippet in without:
        if normalize_space(snippet) in flat:
            counts.fp += 1
        else:
            counts.tn += 1
    return counts


def snippet_score(docs: Iterable[tuple[str | None, Sequence[str], Sequence[str]]]) -> Score:
    total = SnippetCounts()
    count = 0
    for text, with_, without in docs:
        count += 1
        total.add(snippet_counts(text, with_, without))
    return total.score(count)
