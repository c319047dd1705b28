"""In-memory syndication detection over a list of records (used by `newsflow dedup` and `eval dedup`).

The same candidate generation as the database path (bounded fingerprints per article, looked up within
the date window, over-common fingerprints ignored), the same pair decision and the same choice of
original, without PostgreSQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.syndication.match import (
    Prepared,
    Record,
    choose_original,
    compare,
    containment_in,
    index_subset,
    is_duplicate,
    paragraph_diff,
    prepare,
    when,
)

MAX_POSTINGS = 50  # a fingerprint shared by more articles in the window is boilerplate: ignored
MAX_CANDIDATES = 40  # candidates verified per new article, those sharing most fingerprints first
MIN_SHARED_FPS = 3  # candidates sharing fewer fingerprints are not verified (copies share 8 or more)
DAY = 86400.0


@dataclass(frozen=True)
class Assignment:
    key: str
    cluster_id: str
    canonical_id: str
    relation: str  # original | duplicate | copy (singletons: original of their own cluster)
    score: float  # containment of this article's text in the original
    dropped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def link_pairs(prepared: Sequence[Prepared], window_days: int) -> list[tuple[int, int]]:
    """Accepted pairs (indices), each article compared with the indexed articles of its window."""
    order = sorted(range(len(prepared)), key=lambda i: (when(prepared[i]), prepared[i].key))
    postings: dict[int, list[int]] = defaultdict(list)
    by_hash: dict[str, int] = {}
    by_url: dict[str, int] = {}
    times = [when(p) for p in prepared]
    window = window_days * DAY
    pairs: list[tuple[int, int]] = []
    for i in order:
        p = prepared[i]
        found = {by_hash[p.text_hash]} if p.tokens and p.text_hash in by_hash else set()
        found |= {by_url[u] for u in _urls(p) if u in by_url}
        for j in _window_candidates(p, postings, times, i, window):
            if j not in found and compare(p, prepared[j]).linked:
                found.add(j)
        pairs.extend((j, i) for j in found)
        by_hash.setdefault(p.text_hash, i)
        for u in _urls(p):
            by_url.setdefault(u, i)
        for fp in set(index_subset(p.fps)):
            postings[fp].append(i)
    return pairs


def _window_candidates(
    p: Prepared, postings: dict[int, list[int]], times: Sequence[float], i: int, window: float
) -> list[int]:
    mine = times[i]
    counts: Counter[int] = Counter()
    for fp in set(p.fps):
        hits = [h for h in postings.get(fp, ()) if abs(times[h] - mine) <= window or mine == times[h]]
        if 0 < len(hits) <= MAX_POSTINGS:
            counts.update(hits)
    return [idx for idx, n in counts.most_common(MAX_CANDIDATES) if n >= MIN_SHARED_FPS]


def _urls(p: Prepared) -> set[str]:
    return {u for u in (p.record.url, *p.record.aliases) if u}


def dedup_records(records: Sequence[Record], *, window_days: int = 30) -> list[Assignment]:
    """Cluster the records; one assignment per record, in input order."""
    prepared = [prepare(r) for r in records]
    uf = _UnionFind(len(prepared))
    for a, b in link_pairs(prepared, window_days):
        uf.union(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(prepared)):
        groups[uf.find(i)].append(i)
    result: dict[int, Assignment] = {}
    for members in groups.values():
        result.update(_assign(prepared, members))
    return [result[i] for i in range(len(prepared))]


def _assign(prepared: Sequence[Prepared], members: list[int]) -> dict[int, Assignment]:
    original = choose_original([prepared[i] for i in members])
    cluster_id = original.key
    out = {}
    for i in members:
        p = prepared[i]
        if p is original:
            out[i] = Assignment(p.key, cluster_id, original.key, "original", 1.0)
            continue
        relation = "duplicate" if is_duplicate(p, original) else "copy"
        dropped, added = paragraph_diff(original, p) if relation == "copy" else ([], [])
        score = round(containment_in(p, original), 4)
        out[i] = Assignment(p.key, cluster_id, original.key, relation, score, dropped, added)
    return out
