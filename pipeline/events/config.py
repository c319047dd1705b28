"""The event stage's YAML files (types, actors, places), read and validated strictly.

Every error is a `ConfigError` naming the file and the key (`types[3].cues[0]`), like the taxonomy's.
Pure: no database.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.yamlfile import read_mapping

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
if not CONFIG_DIR.is_dir():  # installed wheel: config is packaged as pipeline/_config
    CONFIG_DIR = Path(__file__).resolve().parents[1] / "_config"

NEEDS = {"actor_or_count", "count"}
PRECISIONS = {"town", "region", "country"}


@dataclass(frozen=True)
class EventType:
    event_type: str  # the ACLED event type, also the merge family
    sub_event_type: str
    cue: re.Pattern[str]  # matched on lower-cased text
    needs: str = "actor_or_count"


@dataclass(frozen=True)
class Actor:
    name: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class ExtraPlace:
    name: str
    country: str  # ISO code
    lat: float
    lon: float
    precision: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlacesConfig:
    aliases: tuple[tuple[str, str, tuple[str, ...]], ...]  # (GeoNames name, ISO country, aliases)
    places: tuple[ExtraPlace, ...]
    countries: dict[str, tuple[str, ...]]
    not_places: frozenset[str]


@dataclass(frozen=True)
class EventConfig:
    families: tuple[str, ...]
    types: tuple[EventType, ...]
    actors: tuple[Actor, ...]
    digest: str

    @property
    def actor_pattern(self) -> re.Pattern[str]:
        """Every actor's aliases in one pattern, a named group per actor (one search instead of one per actor)."""
        return _actor_pattern(self.actors)


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings (three characters or more) one of which every match of `pattern` contains, or None where
    that cannot be told: a substring test with them is a fast check before the regular expression."""
    import importlib

    sc = importlib.import_module("re._constants")  # the parser of the standard `re` (private, stable)
    sp = importlib.import_module("re._parser")

    def sequence(items: Any) -> frozenset[str] | None:
        options: list[frozenset[str]] = []
        run: list[str] = []
        for op, av in items:
            if op is sc.LITERAL:
                run.append(chr(av))
                continue
            if run:
                options.append(frozenset({"".join(run)}))
                run = []
            found: frozenset[str] | None = None
            if op is sc.SUBPATTERN:
                found = sequence(av[-1])
            elif op is sc.BRANCH:
                branches = [sequence(b) for b in av[1]]
                found = frozenset().union(*branches) if all(branches) else None  # type: ignore[arg-type]
            elif op in (sc.MAX_REPEAT, sc.MIN_REPEAT) and av[0] >= 1:
                found = sequence(av[2])
            if found:
                options.append(found)
        if run:
            options.append(frozenset({"".join(run)}))
        options = [o for o in options if min(len(x) for x in o) >= 3]
        return max(options, key=lambda o: min(len(x) for x in o)) if options else None

    return sequence(sp.parse(pattern))


@lru_cache(maxsize=8)
def _actor_pattern(actors: tuple[Actor, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<a{i}>{a.pattern.pattern})" for i, a in enumerate(actors)))


def _keys(item: Any, allowed: set[str], required: set[str], where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = set(item) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(allowed)}")
    missing = required - set(item)
    if missing:
        raise ConfigError(f"{where}: missing key(s) {sorted(missing)}")
    return item


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected non-empty text")
    return value.strip()


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected a non-empty list")
    return value


def _lower(pattern: str) -> str:
    """A pattern's letters in lower case, escapes (\\W, \\S) kept: cues are matched on lower-cased text,
    four times faster than a case-insensitive search."""
    return re.sub(r"(\\.)|([A-Z])", lambda m: m.group(1) or m.group(2).lower(), pattern)


def _regex(patterns: list[Any], where: str, flags: int, lower: bool = False) -> re.Pattern[str]:
    parts = []
    for i, raw in enumerate(patterns):
        text = _text(raw, f"{where}[{i}]")
        text = _lower(text) if lower else text
        try:
            re.compile(text)
        except re.error as exc:
            raise ConfigError(f"{where}[{i}]: not a valid regular expression ({exc})") from exc
        parts.append(f"(?:{text})")
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])", flags)


def load_event_types(path: Path) -> tuple[tuple[str, ...], tuple[EventType, ...]]:
    data = _keys(read_mapping(path), {"families", "types"}, {"families", "types"}, f"{path}")
    families = tuple(
        _text(f, f"{path}: families[{i}]") for i, f in enumerate(_list(data["families"], f"{path}: families"))
    )
    types = []
    for i, item in enumerate(_list(data["types"], f"{path}: types")):
        where = f"{path}: types[{i}]"
        item = _keys(
            item, {"event_type", "sub_event_type", "cues", "needs"}, {"event_type", "sub_event_type", "cues"}, where
        )
        family = _text(item["event_type"], f"{where}.event_type")
        if family not in families:
            raise ConfigError(f"{where}.event_type: {family!r} is not one of families {list(families)}")
        needs = item.get("needs", "actor_or_count")
        if needs not in NEEDS:
            raise ConfigError(f"{where}.needs: {needs!r} is not one of {sorted(NEEDS)}")
        cue = _regex(_list(item["cues"], f"{where}.cues"), f"{where}.cues", 0, lower=True)
        types.append(EventType(family, _text(item["sub_event_type"], f"{where}.sub_event_type"), cue, needs))
    return families, tuple(types)


def load_actors(path: Path) -> tuple[Actor, ...]:
    data = _keys(read_mapping(path), {"actors"}, {"actors"}, f"{path}")
    actors, seen = [], set()
    for i, item in enumerate(_list(data["actors"], f"{path}: actors")):
        where = f"{path}: actors[{i}]"
        item = _keys(item, {"name", "aliases"}, {"name", "aliases"}, where)
        name = _text(item["name"], f"{where}.name")
        if name in seen:
            raise ConfigError(f"{where}.name: {name!r} is listed twice")
        seen.add(name)
        actors.append(Actor(name, _regex(_list(item["aliases"], f"{where}.aliases"), f"{where}.aliases", 0)))
    return tuple(actors)


def _number(value: Any, low: float, high: float, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{where}: expected a number from {low} to {high}")
    return float(value)


def _country(value: Any, where: str) -> str:
    code = _text(value, where)
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ConfigError(f"{where}: expected a two-letter ISO country code, got {code!r}")
    return code


def load_places(path: Path) -> PlacesConfig:
    data = _keys(read_mapping(path), {"aliases", "places", "countries", "not_places"}, set(), f"{path}")
    aliases = []
    for i, item in enumerate(data.get("aliases") or []):
        where = f"{path}: aliases[{i}]"
        item = _keys(item, {"name", "country", "aliases"}, {"name", "country", "aliases"}, where)
        names = tuple(
            _text(a, f"{where}.aliases[{j}]") for j, a in enumerate(_list(item["aliases"], f"{where}.aliases"))
        )
        aliases.append((_text(item["name"], f"{where}.name"), _country(item["country"], f"{where}.country"), names))
    places = []
    for i, item in enumerate(data.get("places") or []):
        where = f"{path}: places[{i}]"
        item = _keys(
            item,
            {"name", "country", "lat", "lon", "precision", "aliases"},
            {"name", "country", "lat", "lon", "precision"},
            where,
        )
        precision = item["precision"]
        if precision not in PRECISIONS - {"country"}:
            raise ConfigError(f"{where}.precision: {precision!r} is not town or region")
        extra = tuple(_text(a, f"{where}.aliases[{j}]") for j, a in enumerate(item.get("aliases") or []))
        places.append(
            ExtraPlace(
                _text(item["name"], f"{where}.name"),
                _country(item["country"], f"{where}.country"),
                _number(item["lat"], -90, 90, f"{where}.lat"),
                _number(item["lon"], -180, 180, f"{where}.lon"),
                precision,
                extra,
            )
        )
    countries: dict[str, tuple[str, ...]] = {}
    raw_countries = data.get("countries") or {}
    if not isinstance(raw_countries, dict):
        raise ConfigError(f"{path}: countries: expected a mapping of ISO code to names")
    for code, names in raw_countries.items():
        where = f"{path}: countries.{code}"
        countries[_country(code, where)] = tuple(_text(n, f"{where}[{j}]") for j, n in enumerate(_list(names, where)))
    raw_not = data.get("not_places") or []
    if not isinstance(raw_not, list):
        raise ConfigError(f"{path}: not_places: expected a list")
    not_places = frozenset(_text(w, f"{path}: not_places[{j}]") for j, w in enumerate(raw_not))
    return PlacesConfig(tuple(aliases), tuple(places), countries, not_places)


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


@lru_cache(maxsize=4)
def load_config(types_file: Path | None = None, actors_file: Path | None = None) -> EventConfig:
    types_path = Path(types_file or CONFIG_DIR / "event_types.yaml")
    actors_path = Path(actors_file or CONFIG_DIR / "actors.yaml")
    families, types = load_event_types(types_path)
    return EventConfig(families, types, load_actors(actors_path), _digest(types_path, actors_path))
