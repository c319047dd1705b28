"""Text normalization, shingles and fingerprints for syndication detection.

Normalization maps two renderings of the same sentence to the same tokens, so that the house-style
edits an outlet makes when it republishes a wire story (case, quotes, dashes, "American" -> "U.S.",
"Islamic State" -> "ISIS", "1,500" -> "1500", "two" -> "2", "Jan." -> "January", British spellings,
"Mr."...) do not break shingle matches. The mapping only has to be *consistent*, not linguistically
right: both texts go through it.

Every script is tokenized: words are runs of letters, marks and digits (accented letters and the vowel
signs of Indic scripts stay inside their word), case is folded, Arabic is normalized for its letter
variants (alef forms, alef maqsura, teh marbuta, hamza seats), its diacritics and tatweel, and digits of
any script are read as ASCII digits. Scripts written without spaces between words (Chinese, Japanese,
Thai, Lao, Khmer, Myanmar) give one token per character, so their shingles are character shingles.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Sequence
from typing import cast

import numpy as np
import regex

SHINGLE_WORDS = 3  # containment is measured on 3-word shingles
FP_WORDS = 5  # fingerprints hash 5-word shingles (rarer than 3-grams, robust to single-word edits)
FP_WINDOW = 8  # winnowing window: every run of FP_WINDOW + FP_WORDS - 1 shared tokens shares a fingerprint

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
    }
)
# Multi-word names folded to one token (matched on the token stream, articles already dropped).
_PHRASES: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {}
for _phrase, _repl in (
    ("islamic state of iraq and syria", "isis"),
    ("islamic state of iraq and levant", "isis"),
    ("islamic state of iraq and sham", "isis"),
    ("islamic state group", "isis"),
    ("islamic state", "isis"),
    ("is group", "isis"),
    ("al qaeda", "alqaeda"),
    ("united states", "us"),
    ("united kingdom", "uk"),
    ("united nations", "un"),
    ("per cent", "percent"),
):
    _words = tuple(_phrase.split())
    _options = (*_PHRASES.get(_words[0], ()), (_words, _repl))
    _PHRASES[_words[0]] = tuple(sorted(_options, key=lambda x: -len(x[0])))
_WORDS = {
    "american": "us",
    "americans": "us",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "million": "m",
    "mn": "m",
    "billion": "bn",
    "b": "bn",
    "thousand": "k",
    "jan": "january",
    "feb": "february",
    "mar": "march",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
    "qaida": "qaeda",
    "the": "",
    "a": "",
    "an": "",
    "mr": "",
    "mrs": "",
    "ms": "",
    "dr": "",
    "messrs": "",
    "%": "percent",
    "isil": "isis",
    "daesh": "isis",
    "alqaeda": "alqaeda",
    "alqaida": "alqaeda",
}
# British -> US spellings and other suffix variants, by consistent suffix rewriting.
# No suffix of the table ends another one, so at most one applies to a word.
_SUFFIXES: dict[str, str] = {
    "isation": "ization",
    "ising": "izing",
    "ised": "ized",
    "ises": "izes",
    "ise": "ize",
    "yse": "yze",
    "ours": "ors",
    "our": "or",
    "tre": "ter",
    "ogue": "og",
    "elled": "eled",
    "elling": "eling",
    "ence": "ense",
}
_SUFFIX = re.compile("(?:" + "|".join(sorted(_SUFFIXES, key=len, reverse=True)) + ")$")
# Words with inner apostrophes, dots or digit commas kept whole ("u.s", "country's", "1,500"), and "%".
_TOKEN = re.compile(r"[a-z0-9]+(?:['.,][a-z0-9]+)*|%")
# The same for any script (a superset: on ASCII text it finds exactly the tokens of _TOKEN). A character of
# a script without spaces is a token of its own.
_NO_SPACE = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_WORD_CHAR = rf"[^\W_{_NO_SPACE}]|[\p{{M}}--[{_NO_SPACE}]]"
_UNI_TOKEN = regex.compile(rf"[{_NO_SPACE}]|(?:{_WORD_CHAR})+(?:['.,](?:{_WORD_CHAR})+)*|%", regex.V1)
# Arabic: diacritics (harakat, superscript alef, Quranic marks) and tatweel dropped, letter variants folded.
_ARABIC_MARKS = [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640]
_ARABIC: dict[int, str | None] = dict.fromkeys(_ARABIC_MARKS)
_ARABIC.update(
    {
        ord(a): b
        for a, b in {
            "\u0623": "\u0627",
            "\u0625": "\u0627",
            "\u0622": "\u0627",
            "\u0671": "\u0627",
            "\u0649": "\u064a",
            "\u0629": "\u0647",
            "\u0624": "\u0648",
            "\u0626": "\u064a",
            "\u06cc": "\u064a",
            "\u06a9": "\u0643",
        }.items()
    }
)
# Hebrew points and cantillation marks dropped (optional in writing, like Arabic diacritics).
_ARABIC.update({c: None for c in range(0x0591, 0x05C8) if c not in (0x05BE, 0x05C0, 0x05C3, 0x05C6)})
# Decimal digits of every script read as ASCII digits.
_DIGITS: dict[int, str | None] = {
    c: str(unicodedata.digit(chr(c))) for c in range(0x80, 0x30000) if unicodedata.category(chr(c)) == "Nd"
}
SCRIPT_FOLD = str.maketrans({**_ARABIC, **_DIGITS})
_INNER = re.compile(r"['.,]")
_DIGITS_THEN_LETTERS = re.compile(r"^(\d+)([a-z]+)$")
# Per-process caches of word normalization and token hashes (cleared when they reach CACHE_WORDS). A news
# stream's vocabulary keeps growing (names, numbers, misspellings): 100k words (~15 MB per cache) hold
# the frequent ones, where 1M would let a long-running process grow by ~150 MB per cache.
CACHE_WORDS = 100_000
_WORD_CACHE: dict[str, tuple[str, ...]] = {}
_HASH_CACHE: dict[str, int] = {}


def _word(raw: str) -> tuple[str, ...]:
    """One raw token normalized to zero, one or two tokens ("3m" -> "3", "m")."""
    if not raw.isalpha():
        raw = _INNER.sub("", raw)
        split = _DIGITS_THEN_LETTERS.match(raw)
        if split:
            return (split.group(1), *_word(split.group(2)))
    word = _WORDS.get(raw, raw)
    if not word:
        return ()
    if len(word) >= 5:
        suffix = _SUFFIX.search(word)
        if suffix:
            return (word[: suffix.start()] + _SUFFIXES[suffix.group()],)
    return (word,)


def _fold_phrases(words: list[str]) -> list[str]:
    """Multi-word names folded to one token; only the positions starting a known phrase are examined."""
    starts = list(itertools.compress(range(len(words)), map(_PHRASES.__contains__, words)))
    if not starts:
        return words
    out: list[str] = []
    done = 0  # words[:done] are already in out
    for i in starts:
        if i < done:
            continue
        for phrase, repl in _PHRASES[words[i]]:
            if tuple(words[i : i + len(phrase)]) == phrase:
                out.extend(words[done:i])
                out.append(repl)
                done = i + len(phrase)
                break
    out.extend(words[done:])
    return out


def normalize_tokens(text: str) -> list[str]:
    """The text as normalized word tokens (house-style variants folded together, articles dropped)."""
    if text.isascii():
        raws = _TOKEN.findall(text.lower())
    else:
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold().translate(SCRIPT_FOLD)
        raws = _UNI_TOKEN.findall(text)
    found = list(map(_WORD_CACHE.get, raws))
    mapped = cast(list[tuple[str, ...]], found)
    if None in found:
        mapped = [m if m is not None else _cached_word(r) for m, r in zip(found, raws, strict=True)]
    return _fold_phrases(list(itertools.chain.from_iterable(mapped)))


def _cached_word(raw: str) -> tuple[str, ...]:
    if len(_WORD_CACHE) >= CACHE_WORDS:
        _WORD_CACHE.clear()
    found = _WORD_CACHE[raw] = _word(raw)
    return found


def paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs: one per line (blank lines ignored), stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_POSITION = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0x85EBCA77C2B2AE63,
        0x27D4EB2F165667C5,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
    ],
    dtype=np.uint64,
)


def _token_hash(word: str) -> int:
    if len(_HASH_CACHE) >= CACHE_WORDS:
        _HASH_CACHE.clear()
    found = _HASH_CACHE[word] = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
    return found


def gram_hashes(tokens: Sequence[str], k: int) -> np.ndarray:
    """Stable 64-bit hashes (int64) of every k-word shingle, in text order (one for a shorter text).

    Each token is hashed once (blake2b), a shingle combines its tokens by position, then a
    splitmix64 finalizer spreads the bits. Stable across processes and Python versions.
    """
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    found = list(map(_HASH_CACHE.get, tokens))
    if None in found:
        found = [h if h is not None else _token_hash(t) for h, t in zip(found, tokens, strict=True)]
    th = np.array(found, dtype=np.uint64)
    n = max(1, len(th) - k + 1)
    acc = np.zeros(n, dtype=np.uint64)
    for j in range(min(k, len(th))):
        acc += th[j : j + n] * _POSITION[j]
    acc ^= acc >> np.uint64(30)
    acc *= _MIX1
    acc ^= acc >> np.uint64(27)
    acc *= _MIX2
    acc ^= acc >> np.uint64(31)
    return acc.view(np.int64)


def shingles(tokens: Sequence[str], k: int = SHINGLE_WORDS) -> set[int]:
    """The set of k-word shingle hashes (a text shorter than k words gives its one short shingle)."""
    return set(gram_hashes(tokens, k).tolist())


def normalized_text_hash(tokens: Sequence[str]) -> str:
    """Hash of the normalized token stream: equal for texts that differ only in style and layout."""
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()


def winnow(hashes: np.ndarray, window: int = FP_WINDOW) -> np.ndarray:
    """Winnowing (Schleimer et al. 2003): the positions of the minimum hash of every window.

    Two texts sharing a run of `window` consecutive shingle hashes share at least one fingerprint.
    Ties keep the rightmost minimum, so runs of equal hashes yield one fingerprint.
    """
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(hashes) <= window:
        return np.array([len(hashes) - 1 - int(np.argmin(hashes[::-1]))])
    windows = np.lib.stride_tricks.sliding_window_view(hashes, window)
    rightmost = window - 1 - np.argmin(windows[:, ::-1], axis=1)
    return np.unique(np.arange(len(windows)) + rightmost)


def fingerprints(tokens: Sequence[str], *, k: int = FP_WORDS, window: int = FP_WINDOW) -> list[int]:
    """Winnowed fingerprints of the k-word shingles of `tokens`, distinct, in text order."""
    if len(tokens) < k:
        return []
    grams = gram_hashes(tokens, k)
    seen: set[int] = set()
    out = []
    for value in grams[winnow(grams, window)].tolist():
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out
