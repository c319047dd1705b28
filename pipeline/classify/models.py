"""Topic classification: multi-label, scored, thresholded per topic, versioned by taxonomy hash.

Two classifiers, chosen by what the taxonomy offers (measurements in docs/classification.md):

- `LinearClassifier` when the taxonomy has labelled examples: TF-IDF word n-grams, character
  n-grams, the lead and the taxonomy's keyword counts; one logistic regression (plain or
  naive-Bayes-weighted) per topic; blocks, learner and C chosen by cross-validation on the examples,
  and a threshold per topic chosen on the out-of-fold scores. With several topics, a second model per
  topic may also see the other topics' scores (a label chain), kept only when cross-validation says
  it helps. Nothing is tuned on a dev set.
- `RuleClassifier` when it has none: keyword evidence per topic, normalised by length, counted by
  one Aho-Corasick automaton (keywords.py).

When the taxonomy names `relevance.require_any` patterns, a document that does not mention one of
them enough is not relevant and gets no topics; otherwise a document is relevant when it gets a topic.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
from scipy import sparse

from pipeline.classify.keywords import KeywordMatcher
from pipeline.classify.taxonomy import Taxonomy
from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

RULES_VERSION = "rules-2"  # 2: one Aho-Corasick automaton for all keywords
LINEAR_VERSION = "linear-3"  # 2: character n-gram and NB-LR candidates; 3: label chain (other topics' scores)
MAX_CHARS = 30_000  # text beyond this adds little to a topic decision and costs time
LEAD_CHARS = 300  # the "lead": title + this much of the text, a feature block of its own
CHAR_CHARS = 1_000  # character n-grams read this much of title + text (their cost grows with length)
TITLE_WEIGHT = 3  # a keyword in the title counts like this many in the body
ANCHOR_MIN_HITS = 2  # relevance anchors needed in a long body when none is in the title
ANCHOR_LONG_WORDS = 300  # a body shorter than this needs one anchor
RULE_SCALE = 2.0  # keyword evidence e gives a rule score 1 - exp(-e / RULE_SCALE)
DEFAULT_THRESHOLD = 0.5  # learned models without a tuned threshold
CHAIN_WEIGHT = 10.0  # the other topics' scores, appended to the features of a topic's second model, times this
RULE_THRESHOLD = 0.6  # keyword rules: about two hits per 1,000 words


@dataclass(frozen=True)
class Labels:
    topics: list[tuple[str, float]]  # (topic id, score) above the topic's threshold, best first
    relevant: bool


class Classifier(Protocol):
    version: str

    def classify(self, docs: Sequence[tuple[str, str]]) -> list[Labels]: ...


def doc_text(title: str | None, text: str | None) -> str:
    """Title and body as one string, cut at MAX_CHARS."""
    title = (title or "").strip()
    body = (text or "")[:MAX_CHARS]
    return f"{title}\n{body}" if title else body


class KeywordCounter:
    """Counts each topic's keyword matches (title matches weighted) and the relevance anchors, all in
    one scan of the title and one of the text (keywords.KeywordMatcher: one Aho-Corasick automaton)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.topics = len(taxonomy.topics)
        self.has_anchor = bool(taxonomy.require_any)
        self.matcher = KeywordMatcher([t.keywords for t in taxonomy.topics] + [taxonomy.require_any])

    def evidence(self, title: str, text: str) -> tuple[list[float], bool, int]:
        """(weighted keyword hits per topic, whether the document names the relevance anchors enough,
        words in the text)."""
        body = (text or "")[:MAX_CHARS]
        words = len(body.split())
        in_title = self.matcher.counts(title) if title else [0] * (self.topics + 1)
        in_body = self.matcher.counts(body)
        counts = [float(TITLE_WEIGHT * in_title[j] + in_body[j]) for j in range(self.topics)]
        if not self.has_anchor or in_title[-1]:
            return counts, True, words
        needed = ANCHOR_MIN_HITS if words >= ANCHOR_LONG_WORDS else 1
        return counts, in_body[-1] >= needed, words

    def counts(self, title: str, text: str) -> list[float]:
        return self.evidence(title, text)[0]

    def anchored(self, title: str, text: str) -> bool:
        """Whether a document mentions the relevance anchors enough (always, without anchors)."""
        return self.evidence(title, text)[1]


