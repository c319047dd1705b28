"""Stage 6: conflict events from article text (a first, rule-based version).

One sentence that names a violent or security event (a type cue), a known place, and either a count
or an actor is one event mention. Its date comes from the sentence ("on Thursday", "last month",
"January 20") resolved against the article's publication date, with the precision that wording
supports. Mentions of the same (type, date, place) are one event with many mentions, so a
syndicated copy adds a mention, not an event; the analyst views count independent sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pipeline.events.gazetteer import ACTORS, PLACES, Place

EXTRACTOR_VERSION = "newsflow-events/1"

# Most specific first: the first type whose cue matches a sentence wins.
EVENT_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("suicide bombing", r"\bsuicide (?:bomb(?:er|ers|ing|ings)?|attack(?:er|ers)?|vest|car bomb)"),
        (
            "bombing",
            r"\b(?:car bomb|bomb(?:ing|ings|s)?|explosion|blast|IEDs?|improvised explosive|roadside bomb)\b",
        ),
        (
            "air strike",
            r"\b(?:air ?strikes?|drone strikes?|airstrikes?|aerial (?:assault|attack)s?|bombard(?:ed|ment)"
            r"|warplanes?|(?:carried out|launched|conducted) (?:an? )?(?:\w+ )?strikes?)\b",
        ),
        ("arrest", r"\b(?:arrest(?:ed|s)?|detain(?:ed|s)?|captured|apprehended|taken into custody)\b"),
        ("raid", r"\b(?:raid(?:ed|s)?|stormed)\b"),
        ("armed clash", r"\b(?:clash(?:ed|es)?|gunfight|firefight|gun battle|exchange of fire|shootout)\b"),
        (
            "attack",
            r"\b(?:attack(?:ed|s)?|ambush(?:ed)?|rocket fire|rockets?|mortars?|shell(?:ed|ing)|assassinat(?:ed|ion))\b",
        ),
        (
            "territorial change",
            r"\b(?:recaptur(?:ed|e)|retook|retaken|liberated|seiz(?:ed|ure)\b"
            r"|fell to|captured the town)\b",
        ),
        (
            "battle",
            r"\b(?:offensive|advanc(?:ed|ing|e)|battle for|fighting (?:in|for|around)|push(?:ed)? into)\b",
        ),
    )
)

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "dozen": 12,
}  # fmt: skip
_NUM = r"(?:\d[\d,]*|(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")(?:[ -](?:dozen|hundred))?)"
_PEOPLE = (
    r"(?:\s+(?:[\w-]+\s+){0,3}?(?:people|civilians|fighters|militants|soldiers|members|troops|others|"
    r"insurgents|suspects|workers|laborers|policemen|officers|children|men|women|persons|jihadists|guards|Marines?))?"
)
_COUNT_RULES = {
    "killed": (
        re.compile(
            rf"\b(?:about |at least |nearly |some |more than |around |roughly )?({_NUM}){_PEOPLE}\s+"
            r"(?:were |was |had been |have been )?(?:killed|dead|died|slain)",
            re.I,
        ),
        re.compile(
            rf"\b(?:killing|killed|kill)\s+(?:about |at least |nearly |some |more than |around |roughly )?"
            rf"({_NUM}){_PEOPLE}",
            re.I,
        ),
    ),
    "injured": (
        re.compile(
            rf"\b(?:about |at least |nearly |some |more than )?({_NUM}){_PEOPLE}\s+"
            r"(?:were |was |had been )?(?:injured|wounded|hurt)",
            re.I,
        ),
        re.compile(
            rf"\b(?:injuring|wounding|injured|wounded)\s+(?:about |at least |nearly |some |more than )?"
            rf"({_NUM}){_PEOPLE}",
            re.I,
        ),
    ),
    "detained": (
        re.compile(rf"\b({_NUM}){_PEOPLE}\s+(?:were |was )?(?:arrested|detained|captured)", re.I),
        re.compile(rf"\b(?:arresting|detaining|arrested|detained|captured)\s+({_NUM}){_PEOPLE}", re.I),
    ),
}

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}  # fmt: skip
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_DAY = re.compile(
    r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.? (\d{1,2})\b(?:,? (\d{4}))?", re.I
)
_DAY_MONTH = re.compile(r"\b(\d{1,2}) (" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b(?: (\d{4}))?", re.I)
_MONTH_YEAR = re.compile(
    r"\b(?:early |mid-|late )?(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?,? (\d{4})\b",
    re.I,
)
_LATER = re.compile(rf"\b({_NUM}) (days?|weeks?) (?:later|after)\b", re.I)
_WEEKDAY = re.compile(r"\b(?:on |last )?(" + "|".join(_WEEKDAYS) + r")\b", re.I)
_SENTENCE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’']))\s+(?=[\"“A-Z0-9])")
# A sentence split after one of these was a false split ("on Jan. 20", "a U.S. Marine").
_ABBREVIATION = re.compile(
    r"(?:\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Maj|Capt|Sgt|Sen|Rep|Gov"
    r"|St|No|Nos|vs|Jr|Sr)|\b[A-Z](?:\.[A-Z])+)\.$"
)
_CITATION = re.compile(r"^\s*\[?\d{1,3}\]|^\s*(?:Source|Sources|Notes?|Citation)s?:", re.I)


@dataclass(frozen=True)
class EventDate:
    day: date | None
    precision: str  # day | month | year | unknown


@dataclass
class Mention:
    event_type: str
    when: EventDate
    place: Place
    actors: list[str]
    sentence: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        day = self.when.day.isoformat() if self.when.day else "unknown"
        if self.when.precision == "month" and self.when.day:
            day = self.when.day.strftime("%Y-%m")
        return f"{self.event_type}|{day}|{self.place.name.lower()}"


def split_sentences(text: str) -> list[str]:
    """Sentences of the body, leaving out reference lists and notes ("[12] Author, Title, 2017")."""
    sentences: list[str] = []
    for paragraph in text.splitlines():
        if _CITATION.match(paragraph):
            continue
        pieces: list[str] = []
        for piece in _SENTENCE.split(paragraph):
            if pieces and _ABBREVIATION.search(pieces[-1]):
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
        sentences.extend(p.strip() for p in pieces if len(p.strip()) > 20)
    return sentences


def parse_number(raw: str) -> int | None:
    raw = raw.lower().replace(",", "").strip()
    if raw.isdigit():
        return int(raw)
    total = 0
    for part in re.split(r"[ -]", raw):
        value = _NUMBER_WORDS.get(part)
        if value is None:
            return None
        total = total * value if value in (12, 100) and total else total + value
    return total or None


def find_counts(sentence: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, patterns in _COUNT_RULES.items():
        for pattern in patterns:
            match = pattern.search(sentence)
            number = parse_number(match.group(1)) if match else None
            if number is not None and number < 100_000:
                counts[kind] = number
                break
    return counts


def resolve_date(sentence: str, published: date | None, anchor: date | None = None) -> EventDate:
    """The event's date from the sentence's own words, resolved against the publication date; "eleven
    days later" counts from `anchor`, the last day an earlier sentence of the article named."""
    if published is None:
        return EventDate(None, "unknown")
    lowered = sentence.lower()
    later = _LATER.search(sentence)
    if later and anchor is not None:
        amount = parse_number(later.group(1))
        if amount is not None:
            days = amount * (7 if later.group(2).lower().startswith("week") else 1)
            return EventDate(anchor + timedelta(days=days), "day")
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        match = pattern.search(sentence)
        if match:
            month, day = _MONTHS[match.group(month_group).lower()], int(match.group(day_group))
            year = int(match.group(3)) if match.group(3) else published.year
            try:
                found = date(year, month, day)
            except ValueError:
                continue
            if not match.group(3) and found > published:
                found = found.replace(year=year - 1)
            return EventDate(found, "day")
    month_year = _MONTH_YEAR.search(sentence)
    if month_year:
        return EventDate(date(int(month_year.group(2)), _MONTHS[month_year.group(1).lower()], 1), "month")
    if "yesterday" in lowered:
        return EventDate(published - timedelta(days=1), "day")
    if re.search(r"\btoday\b|\bthis morning\b|\btonight\b", lowered):
        return EventDate(published, "day")
    weekday = _WEEKDAY.search(sentence)
    if weekday:
        wanted = _WEEKDAYS.index(weekday.group(1).lower())
        back = (published.weekday() - wanted) % 7
        return EventDate(published - timedelta(days=back), "day")
    if "last month" in lowered:
        first = published.replace(day=1) - timedelta(days=1)
        return EventDate(first.replace(day=1), "month")
    if "last year" in lowered:
        return EventDate(date(published.year - 1, 1, 1), "year")
    return EventDate(None, "unknown")


