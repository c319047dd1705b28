"""Scoring a clustering against a labelled set, and the MinHash-Jaccard baseline measured beside it.

Metrics follow the syndication-dev README: pairwise precision/recall/F1 of "same cluster" over all
unordered pairs, and `canon`, the share of articles in gold groups of two or more whose predicted
canonical id is the group's true original.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import Skip
from pipeline.syndication.core import Assignment
from pipeline.syndication.text import normalize_tokens, paragraphs

MINHASH_PERM = 128
MINHASH_THRESHOLD = 0.5
MINHASH_WORDS = 5


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    canon: float
    pairs_predicted: int
    pairs_gold: int
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _pair_count(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def score(gold: Sequence[dict[str, Any]], predicted: Sequence[Assignment]) -> Scores:
    """Pairwise P/R/F1 and canon of `predicted` against rows with id, group and role."""
    group = {str(r["id"]): str(r["group"]) for r in gold}
    originals = {str(r["group"]): str(r["id"]) for r in gold if r.get("role") == "original"}
    cluster = {a.key: a.cluster_id for a in predicted}
    canonical = {a.key: a.canonical_id for a in predicted}
    for key in group:  # missing predictions are singletons
        cluster.setdefault(key, f"missing:{key}")
        canonical.setdefault(key, key)
    both: Counter[tuple[str, str]] = Counter((group[k], cluster[k]) for k in group)
    tp = _pair_count(both.values())
    predicted_pairs = _pair_count(Counter(cluster[k] for k in group).values())
    gold_sizes = Counter(group.values())
    gold_pairs = _pair_count(gold_sizes.values())
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    in_groups = [k for k in group if gold_sizes[group[k]] >= 2]
    right = sum(1 for k in in_groups if canonical[k] == originals.get(group[k]))
    canon = right / len(in_groups) if in_groups else 1.0
    return Scores(precision, recall, f1, canon, predicted_pairs, gold_pairs, len(group))


def minhash_baseline(records: Sequence[Any]) -> list[Assignment]:
    """MinHash LSH (datasketch, 128 permutations, 5-word shingles), Jaccard >= 0.5, union-find,
    canonical = earliest published. `records` are `match.Record`s."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=MINHASH_THRESHOLD, num_perm=MINHASH_PERM)
    parent = {r.key: r.key for r in records}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for r in records:
        words = re.findall(r"\w+", r.text.lower())
        last = max(1, len(words) - MINHASH_WORDS + 1)
        grams = {" ".join(words[i : i + MINHASH_WORDS]) for i in range(last)}
        mh = MinHash(num_perm=MINHASH_PERM)
        mh.update_batch([g.encode() for g in grams])
        for other in lsh.query(mh):
            a, b = find(r.key), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        lsh.insert(r.key, mh)
    clusters: dict[str, list[Any]] = defaultdict(list)
    for r in records:
        clusters[find(r.key)].append(r)
    out = []
    for members in clusters.values():
        first = min(members, key=lambda r: (r.published_at is None, r.published_at or 0, r.key))
        for r in members:
            relation = "original" if r is first else "copy"
            out.append(Assignment(r.key, first.key, first.key, relation, 1.0))
    return out


# --- the multilingual set, built from the trafilatura evaluation pages -----------------------------------

MULTILINGUAL = "multilingual"  # `newsflow eval dedup --dataset multilingual`
ML_SOURCE = Path("extraction") / "trafilatura-eval"  # under the evaluation data folder
ML_PER_LANGUAGE = 24  # base pages per language at most (all of the rarer languages)
ML_FILLER = 6  # further pages per language whose paragraphs are inserted into copies (never bases)
ML_FILLER_TOKENS = 60  # an inserted paragraph is a short local one, used in one copy only
ML_FEW = 3  # a language with fewer bases than this gets 2-3 copies of each (it has no distractors)
ML_MIN_PARAGRAPHS = 4
ML_MIN_TOKENS = 120
ML_START = datetime(2024, 3, 1, tzinfo=UTC)
ML_SPAN_DAYS = 40  # bases spread over 40 days: unrelated pages of a language meet inside the window
_SENTENCE = re.compile(r"(?<=[.!?\u3002\uff01\uff1f\u061f\u0964])\s*")
_CREDIT_WORD = {
    "de": "Quelle:",
    "es": "Fuente:",
    "fr": "Source :",
    "pl": "Źródło:",
    "pt": "Fonte:",
    "it": "Fonte:",
    "zh": "来源：",
    "ja": "出典：",
    "ar": "المصدر:",
    "ru": "Источник:",
}