class RuleClassifier:
    """Keyword evidence per topic: e = weighted hits / (1 + words / 1000); score 1 - exp(-e / scale)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.counter = KeywordCounter(taxonomy)
        self.thresholds = [t.threshold or RULE_THRESHOLD for t in taxonomy.topics]
        self.version = RULES_VERSION

    def scores(self, docs: Sequence[tuple[str, str]]) -> np.ndarray:
        return self._scores_and_anchors(docs)[0]

    def _scores_and_anchors(self, docs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, list[bool]]:
        rows, anchored = [], []
        for title, text in docs:
            counts, ok, words = self.counter.evidence(title, text)
            norm = 1.0 + words / 1000.0
            rows.append([1.0 - math.exp(-(c / norm) / RULE_SCALE) for c in counts])
            anchored.append(ok)
        return np.asarray(rows, dtype=float).reshape(len(docs), len(self.taxonomy.topics)), anchored

    def classify(self, docs: Sequence[tuple[str, str]]) -> list[Labels]:
        scores, anchored = self._scores_and_anchors(docs)
        return decide(self.taxonomy, scores, self.thresholds, anchored, at_least_one=False)


@dataclass(frozen=True)
class Candidate:
    """One feature set and regularisation strength tried by cross-validation on the examples."""

    blocks: tuple[str, ...]  # of "words", "chars", "lead", "keywords"
    c: float
    nb: bool = False  # naive-Bayes-weighted logistic regression on binary features (NB-SVM)

    @property
    def name(self) -> str:
        return f"{'+'.join(self.blocks)} C={self.c:g}" + (" NB" if self.nb else "")


CANDIDATES = (
    Candidate(("words",), 8.0),
    Candidate(("words", "lead"), 4.0),
    Candidate(("words", "chars"), 4.0),
    Candidate(("words", "chars"), 16.0),
    Candidate(("words", "chars"), 0.1, nb=True),
    Candidate(("words", "chars"), 1.0, nb=True),
    Candidate(("words", "lead", "keywords"), 2.0),
    Candidate(("words", "lead", "keywords"), 8.0),
    Candidate(("words", "chars", "keywords"), 4.0),
)
SELECTION_FOLDS = 5


class LinearClassifier:
    """TF-IDF of words (whole text and lead) and keyword counts -> one logistic regression per topic.

    Which feature blocks and which C are used is chosen by cross-validation on the examples; the
    threshold of each topic is the one that maximises its F1 on the out-of-fold scores.
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.taxonomy = taxonomy
        self.version = LINEAR_VERSION
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32)
        self.lead = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        self.chosen = CANDIDATES[0]
        self.selection: dict[str, float] = {}  # candidate -> cross-validated score
        self.cv_folds: list[dict[str, float]] = []  # per fold of the chosen candidate: example_f1, micro_f1
        self.models: list[object] = []
        self.chain: list[object] = []  # per topic, a model that also sees the other topics' scores (or none)
        self.thresholds: list[float] = []
        self.at_least_one = False
        self._counter: KeywordCounter | None = None

    @property
    def counter(self) -> KeywordCounter:
        if self._counter is None:  # compiled patterns are not pickled; rebuilt on first use
            self._counter = KeywordCounter(self.taxonomy)
        return self._counter

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_counter"] = None
        state["taxonomy"] = replace(self.taxonomy, _examples=())  # the model, not its training data
        return state

    def blocks(self, docs: Sequence[tuple[str, str]], names: Sequence[str], fit: bool = False) -> dict[str, Any]:
        """The feature blocks named, for these documents."""
        out: dict[str, Any] = {}
        if "words" in names:
            texts = [doc_text(title, text) for title, text in docs]
            out["words"] = self.words.fit_transform(texts) if fit else self.words.transform(texts)
        if "chars" in names:
            heads = [doc_text(title, text)[:CHAR_CHARS] for title, text in docs]
            out["chars"] = self.chars.fit_transform(heads) if fit else self.chars.transform(heads)
        leads = [lead_text(title, text) for title, text in docs]
        if "lead" in names:
            out["lead"] = self.lead.fit_transform(leads) if fit else self.lead.transform(leads)
        if "keywords" in names:
            whole = [self.counter.counts(title, text) for title, text in docs]
            first = [self.counter.counts("", lead) for lead in leads]
            out["keywords"] = sparse.csr_matrix(np.log1p(np.hstack([whole, first])).astype(np.float32))
        return out

    def fit(self, docs: Sequence[tuple[str, str]], labels: Sequence[frozenset[str]]) -> LinearClassifier:
        ids = self.taxonomy.topic_ids
        y = label_matrix(labels, ids)
        self.at_least_one = all(labels)
        has_keywords = any(t.keywords for t in self.taxonomy.topics)
        candidates = [c for c in CANDIDATES if has_keywords or "keywords" not in c.blocks]
        names = sorted({name for c in candidates for name in c.blocks})
        blocks = self.blocks(docs, names, fit=True)
        best: tuple[float, Candidate, np.ndarray] | None = None
        for candidate in candidates:
            x = stack(blocks, candidate.blocks)
            oof = out_of_fold(x, y, candidate.c, nb=candidate.nb)
            quality = oof_quality(oof, y, self.at_least_one)
            self.selection[candidate.name] = round(quality, 4)
            if best is None or quality > best[0] + 1e-9:
                best = (quality, candidate, oof)
        assert best is not None
        quality, self.chosen, oof = best
        x = stack(blocks, self.chosen.blocks)
        self.models = [fit_one(x, y[:, j], self.chosen.c, self.chosen.nb) for j in range(len(ids))]
        if len(ids) > 1:
            chained = chain_out_of_fold(x, y, self.chosen, oof)
            chain_quality = oof_quality(chained, y, self.at_least_one)
            self.selection[f"{self.chosen.name} + chain"] = round(chain_quality, 4)
            if chain_quality > quality + 1e-9:
                self.chain = [fit_chain(x, oof, y[:, j], j, self.chosen) for j in range(len(ids))]
                oof = chained
        self.cv_folds = fold_scores(oof, y, self.at_least_one)
        for name in ("words", "lead", "chars"):  # the cached model keeps only the vocabularies it uses
            if name not in self.chosen.blocks:
                setattr(self, name, None)
        self.thresholds = [
            t.threshold or best_threshold(oof[:, j], y[:, j]) for j, t in enumerate(self.taxonomy.topics)
        ]
        return self

    def scores(self, docs: Sequence[tuple[str, str]]) -> np.ndarray:
        x = stack(self.blocks(docs, self.chosen.blocks), self.chosen.blocks)
        columns = [positive_proba(m, x) for m in self.models]
        first = np.column_stack(columns).reshape(len(docs), len(self.models))
        if not self.chain:
            return first
        columns = [positive_proba(m, chain_features(x, first, j)) for j, m in enumerate(self.chain)]
        return np.column_stack(columns).reshape(len(docs), len(self.chain))

    def classify(self, docs: Sequence[tuple[str, str]]) -> list[Labels]:
        scores = self.scores(docs)
        if self.taxonomy.require_any:
            anchored = [self.counter.anchored(title, text) for title, text in docs]
        else:
            anchored = [True] * len(docs)
        return decide(self.taxonomy, scores, self.thresholds, anchored, at_least_one=self.at_least_one)


