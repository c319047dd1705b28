"""The linker's decisions, pure: candidate generation, verification, the original, each member's relation.

Both paths call these functions: `engine.dedup_records` (in memory: `newsflow dedup`, `newsflow eval
dedup`) and `store.link_articles` (PostgreSQL, the pipeline). Each path supplies its own `Index` (where
fingerprint postings, exact matches and texts live); everything decided about them is decided here, so
the evaluation measures the code the pipeline runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol, TypeVar

from pipeline.syndication.match import (
    Prepared,
    changed_figures,
    choose_original,
    compare,
    containment_in,
    index_subset,
    is_duplicate,
    paragraph_diff,
)

MAX_POSTINGS = 50  # a fingerprint shared by more articles in the window is boilerplate: ignored
MAX_CANDIDATES = 40  # candidates verified per new article, those sharing most fingerprints first
MIN_SHARED_FPS = 2  # candidates sharing fewer postings are not verified (one in two sampled: see D30)
FP_SAMPLE_MOD = 2  # only fingerprints divisible by this are posted and looked up (the same ones in every text)
EPOCH = date(1970, 1, 1)

K = TypeVar("K", bound=Hashable)


class Index(Protocol[K]):
    """Where the articles already indexed live (a dict in memory, tables in PostgreSQL)."""

    def exact(self, key: K, p: Prepared) -> set[K]:
        """Other articles with the same normalized text hash (at most MAX_CANDIDATES) or a URL in common."""
        ...

    def lookup(self, key: K, fps: Sequence[int], first_day: int, last_day: int) -> Mapping[int, Sequence[K]]:
        """For each fingerprint, up to MAX_POSTINGS + 1 articles posted under it with a day in the range."""
        ...

    def prepared(self, keys: Sequence[K]) -> Mapping[K, Prepared]:
        """The prepared texts of these articles (missing ones left out)."""
        ...


def day_of(value: datetime) -> int:
    """Days since 1970-01-01 (UTC) of a timestamp: the unit of the date window."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return (aware.astimezone(UTC).date() - EPOCH).days


def narrow(fp: int) -> int:
    """The low 32 bits of a 64-bit fingerprint, signed (a PostgreSQL int4)."""
    return ((fp + 2**31) & 0xFFFFFFFF) - 2**31


def posting_fps(fps: Sequence[int]) -> list[int]:
    """The postings of an article whose fingerprints (in text order) are `fps`: its bounded index subset,
    sampled by value (one in FP_SAMPLE_MOD), narrowed to 32 bits; sorted, distinct."""
    return sorted({narrow(fp) for fp in index_subset(fps) if fp % FP_SAMPLE_MOD == 0})


def query_fps(fps: Sequence[int]) -> list[int]:
    """What an article with fingerprints `fps` is looked up under: every fingerprint that can be posted
    (the same value sample), narrowed to 32 bits; sorted, distinct."""
    return sorted({narrow(fp) for fp in fps if fp % FP_SAMPLE_MOD == 0})


def postings(p: Prepared) -> list[int]:
    """The fingerprints an article is posted under (bounded, sorted, distinct, 32-bit)."""
    return posting_fps(p.fps)


def query(p: Prepared) -> list[int]:
    """The fingerprints a new article is looked up under (sorted, distinct, 32-bit)."""
    return query_fps(p.fps)


def rank_candidates(hits: Mapping[int, Sequence[K]], own: K) -> list[K]:
    """Articles worth verifying: those sharing at least MIN_SHARED_FPS fingerprints, most shared first,
    at most MAX_CANDIDATES; a fingerprint with more than MAX_POSTINGS articles is boilerplate, ignored."""
    counts: Counter[K] = Counter()
    for found in hits.values():
        if len(found) <= MAX_POSTINGS:
            counts.update(h for h in found if h != own)
    return [k for k, n in counts.most_common(MAX_CANDIDATES) if n >= MIN_SHARED_FPS]


def find_links(index: Index[K], key: K, p: Prepared, day: int, window_days: int) -> set[K]:
    """The indexed articles that are the same story as `p`: exact duplicates, shared URLs, and verified
    copies among the fingerprint candidates of its +-window_days."""
    found = index.exact(key, p)
    hits = index.lookup(key, query(p), day - window_days, day + window_days)
    candidates = [c for c in rank_candidates(hits, key) if c not in found]
    for other_key, other in index.prepared(candidates).items():
        if compare(p, other).linked:
            found.add(other_key)
    return found


@dataclass(frozen=True)
class Assignment:
    key: str
    cluster_id: str
    canonical_id: str
    relation: str  # original | duplicate | copy (singletons: original of their own cluster)
    score: float  # containment of this article's text in the original
    dropped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[dict[str, str]] = field(default_factory=list)  # kept paragraphs whose figures differ


def member_relation(member: Prepared, original: Prepared, cluster_id: str) -> Assignment:
    """One member's relation to the cluster's original, its containment and the paragraph diff."""
    if member is original or member.key == original.key:
        return Assignment(member.key, cluster_id, original.key, "original", 1.0)
    relation = "duplicate" if is_duplicate(member, original) else "copy"
    dropped, added = paragraph_diff(original, member) if relation == "copy" else ([], [])
    changed = changed_figures(original, member) if relation == "copy" else []
    score = round(containment_in(member, original), 4)
    return Assignment(member.key, cluster_id, original.key, relation, score, dropped, added, changed)


def assign(members: Sequence[Prepared], cluster_id: str | None = None) -> list[Assignment]:
    """Every member's assignment in one cluster (cluster id: the given one, else the original's key)."""
    original = choose_original(members)
    return [member_relation(p, original, cluster_id or original.key) for p in members]


def stays_original(original: Prepared, newcomer: Prepared) -> bool:
    """Whether a cluster's original stays when `newcomer` joins (then only the newcomer's row changes)."""
    return choose_original([original, newcomer]) is original