def find_place(sentence: str) -> Place | None:
    """The most specific place named (a town over its province over its country); among equals,
    the one named first."""
    found = [(place.rank, match.start(), place) for place in PLACES if (match := place.pattern.search(sentence))]
    return min(found, key=lambda f: (f[0], f[1]))[2] if found else None


def find_actors(sentence: str) -> list[str]:
    return [name for name, pattern in ACTORS if pattern.search(sentence)]


def event_type_of(sentence: str) -> str | None:
    for name, pattern in EVENT_TYPES:
        if pattern.search(sentence):
            return name
    return None


def mentions_in(text: str, published: datetime | None) -> list[Mention]:
    found = []
    pub_day = published.date() if published else None
    anchor: date | None = None  # the last day named so far, for "eleven days later"
    for sentence in split_sentences(text):
        when = resolve_date(sentence, pub_day, anchor)
        if when.precision == "day":
            anchor = when.day
        kind = event_type_of(sentence)
        if kind is None:
            continue
        place = find_place(sentence)
        actors = find_actors(sentence)
        counts = find_counts(sentence)
        if place is None or place.rank >= 3 or not (actors or counts):
            continue  # a cue without a town or province and someone or some toll is not an event here
        found.append(Mention(kind, when, place, actors, sentence[:1000], counts))
    return _one_per_key(found)


def _one_per_key(mentions: Iterable[Mention]) -> list[Mention]:
    """Within one article, several sentences about one event are one mention (the first, merged counts)."""
    by_key: dict[str, Mention] = {}
    for mention in mentions:
        kept = by_key.setdefault(mention.key, mention)
        if kept is not mention:
            for kind, n in mention.counts.items():
                kept.counts.setdefault(kind, n)
            kept.actors = sorted(set(kept.actors) | set(mention.actors))
    return list(by_key.values())