def lead_text(title: str | None, text: str | None) -> str:
    """The title and the start of the text, where news says what a story is about."""
    return f"{title or ''}\n{(text or '')[:LEAD_CHARS]}"


def stack(blocks: dict[str, Any], names: Sequence[str]) -> sparse.csr_matrix:
    return sparse.hstack([blocks[name] for name in names]).tocsr()


def fit_one(x: sparse.csr_matrix, y: np.ndarray, c: float, nb: bool = False) -> object:
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():  # a topic with no (or only) positive examples
        return DummyClassifier(strategy="constant", constant=int(y[0])).fit(x, y)
    if nb:
        return NBLogistic(c).fit(x, y)
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y)


class NBLogistic:
    """NB-SVM (Wang & Manning 2012) with a logistic loss: binary features, each scaled by its
    naive-Bayes log-count ratio r = log((p / |p|) / (q / |q|)) (p, q: smoothed feature counts in the
    positive and negative examples), then a logistic regression. The ratio is learned from the
    training rows only, so inside cross-validation it never sees the held-out fold."""

    def __init__(self, c: float, alpha: float = 1.0) -> None:
        self.c, self.alpha = c, alpha
        self.ratio = np.zeros(0, dtype=np.float32)
        self.model: Any = None
        self.classes_: Any = None

    def _scaled(self, x: sparse.csr_matrix) -> sparse.csr_matrix:
        binary = (x > 0).astype(np.float32)
        return sparse.csr_matrix(binary.multiply(self.ratio))

    def fit(self, x: sparse.csr_matrix, y: np.ndarray) -> NBLogistic:
        from sklearn.linear_model import LogisticRegression

        self.ratio = nb_ratio(x, y, self.alpha)
        self.model = LogisticRegression(C=self.c, max_iter=3000, class_weight="balanced").fit(self._scaled(x), y)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, x: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(self.model.predict_proba(self._scaled(x)))


