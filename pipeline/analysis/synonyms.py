"""Names that search treats as one (`config/synonyms.yaml`, setting `synonyms_file`).

A query that names one member of a group ("Daesh Hamrin") is searched as the rest of the query
("Hamrin") AND any member of the group (Islamic State, ISIS, ISIL, Daesh, داعش, ...): the group's many
names are one term. Only whole words, runs of words or quoted phrases of the query are matched, in any
case; an excluded name ("-ISIS") and a query that uses OR are left as written (websearch syntax has
no parentheses to group the alternatives with the rest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.yamlfile import read_mapping

Groups = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ExpandedQuery:
    rest: str  # the query without the names that were expanded (may be empty)
    groups: Groups  # for each group named in the query, every one of its names


@lru_cache(maxsize=8)
def load_synonyms(path: Path) -> Groups:
    """The file's groups, validated (a ConfigError naming the file and the place)."""
    data = read_mapping(path, "synonyms file", " with a `groups` list")
    unknown = set(data) - {"groups"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)} (expected: groups)")
    groups = data.get("groups")
    if not isinstance(groups, list):
        raise ConfigError(f"{path}: `groups` must be a list of lists of names")
    out = []
    for i, group in enumerate(groups):
        if not isinstance(group, list) or len(group) < 2:
            raise ConfigError(f"{path}: groups[{i}]: a group is a list of at least two names")
        names = []
        for j, name in enumerate(group):
            if not isinstance(name, str) or not name.strip() or '"' in name:
                raise ConfigError(f"{path}: groups[{i}][{j}]: a name is non-empty text without double quotes")
            names.append(" ".join(name.split()))
        out.append(tuple(names))
    return tuple(out)


_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_EDGE_PUNCTUATION = ",.;:!?()[]"


def expand_query(query: str, groups: Groups) -> ExpandedQuery:
    """Take the group names out of `query` and return what is left with the groups they belong to.

    The query is read as websearch reads it: "quoted phrases", -exclusions, and OR (any case). Only a
    whole word or run of words outside quotes, or a whole quoted phrase, that is a name is taken; an
    excluded one, a name inside a longer phrase or word ("ISIS-K"), and every name of a query that
    uses OR stay as written."""
    tokens = _TOKEN.findall(query)
    if any(t.lower() == "or" for t in tokens):
        return ExpandedQuery(query, ())
    words = [_word(t) for t in tokens]  # None: not a bare word (quoted, excluded)
    taken = [False] * len(tokens)
    found: list[tuple[str, ...]] = []
    for group in groups:
        for name in sorted(group, key=lambda n: len(n.split()), reverse=True):
            wanted = name.lower().split()
            for i in range(len(tokens)):
                span = _match(tokens, words, taken, i, wanted)
                if span:
                    for k in range(i, i + span):
                        taken[k] = True
                    if group not in found:
                        found.append(group)
    rest = " ".join(t for t, gone in zip(tokens, taken, strict=True) if not gone)
    return ExpandedQuery(rest, tuple(found))


def _word(token: str) -> str | None:
    if token.startswith(("-", '"')):
        return None
    return token.strip(_EDGE_PUNCTUATION).lower() or None


def _match(tokens: list[str], words: list[str | None], taken: list[bool], i: int, wanted: list[str]) -> int:
    """How many tokens from `i` spell the name `wanted` (0: none): one whole quoted phrase, or bare words."""
    if taken[i]:
        return 0
    token = tokens[i]
    if token.startswith('"'):
        inner = token.strip('"').lower().split()
        return 1 if inner == wanted else 0
    window = words[i : i + len(wanted)]
    if len(window) == len(wanted) and window == wanted and not any(taken[i : i + len(wanted)]):
        return len(wanted)
    return 0