def multilingual_set(corpus: Path, *, seed: int = 1, per_language: int = ML_PER_LANGUAGE) -> list[dict[str, Any]]:
    """A labelled syndication set in many languages and scripts, built now from `corpus` (the
    trafilatura evaluation pages: `evaldata.json` and gzipped HTML). Rows as in syndication-dev (id,
    source, url, title, text, published_at, group, role) plus `language`.

    Each page's main text (trafilatura) is a base article; 0-3 copies are made of it by keeping its top
    50-100 % of paragraphs, dropping one middle paragraph, swapping two, dropping a sentence here and
    there, inserting a paragraph of another page in the same language, changing paragraph breaks, and
    adding a credit line in the page's language. Copies are published 1-72 hours after the base (or the
    same day, the base dated by day only, with the credit line naming the base's outlet). Bases with no
    copy are the distractors: unrelated pages in the same languages, published within the same weeks.
    """
    import py3langid

    data = json.loads((corpus / "evaldata.json").read_text(encoding="utf-8"))
    by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for url, item in sorted(data.items(), key=lambda kv: hashlib.sha1(kv[0].encode()).hexdigest()):
        language = str(py3langid.classify(" ".join(item["with"]))[0])
        if len(by_language[language]) < per_language + ML_FILLER:
            by_language[language].append((url, item["file"]))
    bases: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    filler: dict[str, list[str]] = defaultdict(list)
    for language, pages in sorted(by_language.items()):
        for url, name in pages:
            paras = _page_paragraphs(corpus, name)
            if len(paras) < ML_MIN_PARAGRAPHS or len(normalize_tokens("\n".join(paras))) < ML_MIN_TOKENS:
                continue
            if len(bases[language]) < per_language:
                bases[language].append((url, paras))
            else:
                filler[language].extend(p for p in paras[1:] if len(normalize_tokens(p)) <= ML_FILLER_TOKENS)
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for language, found in sorted(bases.items()):
        for base_url, base in found:
            copies = rng.choice((2, 3)) if len(found) < ML_FEW else rng.choice((0, 1, 1, 2, 3))
            rows.extend(_group(rng, language, base_url, base, filler[language], copies))
    return rows


def _page_paragraphs(corpus: Path, name: str) -> list[str]:
    import trafilatura

    for folder in ("cache", "eval"):
        path = corpus / folder / f"{name}.gz"
        if path.is_file():
            with gzip.open(path, "rb") as fh:
                text = trafilatura.extract(fh.read(), include_comments=False, include_tables=False) or ""
            return paragraphs(text)
    raise Skip("missing_page", name)


def _group(
    rng: random.Random, language: str, url: str, paras: list[str], filler: list[str], n_copies: int
) -> list[dict[str, Any]]:
    group = "g" + hashlib.sha1(url.encode()).hexdigest()[:10]
    host = urlsplit(url).hostname or "unknown.example"
    source = host.removeprefix("www.")
    t0 = ML_START + timedelta(days=rng.randrange(ML_SPAN_DAYS), hours=rng.randrange(24))
    tie = n_copies > 0 and rng.random() < 0.25  # the base is dated by day only, a copy on the same day
    if tie:
        t0 = t0.replace(hour=0)
    rows = [_row(group + "o", source, url, "\n".join(paras), t0, group, "original", language)]
    for c in range(n_copies):
        when = t0 + timedelta(hours=rng.randrange(9, 20) if tie and c == 0 else rng.randrange(1, 72))
        credit = f"{_CREDIT_WORD.get(language, 'Source:')} {source.split('.')[0]}" if rng.random() < 0.6 or tie else ""
        text = _copy(rng, paras, filler, credit)
        outlet = f"{language}{rng.randrange(1000)}.example"
        rows.append(_row(f"{group}c{c}", outlet, "", text, when, group, "copy", language))
    return rows


def _copy(rng: random.Random, paras: list[str], foreign: list[str], credit: str) -> str:
    keep = max(3, round(len(paras) * rng.uniform(0.5, 1.0)))
    out = list(paras[:keep])
    if len(out) > 4 and rng.random() < 0.5:
        del out[rng.randrange(2, len(out) - 1)]
    if len(out) > 4 and rng.random() < 0.5:
        i, j = rng.sample(range(1, len(out)), 2)
        out[i], out[j] = out[j], out[i]
    for i, para in enumerate(out):
        sentences = [s for s in _SENTENCE.split(para) if s.strip()]
        if len(sentences) > 2 and rng.random() < 0.3:
            del sentences[rng.randrange(1, len(sentences))]
            out[i] = " ".join(sentences) if " " in para else "".join(sentences)
    if foreign and len(out) > 3 and rng.random() < 0.5:
        out.insert(rng.randrange(2, len(out)), foreign.pop(rng.randrange(len(foreign))))
    if credit:
        out.append(credit)
    return rng.choice(("\n", "\n\n")).join(out)


def _row(
    key: str, source: str, url: str, text: str, when: datetime, group: str, role: str, language: str
) -> dict[str, Any]:
    return {
        "id": key,
        "source": source,
        "url": url,
        "title": "",
        "text": text,
        "published_at": when.isoformat().replace("+00:00", "Z"),
        "group": group,
        "role": role,
        "language": language,
    }


def scripts_of(rows: Sequence[dict[str, Any]]) -> Counter[str]:
    """Articles per writing system (the Unicode script name of the text's most frequent letter script)."""
    out: Counter[str] = Counter()
    for row in rows:
        letters = Counter(unicodedata.name(c, "?").split(" ")[0] for c in str(row["text"])[:2000] if c.isalpha())
        out[letters.most_common(1)[0][0] if letters else "none"] += 1
    return out
