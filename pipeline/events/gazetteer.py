"""Places and actors the event stage recognises, for the first deployment (Syria and Iraq).

A place has a rank: 1 a town, village or site; 2 a province or region; 3 a country. The event stage
keeps the most specific place a sentence names. Spelling variants are listed as alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    name: str
    country: str
    rank: int
    pattern: re.Pattern[str]


def _place(name: str, country: str, rank: int, *variants: str) -> Place:
    names = sorted({name, *variants}, key=len, reverse=True)
    alternatives = "|".join(re.escape(n).replace(r"\ ", r"[\s-]") for n in names)
    return Place(name, country, rank, re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])"))


_SYRIA = [
    ("Aleppo",),
    ("Damascus",),
    ("Raqqa", "Raqqah", "Al-Raqqa"),
    ("Palmyra", "Tadmur"),
    ("Deir ez-Zor", "Deir al-Zour", "Deir Ezzor", "Deir el-Zour", "Dayr az-Zawr"),
    ("Homs",),
    ("Hama",),
    ("Idlib",),
    ("Hasakah", "Hasaka", "al-Hasakah"),
    ("Qamishli",),
    ("Manbij",),
    ("Kobani", "Kobane"),
    ("Abu Kamal", "Albu Kamal", "Al Bukamal"),
    ("Hajin",),
    ("Baghuz",),
    ("Shadadi", "al-Shadadi", "Shaddadi"),
    ("Al Shafah", "al-Shafah", "Shafa"),
    ("Tabqa",),
    ("al-Hol", "Al Hol", "al-Hawl"),
    ("Roj",),
    ("Daraa",),
    ("Mayadin", "al-Mayadeen", "Mayadeen"),
    ("Sukhnah", "al-Sukhnah"),
    ("Tanf", "al-Tanf"),
    ("Latakia",),
    ("Jarabulus",),
    ("Afrin",),
    ("Tal Abyad",),
    ("Ras al-Ain",),
    ("Quneitra",),
    ("Sweida", "Suwayda"),
    ("Ghwayran", "Ghweiran"),
    ("Busayrah", "Busaira"),
]
_IRAQ = [
    ("Baghdad",),
    ("Mosul",),
    ("Kirkuk",),
    ("Tikrit",),
    ("Fallujah", "Falluja"),
    ("Ramadi",),
    ("Samarra",),
    ("Baiji", "Beiji"),
    ("Haditha",),
    ("Qaim", "al-Qaim", "Al Qaim"),
    ("Rawa",),
    ("Tal Afar", "Tal Afar"),
    ("Sinjar",),
    ("Erbil", "Irbil"),
    ("Sulaymaniyah", "Sulaimaniyah"),
    ("Makhmour", "Makhmur"),
    ("Daquq",),
    ("Hawija",),
    ("Tuz Khurmatu", "Tuz Khurmato"),
    ("Baquba", "Baqubah"),
    ("Khanaqin",),
    ("Basra",),
    ("Najaf",),
    ("Karbala",),
    ("Qayyarah",),
    ("Rutba",),
    ("Tarmiyah",),
    ("Jurf al-Sakhar",),
    ("Hamrin", "Hamreen"),
    ("Abu Ghraib",),
    ("Camp Bucca",),
    ("Sadr City",),
]
_PROVINCES = [
    ("Anbar", "Iraq", "al-Anbar"),
    ("Nineveh", "Iraq", "Ninewa", "Nineveh Plains"),
    ("Diyala", "Iraq"),
    ("Salahuddin", "Iraq", "Salah al-Din", "Salahaddin"),
    ("Kurdistan Region", "Iraq", "Iraqi Kurdistan"),
    ("Euphrates River Valley", "Syria", "Middle Euphrates River Valley"),
    ("Badia", "Syria", "Syrian desert"),
    ("Deir ez-Zor province", "Syria"),
    ("Idlib province", "Syria"),
    ("Hasakah province", "Syria"),
]

PLACES: tuple[Place, ...] = tuple(
    [_place(names[0], "Syria", 1, *names[1:]) for names in _SYRIA]
    + [_place(names[0], "Iraq", 1, *names[1:]) for names in _IRAQ]
    + [_place(p[0], p[1], 2, *p[2:]) for p in _PROVINCES]
    + [_place("Syria", "Syria", 3), _place("Iraq", "Iraq", 3)]
)

_ACTOR_NAMES = {
    "Islamic State": r"Islamic State|\bISIS\b|\bISIL\b|Daesh|Da'esh"
    r"|\bIS\b(?= (?:fighters?|militants?|group|cells?|hideouts?|members?|suspects?|envoys?|bombers?|leaders?|attacks?))"
    r"|jihadists?|the militant group|the extremist group",
    "Iraqi security forces": r"Iraqi (?:security )?forces|Iraqi (?:army|troops|soldiers|police)"
    r"|Counter[- ]Terrorism Service|Popular Mobilization|Hashd",
    "Syrian government forces": r"Syrian (?:government |regime )?(?:forces|troops|army|soldiers)|government troops"
    r"|pro-government",
    "Syrian Democratic Forces": r"Syrian Democratic Forces|\bSDF\b",
    "Kurdish forces": r"Kurdish|\bYPG\b|Peshmerga",
    "United States": r"\bU\.?S\.?(?:-led)? (?:forces|troops|military|aircraft|drones?|Marines?|Special Forces)|American"
    r" (?:forces|troops|aircraft|drones?)|Pentagon|Reaper drones?|F/A-18|\bCENTCOM\b|Central Command",
    "International coalition": r"coalition",
    "Russia": r"Russian",
    "Turkey": r"Turkish|Turkey",
}
ACTORS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in _ACTOR_NAMES.items()
)
