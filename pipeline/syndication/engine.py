"""In-memory syndication detection over a list of records (`newsflow dedup`, `newsflow eval dedup`).

The decisions are `core`'s, the same functions the PostgreSQL linker calls; only the index differs: here
the postings, exact-match keys and prepared texts are dicts. An article's day is its `published_at` day;
undated articles only meet other undated ones (in the database every article has a day: its creation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from pipeline.syndication.core import (
    MAX_CANDIDATES,
    MAX_POSTINGS,
    Assignment,
    assign,
    day_of,
    find_links,
    postings,
)
from pipeline.syndication.match import Prepared, Record, prepare

UNDATED = -(10**9)  # the day of undated records: far from every real day, so they only meet each other

__all__ = ["Assignment", "dedup_records", "link_pairs"]


class MemoryIndex:
    """`core.Index` over dicts: postings as fingerprint -> [(day, index)], texts by index."""

    def __init__(self, prepared: Sequence[Prepared], days: Sequence[int]) -> None:
        self.all = prepared
        self.days = days
        self.posted: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.by_hash: dict[str, list[int]] = defaultdict(list)
        self.by_url: dict[str, list[int]] = defaultdict(list)
        self.indexed: set[int] = set()

    def exact(self, key: int, p: Prepared) -> set[int]:
        found = set(self.by_hash.get(p.text_hash, [])[:MAX_CANDIDATES]) if p.tokens else set()
        for url in _urls(p):
            found.update(self.by_url.get(url, ()))
        found.discard(key)
        return found

    def lookup(self, key: int, fps: Sequence[int], first_day: int, last_day: int) -> Mapping[int, list[int]]:
        out = {}
        for fp in fps:
            hits = sorted(h for h in self.posted.get(fp, ()) if first_day <= h[0] <= last_day)
            if hits:
                out[fp] = [i for _, i in hits[: MAX_POSTINGS + 1]]
        return out

    def prepared(self, keys: Sequence[int]) -> dict[int, Prepared]:
        return {k: self.all[k] for k in keys if k in self.indexed}

    def post(self, key: int, p: Prepared) -> None:
        self.indexed.add(key)
        for fp in postings(p):
            self.posted[fp].append((self.days[key], key))
        if p.tokens:
            self.by_hash[p.text_hash].append(key)
        for url in _urls(p):
            self.by_url[url].append(key)


def _urls(p: Prepared) -> set[str]:
    return {u for u in (p.record.url, *p.record.aliases) if u}


def record_day(record: Record) -> int:
    return day_of(record.published_at) if record.published_at is not None else UNDATED


def link_pairs(prepared: Sequence[Prepared], window_days: int) -> list[tuple[int, int]]:
    """Accepted pairs (indices): each article, in (day, key) order, linked against those indexed before."""
    days = [record_day(p.record) for p in prepared]
    index = MemoryIndex(prepared, days)
    pairs: list[tuple[int, int]] = []
    for i in sorted(range(len(prepared)), key=lambda i: (days[i], prepared[i].key)):
        p = prepared[i]
        if not p.tokens:
            continue
        pairs.extend((j, i) for j in find_links(index, i, p, days[i], window_days))
        index.post(i, p)
    return pairs


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
        result.update(zip(members, assign([prepared[i] for i in members]), strict=True))
    return [result[i] for i in range(len(prepared))]