def chain_features(x: sparse.csr_matrix, scores: np.ndarray, topic: int) -> sparse.csr_matrix:
    """The features of topic `topic`'s chained model: the text's, then the *other* topics' scores."""
    others = np.delete(scores, topic, axis=1) * CHAIN_WEIGHT
    return sparse.hstack([x, sparse.csr_matrix(others.astype(np.float32))]).tocsr()


class ChainedLogistic:
    """A topic's second model: the first model's learner on the text features (NB-weighted when the
    candidate is NB-LR) plus the other topics' scores, unweighted by naive Bayes. Its input is
    `chain_features(x, scores, topic)`; the last `others` columns are the scores."""

    def __init__(self, c: float, nb: bool, others: int) -> None:
        self.c, self.nb, self.others = c, nb, others
        self.ratio = np.zeros(0, dtype=np.float32)
        self.model: Any = None
        self.classes_: Any = None

    def _scaled(self, x: sparse.csr_matrix) -> sparse.csr_matrix:
        if not self.nb:
            return x
        text, scores = x[:, : -self.others], x[:, -self.others :]
        binary = (text > 0).astype(np.float32).multiply(self.ratio)
        return sparse.hstack([sparse.csr_matrix(binary), scores]).tocsr()

    def fit(self, x: sparse.csr_matrix, y: np.ndarray) -> ChainedLogistic:
        from sklearn.linear_model import LogisticRegression

        if self.nb:
            self.ratio = nb_ratio(x[:, : -self.others], y)
        self.model = LogisticRegression(C=self.c, max_iter=3000, class_weight="balanced").fit(self._scaled(x), y)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, x: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(self.model.predict_proba(self._scaled(x)))


def fit_chain(x: sparse.csr_matrix, scores: np.ndarray, y: np.ndarray, topic: int, candidate: Candidate) -> object:
    """Topic `topic`'s chained model, trained on out-of-fold scores of the other topics (never on scores
    from models that saw the row, which would be overconfident)."""
    from sklearn.dummy import DummyClassifier

    features = chain_features(x, scores, topic)
    if y.min() == y.max():
        return DummyClassifier(strategy="constant", constant=int(y[0])).fit(features, y)
    return ChainedLogistic(candidate.c, candidate.nb, scores.shape[1] - 1).fit(features, y)


