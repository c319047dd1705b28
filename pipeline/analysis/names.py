"""Names an analyst types (outlets, topics) checked against the database, with close names offered."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from pipeline.analysis import queries
from pipeline.analysis.queries import Conn
from pipeline.errors import ConfigError


def check_outlets(conn: Conn, given: Iterable[str], option: str = "--outlet") -> tuple[str, ...]:
    """The outlets named, each checked to have articles; the full list of outlets (a scan of the
    archive) is read only to suggest names when one is unknown."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in given if n.strip()))
    if not names or set(names) <= queries.outlets_present(conn, names):
        return names
    return check_names(names, queries.known_outlets(conn), "outlet", option)


def check_names(given: Iterable[str], known: Sequence[str], what: str, option: str) -> tuple[str, ...]:
    """`given` if every name is in `known`; else a ConfigError naming each unknown one with the
    known names closest to it (or, when none is close, a few known ones)."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in given if n.strip()))
    known_set = set(known)
    problems = []
    for name in names:
        if name in known_set:
            continue
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.6)
        close += [k for k in known if name in k and k not in close][: 5 - len(close)]
        hint = f"close names: {', '.join(close)}" if close else _some(known, what)
        problems.append(f"{option} {name!r}: no {what} of that name in the database ({hint})")
    if problems:
        if any(":" in n or "/" in n for n in names if n not in known_set):
            problems.append(f"{option} names an outlet by its domain (e.g. bbc.co.uk); "
                            "archives to load (KIND:LOCATION) go to `newsflow backfill --source`")  # fmt: skip
        raise ConfigError("\n".join(problems))
    return names


def _some(known: Sequence[str], what: str) -> str:
    if not known:
        return f"the database has no {what}s yet"
    shown = ", ".join(known[:8])
    return f"known: {shown}{', ...' if len(known) > 8 else ''} ({len(known)} in all)"
