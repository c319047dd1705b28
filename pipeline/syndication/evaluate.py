"""Scoring a clustering against a labelled set, and the MinHash-Jaccard baseline measured beside it.

Metrics follow the syndication-dev README: pairwise precision/recall/F1 of "same cluster" over all
unordered pairs, and `canon`, the share of articles in gold groups of two or more whose predicted
canonical id is the group's true original.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.errors import Skip
from pipeline.syndication.core import Assignment

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


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp ('Z' allowed) or None; anything else is a Skip."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise Skip("bad_date", repr(value)[:80])
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Skip("bad_date", value[:80]) from exc


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
