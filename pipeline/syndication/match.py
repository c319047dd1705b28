"""The matching logic shared by the database path and the in-memory path.

A pair of articles is one story when the smaller one's 3-word shingles are mostly contained in the
larger one's. Containment, not Jaccard: a copy that kept a fifth of the original still has most of
*its own* text in the original. Mid-range containment (an excerpt padded with local paragraphs, like
the Star Tribune copy of the NYT story) is accepted only when one text's lede is in the other: a
syndicated copy keeps the top of the story, while a roundup that borrowed one paragraph, or an outlet's
own story quoting another, shares text from the middle.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.syndication.text import (
    fingerprints,
    normalize_tokens,
    normalized_text_hash,
    paragraphs,
    shingles,
)

LINK_CONTAINMENT = 0.6  # linked on containment alone
LEDE_CONTAINMENT = 0.3  # linked when, in addition, the lede matches
LEDE_TOKENS = 40  # the lede: the first 40 normalized tokens
LEDE_MATCH = 0.5  # share of the lede's shingles found in the other text
MIN_SHARED = 12  # fewer shared shingles than this is never a copy (tiny texts)
PARAGRAPH_KEPT = 0.5  # a paragraph is "kept" when this share of its shingles is in the other text
INDEX_LEDE_FPS = 32  # fingerprints indexed from the top of each article
INDEX_REST_FPS = 8  # plus this many sampled from the rest (copies that kept a middle part)
REST_SAMPLE_MOD = 8  # the rest is sampled by hash value (the same fingerprints in every text)

# Credit lines and bylines that name the originating agency or paper, and its domain.
CREDITS: dict[str, str] = {
    "new york times": "nytimes.com",
    "reuters": "reuters.com",
    "associated press": "apnews.com",
    "ap": "apnews.com",
    "agence france-presse": "afp.com",
    "afp": "afp.com",
    "washington post": "washingtonpost.com",
    "bloomberg": "bloomberg.com",
    "los angeles times": "latimes.com",
    "the guardian": "theguardian.com",
    "bbc": "bbc.com",
    "dpa": "dpa.com",
    "tribune content agency": "tribunecontentagency.com",
}
_CREDIT = re.compile(
    r"(?:\((?P<paren>[A-Za-z .-]{2,40})\)\s*[-\u2014\u2013]"  # "BEIRUT (Reuters) -"
    r"|(?:copyright|\u00a9)\s*\d{0,4}\s*(?:the\s+)?(?P<copy>[A-Za-z .-]{2,40}?)[.,]"  # "(c) 2019 The AP."
    r"|(?:distributed by|this (?:article|story) (?:first |originally )?appeared in|reporting by|"
    r"written by|^by)\s+(?:the\s+)?(?P<line>[A-Za-z .-]{2,40}))",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Record:
    """One article as the matcher sees it."""

    key: str
    text: str
    published_at: datetime | None = None
    source: str = ""
    url: str = ""
    title: str = ""
    aliases: tuple[str, ...] = ()


@dataclass
class Prepared:
    """A record with its normalized forms, computed once."""

    record: Record
    tokens: list[str]
    shingles: set[int]
    lede: set[int]
    text_hash: str
    paras: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def size(self) -> int:
        return len(self.shingles)

    @functools.cached_property
    def fps(self) -> list[int]:
        """All winnowed fingerprints, in text order (computed once, when first needed)."""
        return fingerprints(self.tokens)


def prepare(record: Record) -> Prepared:
    tokens = normalize_tokens(record.text)
    return Prepared(
        record=record,
        tokens=tokens,
        shingles=shingles(tokens),
        lede=shingles(tokens[:LEDE_TOKENS]),
        text_hash=normalized_text_hash(tokens),
        paras=paragraphs(record.text),
    )


def index_fingerprints(tokens: Sequence[str]) -> list[int]:
    """The bounded set of fingerprints an article is indexed under.

    The first INDEX_LEDE_FPS winnowed fingerprints (the top of the story, which copies keep) and up to
    INDEX_REST_FPS of the rest chosen by hash value, so the same ones are chosen in every text.
    """
    return index_subset(fingerprints(tokens))


def index_subset(fps: Sequence[int]) -> list[int]:
    """The bounded subset of an article's fingerprints (`fingerprints(tokens)`) that it is indexed under."""
    head = list(fps[:INDEX_LEDE_FPS])
    rest = [fp for fp in fps[INDEX_LEDE_FPS:] if fp % REST_SAMPLE_MOD == 0]
    rest.sort()
    return head + rest[:INDEX_REST_FPS]


def query_fingerprints(tokens: Sequence[str]) -> list[int]:
    """All winnowed fingerprints of a new article: it is looked up under every part of its text."""
    return fingerprints(tokens)


