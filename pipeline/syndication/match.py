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
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import regex

from pipeline.syndication.text import (
    SCRIPT_FOLD,
    SHINGLE_WORDS,
    fingerprints,
    gram_hashes,
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
# Lists and tables are not copies: the decision counts only shingles that start in running text. A line of
# fewer than LIST_LINE_TOKENS tokens (list item, table cell, heading, "Advertisement") is not running text,
# nor is a line cut by separators into LIST_SEGMENTS or more pieces that are mostly short (names, items).
LIST_LINE_TOKENS = 8
LIST_SEGMENTS = 4
LIST_SEGMENT_TOKENS = 3
LIST_SHORT_SHARE = 0.75
_SEPARATORS = re.compile(r"[,;|\u2022\u00b7\u3001\t]| [-\u2013\u2014/] ")

# Agencies and papers named in credit lines, and their domains, in the languages of the feeds. Keys are
# matched after `fold_name` (case folded, Arabic letter variants folded), so they are written plainly.
CREDITS: dict[str, str] = {
    "new york times": "nytimes.com",
    "reuters": "reuters.com",
    "associated press": "apnews.com",
    "ap": "apnews.com",
    "agence france-presse": "afp.com",
    "agence france presse": "afp.com",
    "afp": "afp.com",
    "washington post": "washingtonpost.com",
    "bloomberg": "bloomberg.com",
    "los angeles times": "latimes.com",
    "the guardian": "theguardian.com",
    "bbc": "bbc.com",
    "tribune content agency": "tribunecontentagency.com",
    "dpa": "dpa.com",
    "deutsche presse-agentur": "dpa.com",
    "kna": "kna.de",
    "epd": "epd.de",
    "apa": "apa.at",
    "sda": "sda.ch",
    "keystone-sda": "sda.ch",
    "efe": "efe.com",
    "agencia efe": "efe.com",
    "europa press": "europapress.es",
    "ansa": "ansa.it",
    "pap": "pap.pl",
    "lusa": "lusa.pt",
    "anp": "anp.nl",
    "belga": "belga.be",
    "tass": "tass.ru",
    "тасс": "tass.ru",
    "ria novosti": "ria.ru",
    "риа новости": "ria.ru",
    "интерфакс": "interfax.ru",
    "interfax": "interfax.ru",
    "xinhua": "xinhuanet.com",
    "新华社": "xinhuanet.com",
    "新华网": "xinhuanet.com",
    "中新社": "chinanews.com.cn",
    "kyodo": "kyodonews.net",
    "共同通信": "kyodonews.net",
    "yonhap": "yna.co.kr",
    "anadolu": "aa.com.tr",
    "رويترز": "reuters.com",
    "فرانس برس": "afp.com",
    "ا ف ب": "afp.com",
    "أ ف ب": "afp.com",
    "د ب أ": "dpa.com",
    "اسوشيتد برس": "apnews.com",
    "أسوشيتد برس": "apnews.com",
    "الأناضول": "aa.com.tr",
    "وام": "wam.ae",
    "واس": "spa.gov.sa",
    "قنا": "qna.org.qa",
    "سانا": "sana.sy",
    "بترا": "petra.gov.jo",
}
_NAME = r"[\p{L}\p{N}][\p{L}\p{M}\p{N} .&'/-]{1,40}"
_LEAD_INS = (
    r"distributed by|this (?:article|story) (?:first |originally )?appeared (?:in|on)|reporting by|"
    r"written by|^\s*by|^\s*von|^\s*por|^\s*par|quelle|fuente|fuentes|source|sources|fonte|źródło|"
    r"источник|المصدر|来源|出处|出典|^\s*pm|pressemitteilung(?: de[rs])?|pressemeldung(?: de[rs])?|"
    r"presseinformation(?: de[rs])?|comunicado(?: de prensa)?|nota de prensa|communiqué(?: de presse)?|"
    r"mit material von|con información de|avec"
)
_CREDIT = regex.compile(
    rf"\((?P<paren>{_NAME})\)\s*[-\u2014\u2013.:,]"  # "BEIRUT (Reuters) -", "Berlin (dpa/lnw) -", "(EFE).-"
    rf"|(?:copyright|\u00a9)\s*\d{{0,4}}\s*(?P<copy>{_NAME}?)(?:[.,]|$)"  # "(c) 2019 The AP."
    rf"|(?:{_LEAD_INS})(?:\s*:\s*|\s+)(?P<line>{_NAME})"  # "Quelle: dpa", "PM DJV", "المصدر: رويترز"
    rf"|^[\s(\W]*(?P<alone>{_NAME})[\s)\W]*$",  # a line that is only a name: "(dpa)", "dpa/AFP"
    regex.IGNORECASE | regex.MULTILINE | regex.V1,
)
_ALONE_CHARS = 40  # a line naming only an agency is short
_LABEL_CHARS = 40  # a credited name matched against outlets' host labels ("PM DJV" -> djv.de)
_ARTICLES = regex.compile(r"^(?:the|der|die|das|des|el|la|los|las|le|les|l'|il|lo)\s+")
CREDIT_SLACK = 86400.0  # a credited member published up to a day after the earliest is still its original


def fold_name(name: str) -> str:
    """A name as credit lines are matched: NFKC, case folded, Arabic letter variants folded, spaces single."""
    folded = unicodedata.normalize("NFKC", name).casefold().translate(SCRIPT_FOLD)
    return " ".join(folded.split())


_CREDIT_DOMAINS = {fold_name(k): v for k, v in CREDITS.items()}
_KNOWN = regex.compile(
    r"(?<![\p{L}\p{N}])(?:"
    + "|".join(map(regex.escape, sorted(_CREDIT_DOMAINS, key=len, reverse=True)))
    + r")(?![\p{L}\p{N}])"
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
    lede: set[int]  # shingles of the first LEDE_TOKENS tokens of running text
    text_hash: str
    paras: list[str] = field(default_factory=list)
    prose: set[int] = field(default_factory=set)  # shingles starting in running text (not lists, tables)

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
    paras = paragraphs(record.text)
    per_para = [normalize_tokens(p) for p in paras]
    tokens = [t for para in per_para for t in para]
    running = [not _list_like(p, t) for p, t in zip(paras, per_para, strict=True)]
    grams = gram_hashes(tokens, SHINGLE_WORDS)
    if all(running):
        prose, lede_tokens = set(grams.tolist()), tokens[:LEDE_TOKENS]
    else:
        in_prose = np.repeat(np.array(running, dtype=bool), [len(t) for t in per_para])
        if len(tokens) >= SHINGLE_WORDS:  # shingles whose every token is in running text
            whole = np.lib.stride_tricks.sliding_window_view(in_prose, SHINGLE_WORDS).all(axis=1)
            prose = set(grams[whole].tolist())
        else:
            prose = set()
        lede_tokens = [t for para, ok in zip(per_para, running, strict=True) if ok for t in para][:LEDE_TOKENS]
    return Prepared(
        record=record,
        tokens=tokens,
        shingles=set(grams.tolist()),
        lede=shingles(lede_tokens) if lede_tokens else set(),
        text_hash=normalized_text_hash(tokens),
        paras=paras,
        prose=prose,
    )


def _list_like(paragraph: str, tokens: Sequence[str]) -> bool:
    """A line that is not running text: short, or cut by separators into mostly short pieces."""
    if len(tokens) < LIST_LINE_TOKENS:
        return True
    pieces = [len(piece.split()) for piece in _SEPARATORS.split(paragraph) if piece.strip()]
    if len(pieces) < LIST_SEGMENTS:
        return False
    return sum(n <= LIST_SEGMENT_TOKENS for n in pieces) >= LIST_SHORT_SHARE * len(pieces)


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
    """Decide whether a and b are one story (a copy of the other, or both of one original).

    Measured on running text only (`Prepared.prose`): two lists of the same names are not a copy.
    """
    if not a.shingles or not b.shingles:
        return PairScore(0.0, 0, 0.0, False)
    if a.text_hash == b.text_hash:
        return PairScore(1.0, a.size, 1.0, True)
    if not a.prose or not b.prose:
        return PairScore(0.0, 0, 0.0, False)
    shared = len(a.prose & b.prose)
    containment = shared / min(a.size, b.size)  # lists count in the size: a list is not diluted away
    lede = max(_share(a.lede, b.prose), _share(b.lede, a.prose))
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


def credits(text: str) -> set[str]:
    """Who a text credits: domains of known agencies and papers ("(Reuters) -", "Quelle: dpa", "(EFE).-",
    "المصدر: رويترز", "Distributed by ..."), and other credited names as bare labels ("PM DJV" -> "djv"),
    matched against the outlets' domain names."""
    found: set[str] = set()
    folded = unicodedata.normalize("NFKC", text).translate(SCRIPT_FOLD)
    for match in _CREDIT.finditer(folded):
        alone = match.group("alone")
        if alone is not None and len(alone) > _ALONE_CHARS:
            continue
        raw = match.group("paren") or match.group("copy") or match.group("line") or alone or ""
        for part in regex.split(r"[/,;]| and | und | y | et ", raw):
            name = _ARTICLES.sub("", fold_name(part).strip(" .-'"))
            known = {_CREDIT_DOMAINS[k] for k in _KNOWN.findall(name)}
            found |= known
            label = regex.sub(r"[^\p{L}\p{N}]", "", name)
            if not known and alone is None and 2 <= len(label) <= _LABEL_CHARS and len(name.split()) <= 3:
                found.add(label)
    return found


def credited_domains(text: str) -> set[str]:
    """Domains of the known agencies/papers a text credits."""
    return {c for c in credits(text) if "." in c}


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
    """The cluster's original: earliest published, unless credited, then the most complete.

    A member whose outlet the other members' credit lines name ("(dpa)", "Quelle: ...", "PM DJV") and that was
    published at most CREDIT_SLACK after the earliest is the original (a press release dated by day only,
    a time zone read wrong, make the copy look earlier). Otherwise the earliest; members published at the
    same time (or the same day, when a date has no time) are tied and the one containing most of the
    others' text wins.
    """
    earliest = min(members, key=lambda p: (when(p), p.key))
    near = [p for p in members if _tied(p, earliest) or when(p) - when(earliest) <= CREDIT_SLACK]
    if len(near) == 1:
        return earliest
    named = {p.key: credits(p.record.text) for p in members}
    union: set[int] = set().union(*(p.shingles for p in members))
    credited = [p for p in near if _credited_by_others(p, members, named)]
    if credited:
        return min(credited, key=lambda p: (when(p), -len(p.shingles & union), p.key))
    tied = [p for p in members if _tied(p, earliest)]
    return min(tied, key=lambda p: (-len(p.shingles & union), p.key))


_NOT_NAMES = {"www", "com", "co", "org", "net", "gov", "ac", "edu", ""}


def _credited_by_others(p: Prepared, members: Sequence[Prepared], named: dict[str, set[str]]) -> bool:
    """Another member's credit line names p's outlet (an outlet's own copyright line is no evidence)."""
    if not p.record.source:
        return False
    return any(_source_matches(p.record.source, named[o.key]) for o in members if o.key != p.key)


def _source_matches(source: str, credited: Iterable[str]) -> bool:
    """The outlet is credited: its domain (or a parent domain) is, or one of its host labels is a name."""
    source = source.lower().removeprefix("www.")
    labels = {regex.sub(r"[^\p{L}\p{N}]", "", x) for x in source.split(".")[:-1]} - _NOT_NAMES
    for c in credited:
        if "." in c:
            if source == c or source.endswith("." + c):
                return True
        elif c in labels:
            return True
    return False


def paragraph_diff(original: Prepared, copy: Prepared) -> tuple[list[str], list[str]]:
    """Paragraphs of the original missing from the copy (dropped) and of the copy missing from it (added).

    A paragraph counts as present when most of its shingles are in the other text, so restyled or
    lightly reworded paragraphs are kept, not reported as dropped and added.
    """
    dropped = [p for p in original.paras if not _paragraph_in(p, copy.shingles)]
    added = [p for p in copy.paras if not _paragraph_in(p, original.shingles)]
    return dropped, added


def changed_figures(original: Prepared, copy: Prepared) -> list[dict[str, str]]:
    """Paragraphs the copy kept (by `paragraph_diff`'s rule, with a closest paragraph of the original)
    that state a figure the original gives nowhere: "killing seven soldiers" republished as "killing
    nine soldiers", a date moved (a copy that only cut a figure, with its clause, is not flagged:
    `dropped` is for cuts). Each is {"original": <closest paragraph>, "copy": ...}; the edit an analyst
    most needs to see, and one that the shingle share cannot tell from a restyled sentence. Figures are
    read from the normalized tokens, so "two" and "2", "1,200" and "1200" are one figure."""
    originals = [(p, normalize_tokens(p)) for p in original.paras]
    stated = Counter(f for _, tokens in originals for f in _figures(tokens))  # anywhere: a copy may merge paragraphs
    shingled = [(p, shingles(tokens)) for p, tokens in originals]
    changed = []
    for para in copy.paras:
        tokens = normalize_tokens(para)
        own = shingles(tokens)
        if not own or _share(own, original.shingles) < PARAGRAPH_KEPT:
            continue  # an added paragraph, reported as such
        best, share = max(((p, _share(own, theirs)) for p, theirs in shingled), key=lambda x: x[1], default=("", 0.0))
        if share >= PARAGRAPH_KEPT and Counter(_figures(tokens)) - stated:
            changed.append({"original": best, "copy": para})
    return changed


# Number words past ten and scale words, which `normalize_tokens` leaves as words (it reads "one" to
# "ten" as digits, "1,500" as "1500", "thousand" as "k", "million" as "m").
_TEENS = ["eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
          "twenty"]  # fmt: skip
_TENS = ["thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUMBER_WORDS = {w: str(n) for n, w in enumerate(_TEENS, 11)} | {w: str(10 * n) for n, w in enumerate(_TENS, 3)}
_SCALE_TOKENS = {"k", "m", "bn", "hundred", "hundreds", "thousands", "millions", "dozen", "dozens"}


def _figures(tokens: Sequence[str]) -> list[str]:
    """The figures among a paragraph's normalized tokens."""
    return [_NUMBER_WORDS.get(t, t) for t in tokens if t[:1].isdigit() or t in _NUMBER_WORDS or t in _SCALE_TOKENS]


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
