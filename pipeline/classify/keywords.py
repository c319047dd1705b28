"""Every keyword pattern of a taxonomy in one Aho-Corasick automaton: one pass over a text counts them all.

Keywords are regular expressions (taxonomy.py); most of them describe a finite set of strings
(`bomb(?:s|ing)?`, `(?:Iraqi|Syrian) forces`, `[ÉE]tat islamique`, `(?-i:IS)`). Those are expanded
into their strings, lower-cased, and put into one automaton (ahocorasick-rs, a contiguous NFA), which finds all
of them in a single scan of the lower-cased text: the cost no longer grows with the number of patterns (the
old scan per topic ran at about 170 documents per second on 2,700-word articles; see
docs/classification.md for the figures). A match counts when it stands as a whole word (no word
character before or after it, as the `(?<!\\w)...(?!\\w)` guard of the regular expressions) and, for
the parts written case-sensitively with `(?-i:...)`, when the original text has the same case.

Patterns with an unbounded part (`kidnap\\w*`, `(?:\\w+ ){0,3}`) or too many strings stay regular
expressions: one combined pattern per group, searched only when a group has such patterns.

Counting follows `re.findall` per group: matches of one group do not overlap (leftmost first, then
longest); matches of different groups may (a phrase can count for two topics).
"""

from __future__ import annotations

import re
import re._constants as sre_c
import re._parser as sre_p
from collections.abc import Sequence
from typing import Any

import ahocorasick_rs

MAX_STRINGS = 2_000  # a pattern that expands to more strings than this stays a regular expression
Piece = tuple[str, bool]  # one character and whether it must match case-sensitively


class TooMany(Exception):
    """A pattern that cannot (or should not) be expanded into a finite list of strings."""


def expand(pattern: str) -> list[list[Piece]]:
    """The strings a keyword pattern matches (case-insensitive unless `(?-i:...)`), or TooMany."""
    parsed = sre_p.parse(pattern, re.IGNORECASE)
    return _seq(list(parsed), True)


def _seq(items: Sequence[Any], ignore_case: bool) -> list[list[Piece]]:
    out: list[list[Piece]] = [[]]
    for op, arg in items:
        options = _item(op, arg, ignore_case)
        out = [left + right for left in out for right in options]
        if len(out) > MAX_STRINGS:
            raise TooMany(pattern_error("too many strings"))
    return out


def _item(op: Any, arg: Any, ignore_case: bool) -> list[list[Piece]]:
    if op is sre_c.LITERAL:
        return [[(chr(arg), not ignore_case)]]
    if op is sre_c.IN:
        chars = []
        for kind, value in arg:
            if kind is sre_c.LITERAL:
                chars.append(chr(value))
            elif kind is sre_c.RANGE and value[1] - value[0] < 64:
                chars.extend(chr(c) for c in range(value[0], value[1] + 1))
            else:
                raise TooMany(pattern_error(f"character class with {kind}"))
        return [[(c, not ignore_case)] for c in dict.fromkeys(chars)]
    if op is sre_c.BRANCH:
        return [s for branch in arg[1] for s in _seq(list(branch), ignore_case)]
    if op is sre_c.SUBPATTERN:
        _, add, remove, body = arg
        if add & sre_c.SRE_FLAG_IGNORECASE:
            ignore_case = True
        if remove & sre_c.SRE_FLAG_IGNORECASE:
            ignore_case = False
        return _seq(list(body), ignore_case)
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
        low, high, body = arg
        if high is sre_c.MAXREPEAT or high > 8:
            raise TooMany(pattern_error("unbounded repeat"))
        once = _seq(list(body), ignore_case)
        out: list[list[Piece]] = []
        current: list[list[Piece]] = [[]]
        for n in range(high + 1):
            if n >= low:
                out.extend(current)
            if n < high:
                current = [a + b for a in current for b in once]
            if len(out) + len(current) > MAX_STRINGS:
                raise TooMany(pattern_error("too many strings"))
        return out
    raise TooMany(pattern_error(f"operator {op}"))


def pattern_error(reason: str) -> str:
    return f"not expandable: {reason}"


def is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def lower_same_length(text: str) -> str:
    """text.lower(), keeping offsets (the few characters whose lower case is longer stay as they are)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class KeywordMatcher:
    """Counts, per group of patterns (a topic's keywords, the relevance anchors), whole-word matches."""

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        self.size = len(groups)
        self.automaton: Any = None
        table: dict[str, list[tuple[int, tuple[tuple[int, str], ...]]]] = {}
        leftovers: list[list[str]] = [[] for _ in groups]
        for g, patterns in enumerate(groups):
            for pattern in patterns:
                try:
                    strings = expand(pattern)
                except TooMany:
                    leftovers[g].append(pattern)
                    continue
                for pieces in strings:
                    if not pieces:
                        continue
                    key = "".join(c for c, _ in pieces).lower()
                    if len(key) != len(pieces):  # a character whose lower case is longer: leave it to re
                        leftovers[g].append(re.escape("".join(c for c, _ in pieces)))
                        continue
                    checks = tuple((i, c) for i, (c, cs) in enumerate(pieces) if cs and c.lower() != c.upper())
                    entries = table.setdefault(key, [])
                    if (g, checks) not in entries:
                        entries.append((g, checks))
        self.keys = list(table)
        self.entries = [tuple(table[key]) for key in self.keys]
        if table:
            # a contiguous NFA: 5 MB for the default taxonomy's ~11,000 strings where the DFA took 46 MB, at
            # 2,500 against 2,900 documents a second on the seeds (docs/classification.md)
            contiguous = ahocorasick_rs.Implementation.ContiguousNFA
            self.automaton = ahocorasick_rs.AhoCorasick(self.keys, implementation=contiguous)
        self.fallback = [
            re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p in pats) + r")(?!\w)", re.IGNORECASE) if pats else None
            for pats in leftovers
        ]
        self.expanded = sum(1 for g in groups for _ in g) - sum(len(x) for x in leftovers)

    def matches(self, text: str) -> list[list[tuple[int, int]]]:
        """Per group, the (start, end) spans that count, non-overlapping within a group."""
        spans: list[list[tuple[int, int]]] = [[] for _ in range(self.size)]
        if not text:
            return spans
        if self.automaton is not None:
            lowered = lower_same_length(text)
            n = len(text)
            for index, start, end in self.automaton.find_matches_as_indexes(lowered, overlapping=True):
                if (start > 0 and is_word(text[start - 1])) or (end < n and is_word(text[end])):
                    continue
                for group, checks in self.entries[index]:
                    if all(text[start + i] == c for i, c in checks):
                        spans[group].append((start, end))
        for group, pattern in enumerate(self.fallback):
            if pattern is not None:
                spans[group].extend(m.span() for m in pattern.finditer(text) if m.end() > m.start())
        return [_non_overlapping(s) for s in spans]

    def counts(self, text: str) -> list[int]:
        return [len(s) for s in self.matches(text)]


def _non_overlapping(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if len(spans) < 2:
        return spans
    spans.sort(key=lambda s: (s[0], -s[1]))
    out = [spans[0]]
    for start, end in spans[1:]:
        if start >= out[-1][1]:
            out.append((start, end))
    return out