@dataclass(frozen=True)
class PairScore:
    containment: float  # shared shingles / the smaller text's shingles
    shared: int
    lede: float  # the better of: a's lede in b, b's lede in a
    linked: bool


def compare(a: Prepared, b: Prepared) -> PairScore:
    """Decide whether a and b are one story (a copy of the other, or both of one original)."""
    if not a.shingles or not b.shingles:
        return PairScore(0.0, 0, 0.0, False)
    if a.text_hash == b.text_hash:
        return PairScore(1.0, a.size, 1.0, True)
    shared = len(a.shingles & b.shingles)
    containment = shared / min(a.size, b.size)
    lede = max(_share(a.lede, b.shingles), _share(b.lede, a.shingles))
    linked = shared >= MIN_SHARED and (
        containment >= LINK_CONTAINMENT or (containment >= LEDE_CONTAINMENT and lede >= LEDE_MATCH)
    )
    return PairScore(containment, shared, lede, linked)


def _share(part: set[int], whole: set[int]) -> float:
    return len(part & whole) / len(part) if part else 0.0


def containment_in(copy: Prepared, original: Prepared) -> float:
    """How much of the copy's text is in the original (1.0 for the original itself)."""
    if copy.key == original.key or copy.text_hash == original.text_hash:
        return 1.0
    if not copy.shingles:
        return 0.0
    return len(copy.shingles & original.shingles) / copy.size


def credited_domains(text: str) -> set[str]:
    """Domains of the agencies/papers a text credits ("(Reuters) -", "Distributed by ...", bylines)."""
    found = set()
    for match in _CREDIT.finditer(text):
        name = (match.group("paren") or match.group("copy") or match.group("line") or "").lower()
        name = re.sub(r"^the\s+", "", name.strip(" .-"))
        for credit, domain in CREDITS.items():
            if re.search(rf"\b{re.escape(credit)}\b", name):
                found.add(domain)
    return found


def when(p: Prepared) -> float:
    """Publication time as a UTC timestamp (no date sorts last)."""
    value = p.record.published_at
    if value is None:
        return float("inf")
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _day_only(value: datetime | None) -> bool:
    return value is not None and (value.hour, value.minute, value.second) == (0, 0, 0)


def _tied(a: Prepared, b: Prepared) -> bool:
    """Same publication time, or the same day when one of them only has a date."""
    ta, tb = when(a), when(b)
    if ta == tb:
        return True
    da, db_ = a.record.published_at, b.record.published_at
    if da is None or db_ is None:
        return False
    return (_day_only(da) or _day_only(db_)) and abs(ta - tb) < 86400 and da.date() == db_.date()


def choose_original(members: Sequence[Prepared]) -> Prepared:
    """The cluster's original: earliest published, then the credited originator, then the most complete.

    Members published at the same time (or the same day, when a date has no time) are tied; among them
    the one whose outlet the others credit wins, then the one containing most of the others' text.
    """
    earliest = min(members, key=lambda p: (when(p), p.key))
    tied = [p for p in members if _tied(p, earliest)]
    if len(tied) == 1:
        return earliest
    credits: set[str] = set()
    for p in members:
        credits |= credited_domains(p.record.text)
    union: set[int] = set().union(*(p.shingles for p in members))

    def rank(p: Prepared) -> tuple[int, int, str]:
        credited = int(bool(p.record.source) and _source_matches(p.record.source, credits))
        return (-credited, -len(p.shingles & union), p.key)

    return min(tied, key=rank)


def _source_matches(source: str, domains: Iterable[str]) -> bool:
    source = source.lower().removeprefix("www.")
    return any(source == d or source.endswith("." + d) for d in domains)


def paragraph_diff(original: Prepared, copy: Prepared) -> tuple[list[str], list[str]]:
    """Paragraphs of the original missing from the copy (dropped) and of the copy missing from it (added).

    A paragraph counts as present when most of its shingles are in the other text, so restyled or
    lightly reworded paragraphs are kept, not reported as dropped and added.
    """
    dropped = [p for p in original.paras if not _paragraph_in(p, copy.shingles)]
    added = [p for p in copy.paras if not _paragraph_in(p, original.shingles)]
    return dropped, added


def _paragraph_in(paragraph: str, whole: set[int]) -> bool:
    own = shingles(normalize_tokens(paragraph))
    return bool(own) and _share(own, whole) >= PARAGRAPH_KEPT


def is_duplicate(a: Prepared, b: Prepared) -> bool:
    """Exact duplicates: the same normalized text, or a URL alias in common."""
    if a.text_hash == b.text_hash and a.tokens:
        return True
    urls_a = {u for u in (a.record.url, *a.record.aliases) if u}
    urls_b = {u for u in (b.record.url, *b.record.aliases) if u}
    return bool(urls_a & urls_b)
