"""Names that search treats as one (`config/synonyms.yaml`, setting `synonyms_file`).

A query that names one member of a group ("Daesh Hamrin") is searched as the rest of the query
("Hamrin") AND any member of the group (Islamic State, ISIS, ISIL, Daesh, داعش, ...): the group's many
names are one term. Only whole words or phrases of the query are matched, in any case; a name
after "-" (an exclusion) and a query that uses OR are left as written (websearch syntax has no
parentheses to group the alternatives with the rest).
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


def expand_query(query: str, groups: Groups) -> ExpandedQuery:
    """Take the group names out of `query` (longest first, each group once) and return what is left
    with the groups they belong to."""
    if re.search(r"(?<!\S)OR(?!\S)", query):
        return ExpandedQuery(query, ())
    found: list[tuple[str, ...]] = []
    rest = query
    for group in groups:
        for name in sorted(group, key=len, reverse=True):
            pattern = re.compile(rf'(?<![-\w])"?{_name_pattern(name)}"?(?!\w)', re.IGNORECASE)
            rest, n = pattern.subn(" ", rest)
            if n and group not in found:
                found.append(group)
    return ExpandedQuery(" ".join(rest.split()), tuple(found))


def _name_pattern(name: str) -> str:
    return r"[\s-]+".join(re.escape(word) for word in name.split())