def chain_out_of_fold(x: sparse.csr_matrix, y: np.ndarray, candidate: Candidate, oof: np.ndarray) -> np.ndarray:
    """Out-of-fold scores of the chained models, nested so that no row's score depends on its label:
    for each fold, the chained models learn from the first models' out-of-fold scores *within* the
    other folds, and the held-out rows are scored with the first models' scores from `oof` (models
    trained on the other folds)."""
    chained = np.zeros(y.shape, dtype=float)
    for train, test in folds(len(y)):
        inner = out_of_fold(x[train], y[train], candidate.c, nb=candidate.nb)
        for j in range(y.shape[1]):
            model = fit_chain(x[train], inner, y[train, j], j, candidate)
            chained[test, j] = positive_proba(model, chain_features(x[test], oof[test], j))
    return chained


def nb_ratio(x: sparse.csr_matrix, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratio of each binarised feature between positive and negative rows."""
    binary = (x > 0).astype(np.float32)
    p = np.asarray(binary[y == 1].sum(axis=0)).ravel() + alpha
    q = np.asarray(binary[y == 0].sum(axis=0)).ravel() + alpha
    return np.asarray(np.log((p / p.sum()) / (q / q.sum())), dtype=np.float32)


def out_of_fold(
    x: sparse.csr_matrix, y: np.ndarray, c: float, k: int = SELECTION_FOLDS, nb: bool = False
) -> np.ndarray:
    """Scores of every example from a model that did not see it (k-fold)."""
    oof = np.zeros(y.shape, dtype=float)
    for train, test in folds(len(y), k):
        for j in range(y.shape[1]):
            oof[test, j] = positive_proba(fit_one(x[train], y[train, j], c, nb), x[test])
    return oof


def folds(n: int, k: int = SELECTION_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """The k train/test index splits every cross-validation here uses (shuffled, fixed seed)."""
    from sklearn.model_selection import KFold

    return list(KFold(min(k, n), shuffle=True, random_state=13).split(np.zeros(n)))


def predict_sets(scores: np.ndarray, thresholds: Sequence[float], at_least_one: bool) -> np.ndarray:
    """Boolean label matrix: scores at or above the thresholds, the best topic if one is required."""
    pred = scores >= np.asarray(thresholds)
    if at_least_one and scores.shape[1]:
        empty = ~pred.any(axis=1)
        pred[empty, scores[empty].argmax(axis=1)] = True
    return pred


def set_scores(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """example-F1 (both empty scores 1) and micro-F1 of a boolean prediction matrix."""
    inter = (pred & (y == 1)).sum(axis=1)
    sizes = pred.sum(axis=1) + y.sum(axis=1)
    example = np.where(sizes == 0, 1.0, 2 * inter / np.maximum(sizes, 1)).mean() if len(y) else 0.0
    micro = 2 * inter.sum() / max(sizes.sum(), 1)
    return {"example_f1": float(example), "micro_f1": float(micro)}


def oof_quality(oof: np.ndarray, y: np.ndarray, at_least_one: bool) -> float:
    """Mean of example-F1 and micro-F1 of out-of-fold scores at per-topic best thresholds."""
    thresholds = [best_threshold(oof[:, j], y[:, j]) for j in range(y.shape[1])]
    quality = set_scores(predict_sets(oof, thresholds, at_least_one), y)
    return (quality["example_f1"] + quality["micro_f1"]) / 2


def fold_scores(oof: np.ndarray, y: np.ndarray, at_least_one: bool) -> list[dict[str, float]]:
    """An honest per-fold estimate: each fold is scored at thresholds chosen on the *other* folds'
    out-of-fold scores, so no fold's labels choose its own thresholds."""
    out = []
    for train, test in folds(len(y)):
        thresholds = [best_threshold(oof[train, j], y[train, j]) for j in range(y.shape[1])]
        out.append(set_scores(predict_sets(oof[test], thresholds, at_least_one), y[test]))
    return out


def positive_proba(model: object, x: sparse.csr_matrix) -> np.ndarray:
    proba = model.predict_proba(x)  # type: ignore[attr-defined]
    classes = list(model.classes_)  # type: ignore[attr-defined]
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(x.shape[0])


def label_matrix(labels: Sequence[frozenset[str]], ids: Sequence[str]) -> np.ndarray:
    return np.asarray([[1 if i in row else 0 for i in ids] for row in labels], dtype=int).reshape(len(labels), len(ids))


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The threshold that maximises F1 of one topic on these scores (0.5 without positives)."""
    if truth.sum() == 0:
        return DEFAULT_THRESHOLD
    best, best_f1 = DEFAULT_THRESHOLD, -1.0
    for threshold in np.arange(0.05, 0.951, 0.025):
        pred = scores >= threshold
        tp = float((pred & (truth == 1)).sum())
        f1 = 2 * tp / (pred.sum() + truth.sum()) if pred.sum() + truth.sum() else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(threshold), f1
    return round(best, 3)


def decide(
    taxonomy: Taxonomy,
    scores: np.ndarray,
    thresholds: Sequence[float],
    anchored: Sequence[bool],
    *,
    at_least_one: bool,
) -> list[Labels]:
    """Scores -> labels: topics at or above their threshold; the best one if at least one is required."""
    ids = taxonomy.topic_ids
    out = []
    for row, ok in zip(scores, anchored, strict=True):
        if not ok:
            out.append(Labels([], False))
            continue
        chosen = [(ids[j], round(float(row[j]), 4)) for j in range(len(ids)) if row[j] >= thresholds[j]]
        if not chosen and at_least_one and len(ids):
            best = int(np.argmax(row))
            chosen = [(ids[best], round(float(row[best]), 4))]
        chosen.sort(key=lambda pair: -pair[1])
        out.append(Labels(chosen, bool(chosen)))
    return out


# The classifiers built in this process, by (taxonomy hash, kind): every batch after the first reuses
# its taxonomy's classifier (a changed taxonomy file has another hash, so it gets its own).
_CLASSIFIERS: dict[tuple[str, str], Classifier] = {}
MAX_CLASSIFIERS = 4


def get_classifier(taxonomy: Taxonomy, cache_dir: Path | None = None) -> Classifier:
    """The classifier for this taxonomy: trained on its examples (cached by hash, in this process and
    in `cache_dir`) or rule-based; built once per process."""
    key = (taxonomy.hash, LINEAR_VERSION if taxonomy.has_examples else RULES_VERSION)
    if key not in _CLASSIFIERS:
        if len(_CLASSIFIERS) >= MAX_CLASSIFIERS:
            _CLASSIFIERS.clear()
        _CLASSIFIERS[key] = _build(taxonomy, cache_dir)
    return _CLASSIFIERS[key]


def _build(taxonomy: Taxonomy, cache_dir: Path | None) -> Classifier:
    if not taxonomy.has_examples:
        return RuleClassifier(taxonomy)
    path = cache_dir / f"{taxonomy.hash}-{LINEAR_VERSION}.joblib" if cache_dir else None
    model = _load_cached(path) if path else None
    if model is None:
        model = train(taxonomy)
        if path:
            _save_cached(model, path)
    return model


def train(taxonomy: Taxonomy) -> LinearClassifier:
    examples = taxonomy.examples
    if len(examples) < 10:
        raise ConfigError(f"{taxonomy.path}: {len(examples)} labelled examples are too few to train on (need 10)")
    log.info("training a classifier for taxonomy %s on %d examples", taxonomy.name, len(examples))
    docs = [("", e.text) for e in examples]
    return LinearClassifier(taxonomy).fit(docs, [e.labels for e in examples])


def _load_cached(path: Path) -> LinearClassifier | None:
    if not path.is_file():
        return None
    try:
        model = joblib.load(path)
    except (OSError, EOFError, ValueError, AttributeError, ImportError) as exc:
        log.warning("ignoring unreadable cached model %s: %s", path, exc)
        return None
    return model if isinstance(model, LinearClassifier) else None


def _save_cached(model: LinearClassifier, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{hashlib.sha1(str(path).encode()).hexdigest()[:6]}")
    joblib.dump(model, tmp, compress=3)
    tmp.replace(path)
