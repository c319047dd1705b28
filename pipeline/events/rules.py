"""Stage 6: conflict events from article text (rule-based). Pure: sentences in, mentions out.

A clause (a sentence, or one of its parts joined by "; " or ", and ") that names a type cue from
`config/event_types.yaml`, a place (gazetteer) and an actor or a count is one event mention. Cues in
future, planned, hypothetical or supporting phrases ("will launch an offensive", "before he could
detonate", "aided by Russian airstrikes") do not count. A clause's date comes from its own words
("on Thursday", "last month", "January 20", "eleven days later") resolved against the publication
date; an undated clause takes the date of the sentence before it in the same paragraph, and a clause
with a cue but no place takes that sentence's place too. A mention without a date is dropped (an
analyst cannot count it); one dated more than a year before publication is background (kept, marked).
Mentions of one article that `same_event` joins are one mention. See docs/events.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pipeline.events.config import EventConfig, EventType, load_config, required_literals
from pipeline.events.gazetteer import Gazetteer, Place, PlaceMatch, distance_km, load_gazetteer

EXTRACTOR_VERSION = "newsflow-events/2"
BACKGROUND_DAYS = 365
TOWN_KM = 25.0  # two town-precision places this close are one place for merging
REGION_KM = 150.0  # a town this close to a region's point is inside it, for merging

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "dozen": 12,
}  # fmt: skip
_NUM = r"(?:\d[\d,]*|(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")(?:[ -](?:dozen|hundred))?)"
_RANGE = rf"(?:\s*(?:to|-|–|or)\s*{_NUM})?"  # "10 to 15": the lower figure, as ACLED codes it
_QUAL = r"(?:about |at least |nearly |some |more than |over |around |roughly |up to |almost |as many as )?"
_NOUNS = (
    r"people|civilians|fighters|militants|soldiers|members|troops|others|insurgents|suspects|workers|"
    r"laborers|labourers|policemen|officers|children|men|women|persons|jihadists|guards|Marines?|"
    r"soldier|civilian|fighter|militant|policeman|officer|child|man|woman|person|guard|member|"
    r"journalists?|students?|residents?|passengers?|pilgrims?|worshippers?|rioters|protesters|villagers|"
    r"youths?|boys?|girls?|accused|persons|individuals|commanders?|leaders?|terrorists?|rebels?|gunmen|gunman|"
    r"judges?|mukhtars?|clerics?|imams?|shepherds?|farmers?|teachers?|doctors?|officials?|elders?|tribesm[ae]n|"
    r"sheikhs?|contractors?|engineers?|nurses?|lawyers?|candidates?|council members?"
)
_TRAILING = (
    r"(?:\s+(?:based|stationed|serving|travel+ing|working|living|in|at|near|from|on|of|the|(?-i:[A-Z][\w.-]*))){0,4}?"
)
_PEOPLE = rf"(?:\s+(?:[\w.-]+\s+){{0,3}}?(?:{_NOUNS})\b{_TRAILING})?"
_COUNT_RULES: dict[str, tuple[re.Pattern[str], ...]] = {
    "killed": (
        re.compile(
            rf"\bdeath toll (?:\w+ ){{0,3}}?(?:rose |climbed |reached |stood |of |at |to )+{_QUAL}({_NUM})", re.I
        ),
        re.compile(
            rf"\b{_QUAL}({_NUM})\b{_RANGE}{_PEOPLE}\s+(?:were |was |had been |have been |are |is )?"
            r"(?:killed|dead|died|slain|shot dead|lost their lives)",
            re.I,
        ),  # fmt: skip
        re.compile(rf"\b(?:killing|killed|kill|massacred)\s+{_QUAL}({_NUM})\b{_RANGE}(?:{_PEOPLE})", re.I),
        re.compile(rf"\bshot (?:dead )?{_QUAL}({_NUM})\b{_RANGE}(?:\s+[\w-]+){{0,2}}? (?:dead|{_NOUNS})\b", re.I),
        re.compile(
            r"\bshot (?:(?:the|a|an) (?:[\w-]+ ){0,2}?(?:man|woman|suspect|militant|bomber|attacker|gunman|boy)"
            r"|him|her) (dead)\b",
            re.I,
        ),  # fmt: skip
        re.compile(rf"\bkilling of\b[^.;]*?\b(?:along with|together with|as well as)\s+{_QUAL}({_NUM})", re.I),
    ),
    "injured": (
        re.compile(
            rf"\b{_QUAL}({_NUM})\b{_RANGE}{_PEOPLE}\s+(?:were |was |had been |have been )?"
            r"(?:injured|wounded|hurt)",
            re.I,
        ),  # fmt: skip
        re.compile(
            rf"\b(?:injuring|wounding|injured|wounded|injure|wound)\s+{_QUAL}({_NUM})\b{_RANGE}(?:{_PEOPLE})", re.I
        ),
    ),
    "detained": (
        re.compile(
            rf"\b{_QUAL}({_NUM})\b{_RANGE}{_PEOPLE}\s+(?:were |was |have been |had been )?"
            r"(?:arrested|detained|captured|held|rounded up|taken into custody)",
            re.I,
        ),  # fmt: skip
        re.compile(
            rf"\b(?:arresting|detaining|arrested|detained|captured|arrest|detain|nabbed|held)\s+{_QUAL}"
            rf"({_NUM})\b{_RANGE}(?:{_PEOPLE})",
            re.I,
        ),  # fmt: skip
    ),
}

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}  # fmt: skip
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "May" is a month only when capitalised; the other month names in any case.
_MONTH_DAY = re.compile(
    rf"\b((?i:{_MONTH_ALT}))\.? (\d{{1,2}})(?:st|nd|rd|th)?\b(?!,? \d{{3,}}(?!\d))(?:,? (\d{{4}}))?"
)
_MONTH_DAY_YEAR = re.compile(rf"\b((?i:{_MONTH_ALT}))\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?((?i:{_MONTH_ALT}))\b(?:,? (\d{{4}}))?")
_MONTH_YEAR = re.compile(rf"\b(?:(?i:early|mid-|late|in|of|since|during) )?((?i:{_MONTH_ALT}))\.?,? (\d{{4}})\b")
_YEAR = re.compile(r"\b(?:in|since|during|of) ((?:19|20)\d\d)\b")
_LATER = re.compile(rf"\b({_NUM}) (days?|weeks?) (?:later|after)\b", re.I)
_WEEKDAY = re.compile(r"\b(?:on |last |early |late )?(" + "|".join(_WEEKDAYS) + r")(?:'s)?\b", re.I)
_RELATIVE = re.compile(
    r"\b(yesterday|today|this morning|tonight|last night|earlier this week|(?:earlier |late |early )?last month"
    r"|last year|this month|earlier this month)\b",
    re.I,
)
# Cheap test before the date patterns: most sentences name no date.
_MAYBE_DATE = re.compile(
    r"\d|yesterday|today|tonight|morning|night|week|month|year|later|after|day|"
    + "|".join(sorted({m[:3] for m in _MONTHS}))
)
_SENTENCE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’']))\s+(?=[\"“A-Z0-9])")
# A sentence split after one of these was a false split ("on Jan. 20", "a U.S. Marine").
_ABBREVIATION = re.compile(
    r"(?:\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Maj|Capt|Sgt|Sen|Rep|Gov"
    r"|St|No|Nos|vs|Jr|Sr)|\b[A-Z](?:\.[A-Z])+)\.$"
)
_CITATION = re.compile(r"^\s*\[?\d{1,3}\]|^\s*(?:Source|Sources|Notes?|Citation)s?:", re.I)
_CLAUSE = re.compile(
    r";\s+|,\s+(?:and|while|but|whereas)\s+(?=[\w.]+(?:\s[\w.-]+){0,4}\s+(?:\w+ed|\w+s|overr?an|took|hit|struck|shot)\b)"
)
# Phrases whose cue words do not report an event that happened: masked before cues, counts, actors.
_NOT_HAPPENED = re.compile(
    r"\b(?:will|would|could|might|may|shall|should|must|can|cannot|can't|won't)\b[^,;:]*"
    r"|\b(?i:plans? to|planned to|planning to|plans? for|intends? to|intended to"
    r"|threaten(?:s|ed|ing)? to|vow(?:s|ed)? to"
    r"|aim(?:s|ed)? to|expected to|preparing (?:for|to)|preparations? for|prepared for|ready to|about to|in order to"
    r"|attempts? to|attempted to|tried to|try to|trying to|seeks? to|sought to|fears? of|feared|risk of"
    r"|warn(?:s|ed)? of"
    r"|warning of|calls? for|called for|urged|unless|whether|possible|potential|upcoming"
    r"|looming|future|next (?:week|month|year)|no one|nobody|no casualties|no injuries|denied|rumou?rs? of"
    r"|would-be|if|suggest(?:s|ed|ing)?|continu(?:es|ed|ing) (?:its|their|to)|ongoing|free to|asked (?:[\w-]+ ){0,4}to"
    r"|not a single|none|no arrests?|(?:have|has|had) to|urging|demand(?:s|ed|ing)?"
    r"|order(?:s|ed)? (?:[\w-]+ ){0,4}to|direct(?:s|ed)? (?:[\w-]+ ){0,4}to|need to|wants? to|wanted to)\b[^,;:]*"
    r"|\b(?i:aided|backed|supported|assisted|helped|accompanied|covered) by\b[^,;:]*"
    r"|\b(?i:with the (?:help|support|backing|cover) of)\b[^,;:]*"
    r"|\b(?i:according to)\b[^,;:]*"  # who reports an event is not in it
    r"|\b(?i:police|officials?|sources?|authorities|witnesses|residents|spokes(?:man|woman|person))"
    r" (?i:said|say|says|told|reported|added|confirmed)\b"
    r"|\b[\w.-]+ (?i:air ?strikes?|airstrikes?|warplanes?|jets) (?i:helped|aided|backed|supported|allowed)\b"
)


@dataclass(frozen=True)
class EventDate:
    day: date | None
    precision: str  # day | month | year | unknown

    def span(self) -> tuple[date, date] | None:
        """First and last day the date can mean."""
        if self.day is None:
            return None
        if self.precision == "month":
            nxt = (self.day.replace(day=28) + timedelta(days=4)).replace(day=1)
            return self.day, nxt - timedelta(days=1)
        if self.precision == "year":
            return self.day.replace(month=1, day=1), self.day.replace(month=12, day=31)
        return self.day, self.day


@dataclass(frozen=True)
class EventFacts:
    """What the merge rule compares: family, date and place of a mention or a stored event."""

    family: str
    when: EventDate
    lat: float | None
    lon: float | None
    geo_precision: str | None
    place_key: str | None
    country_code: str | None


def event_key(event_type: str, when: EventDate, place_key: str | None) -> str:
    """`type|date|place`, the date written to its precision (2026-03-10, 2026-03 or 2026)."""
    day = when.day.isoformat() if when.day else "unknown"
    if when.precision == "month" and when.day:
        day = when.day.strftime("%Y-%m")
    elif when.precision == "year" and when.day:
        day = when.day.strftime("%Y")
    return f"{event_type}|{day}|{place_key}"


def date_wins(new: EventDate, stored: EventDate) -> bool:
    """Whether a joining mention's date replaces the event's: a more precise date, or at the same precision
    an earlier day. Either order of two reports then gives the same event."""
    if new.day is None:
        return False
    if stored.day is None:
        return True
    rank_new, rank_stored = _DATE_RANK.get(new.precision, 9), _DATE_RANK.get(stored.precision, 9)
    return rank_new < rank_stored or (rank_new == rank_stored and new.day < stored.day)


_DATE_RANK = {"day": 0, "month": 1, "year": 2}


@dataclass
class Mention:
    event_type: str  # the ACLED event type: the merge family
    sub_event_type: str
    when: EventDate
    place: Place
    actors: list[str]
    sentence: str
    counts: dict[str, int] = field(default_factory=dict)
    actor1: str | None = None
    actor2: str | None = None
    background: bool = False

    @property
    def key(self) -> str:
        return event_key(self.event_type, self.when, self.place.key)

    @property
    def facts(self) -> EventFacts:
        p = self.place
        return EventFacts(self.event_type, self.when, p.lat, p.lon, p.precision, p.key, p.country_code)

    def as_json(self, doc_id: Any) -> dict[str, Any]:
        return {
            "id": doc_id,
            "event_type": self.event_type,
            "sub_event_type": self.sub_event_type,
            "event_date": self.when.day.isoformat() if self.when.day else None,
            "date_precision": self.when.precision,
            "place": self.place.name,
            "country": self.place.country,
            "lat": round(self.place.lat, 5),
            "lon": round(self.place.lon, 5),
            "geo_precision": self.place.precision,
            "actor1": self.actor1,
            "actor2": self.actor2,
            "killed": self.counts.get("killed"),
            "injured": self.counts.get("injured"),
            "detained": self.counts.get("detained"),
            "sentence": self.sentence,
        }


def same_event(a: EventFacts, b: EventFacts) -> bool:
    """One event reported twice: same type family, dates that agree (±1 day, or one inside the other's
    month or year) and places that agree (the same place, towns within TOWN_KM, or, where either is
    coarse, inside the same region: same country and within REGION_KM, or either only a country)."""
    if a.family != b.family:
        return False
    sa, sb = a.when.span(), b.when.span()
    if sa is None or sb is None or sa[0] - timedelta(days=1) > sb[1] or sb[0] - timedelta(days=1) > sa[1]:
        return False
    if a.place_key is not None and a.place_key == b.place_key:
        return True
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None or a.country_code != b.country_code:
        return False
    precisions = {a.geo_precision, b.geo_precision}
    if "country" in precisions:
        return True
    km = distance_km(Place("", "", "", "", a.lat, a.lon, "town"), Place("", "", "", "", b.lat, b.lon, "town"))
    return km <= (TOWN_KM if precisions == {"town"} else REGION_KM)


def split_sentences(text: str) -> list[str]:
    """Sentences of the body, leaving out reference lists and notes ("[12] Author, Title, 2017")."""
    return [s for para in _paragraphs(text) for s in para]


def _paragraphs(text: str) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    for paragraph in text.splitlines():
        if _CITATION.match(paragraph):
            continue
        pieces: list[str] = []
        for piece in _SENTENCE.split(paragraph):
            if pieces and _ABBREVIATION.search(pieces[-1]):
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
        kept = [p.strip() for p in pieces if len(p.strip()) > 20]
        if kept:
            paragraphs.append(kept)
    return paragraphs


def parse_number(raw: str) -> int | None:
    raw = raw.lower().replace(",", "").strip()
    if raw.isdigit():
        return int(raw)
    if raw == "dead":  # "shot the man dead"
        return 1
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
        limit = MAX_DETAINED if kind == "detained" else MAX_TOLL
        for pattern in patterns:
            number = _first_count(pattern, sentence, limit)
            if number is not None:
                counts[kind] = number
                break
    return counts


_NOUN = re.compile(rf"\b(?:{_NOUNS})\b", re.I)
_NOUN_NEXT = re.compile(rf"\s*(?:{_NOUNS})\b", re.I)  # a person right after a figure ("2016 judges")


def _first_count(pattern: re.Pattern[str], sentence: str, limit: int) -> int | None:
    """The first figure the pattern matches that is a count; after a figure that is not ("In 2016 three
    judges were killed": a year), the search goes on from just after it, not after the whole match."""
    at = 0
    while (match := pattern.search(sentence, at)) is not None:
        number = _count(match, limit)
        if number:
            return number
        at = match.start(1) + 1
    return None


def _count(match: re.Match[str], limit: int) -> int | None:
    """The figure a count rule matched; "a"/"an" counts one only before a person ("a soldier was killed")."""
    raw = match.group(1)
    if raw.lower() in ("a", "an") and not _NOUN.search(match.group(0), match.end(1) - match.start(0)):
        return None
    number = parse_number(raw)
    if re.fullmatch(r"1[89]\d\d|20\d\d", raw) and not _NOUN_NEXT.match(match.string, match.end(1)):
        return None  # "1992 killed socialism", "In 2016 three judges were killed": a year, not a toll
    if number is None:
        return None
    figure = float(number)
    scale = _SCALE.match(match.string, match.end(1))
    whole = _WHOLE_BEFORE.search(match.string, max(0, match.start(1) - 12), match.start(1))
    if whole is not None and raw.isdigit():  # the figure is the decimals of "1.5": read it whole
        figure = float(f"{whole.group(1)}.{raw}")
    elif scale is not None and scale.group("fraction"):
        figure = float(f"{number}.{scale.group('fraction')}")
    elif _DECIMALS.match(match.string, match.end(1)):
        figure += 0.5  # "2.5 soldiers": no count of people (made fractional, refused below)
    if scale is not None:
        if (scale.group("word") or "").lower() != "thousand":
            return None  # "1.5 million", "40 percent of the villagers": not a count of one event's people
        figure *= 1000
    if figure != int(figure):
        return None  # a fraction of a person
    return int(figure) if figure <= limit else None


# What can follow a figure and change what it means: decimals and a scale ("1.5 million", "two
# thousand", "3-million") or a share ("40 percent", "40%"); "thousands" and a spaced dash do not.
_SCALE = re.compile(
    r"(?:[.,](?P<fraction>\d+))?(?:\s+|-)?(?:(?P<word>thousand|million|billion|trillion|mn|bn|percent|per\s+cent)\b|%)",
    re.I,
)
_WHOLE_BEFORE = re.compile(r"(\d+)[.,]$")
_DECIMALS = re.compile(r"[.,]\d")
MAX_TOLL = 10_000  # killed or injured: a larger figure in one report is a war's total or an error
MAX_DETAINED = 100_000  # mass detentions are larger ("police detained 13,000 people")


def mask_not_happened(sentence: str) -> str:
    """The sentence with future, planned, hypothetical, negated and supporting phrases blanked out
    (same length, so positions still hold)."""
    return _NOT_HAPPENED.sub(lambda m: " " * len(m.group(0)), sentence)


def find_dates(sentence: str, published: date | None, anchor: date | None = None) -> list[tuple[int, EventDate]]:
    """Every date the sentence names, with its position, resolved against the publication date; "eleven
    days later" counts from `anchor`, the last day an earlier sentence of the article named."""
    if published is None or not _MAYBE_DATE.search(sentence.lower()):
        return []
    found: list[tuple[int, EventDate]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], when: EventDate) -> None:
        if not any(s < m.end() and m.start() < e for s, e in taken):
            found.append((m.start(), when))
            taken.append((m.start(), m.end()))

    for m in _LATER.finditer(sentence):
        amount = parse_number(m.group(1))
        if amount is not None and anchor is not None:
            days = amount * (7 if m.group(2).lower().startswith("week") else 1)
            add(m, EventDate(anchor + timedelta(days=days), "day"))
    for pattern, month_group, day_group in ((_MONTH_DAY_YEAR, 1, 2), (_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        for m in pattern.finditer(sentence):
            month, day = _MONTHS[m.group(month_group).lower()], int(m.group(day_group))
            year = int(m.group(3)) if m.group(3) else published.year
            try:
                day_found = date(year, month, day)
            except ValueError:
                continue
            if not m.group(3) and day_found > published + timedelta(days=1):
                day_found = day_found.replace(year=year - 1)
            add(m, EventDate(day_found, "day"))
    for m in _MONTH_YEAR.finditer(sentence):
        add(m, EventDate(date(int(m.group(2)), _MONTHS[m.group(1).lower()], 1), "month"))
    for m in _RELATIVE.finditer(sentence):
        word = m.group(1).lower()
        if word == "yesterday" or word == "last night":
            add(m, EventDate(published - timedelta(days=1), "day"))
        elif word in ("today", "this morning", "tonight"):
            add(m, EventDate(published, "day"))
        elif word.endswith("last month"):
            first = published.replace(day=1) - timedelta(days=1)
            add(m, EventDate(first.replace(day=1), "month"))
        elif word in ("this month", "earlier this month", "earlier this week"):
            add(m, EventDate(published.replace(day=1), "month"))
        elif word == "last year":
            add(m, EventDate(date(published.year - 1, 1, 1), "year"))
    for m in _WEEKDAY.finditer(sentence):
        wanted = _WEEKDAYS.index(m.group(1).lower())
        back = (published.weekday() - wanted) % 7
        add(m, EventDate(published - timedelta(days=back), "day"))
    for m in _YEAR.finditer(sentence):
        add(m, EventDate(date(int(m.group(1)), 1, 1), "year"))
    return sorted(found, key=lambda f: f[0])


def resolve_date(sentence: str, published: date | None, anchor: date | None = None) -> EventDate:
    """The sentence's first date (see `find_dates`), or unknown."""
    found = find_dates(sentence, published, anchor)
    return found[0][1] if found else EventDate(None, "unknown")


_REFERRING = re.compile(
    r"\b(?:they|he|she|(?i:the|these|those) (?:forces|group|militants|men|attackers|troops|suspects|fighters))\b"
)


@dataclass
class _Clause:
    start: int
    end: int
    text: str


def _clauses(sentence: str) -> list[_Clause]:
    out, start = [], 0
    for m in _CLAUSE.finditer(sentence):
        out.append(_Clause(start, m.start(), sentence[start : m.start()]))
        start = m.end()
    out.append(_Clause(start, len(sentence), sentence[start:]))
    return out


def _event_type(masked: str, types: Iterable[EventType]) -> tuple[EventType, int] | None:
    lowered = masked.lower()
    for kind in types:
        m = kind.cue.search(lowered)
        if m:
            return kind, m.start()
    return None


def _actors(
    text: str, masked: str, config: EventConfig, cue_at: int, directed: bool = False
) -> tuple[list[str], str | None, str | None]:
    """Actor names in order, and actor1 (who acted) and actor2 (the other side). In a `directed` event
    (one side acts on the other: not a clash) an actor named only after the cue, without "by", is the
    one acted on ("Iraqi warplanes struck Islamic State hideouts": the group is actor2, not actor1)."""
    # One pass over the clause; where two actors' names overlap ("Iraqi security forces", "security
    # forces") the one that starts first (then the one listed first) holds.
    hits: list[tuple[int, str]] = []
    seen: set[str] = set()
    for m in config.actor_pattern.finditer(masked):
        name = config.actors[int(str(m.lastgroup)[1:])].name
        if name not in seen:
            seen.add(name)
            hits.append((m.start(), name))
    names = [name for _, name in hits]
    if not hits:
        return [], None, None
    by_agent = [n for at, n in hits if at > cue_at and _AGENT_MARK.search(text, max(0, at - 30), at)]
    before = [n for at, n in hits if at <= cue_at]
    passive = _passive_at(masked, cue_at)
    victims = {n for at, n in hits if passive is not None and at < passive}
    if len(victims) == 1:  # "Six SDF fighters were killed in an IS attack", "soldiers were killed when a car..."
        victim = victims.pop()
        agents = [n for at, n in hits if passive is not None and at > passive and n != victim]
        agent = by_agent[0] if by_agent else (agents[0] if agents else None)
        return names, agent, victim
    targets = [n for at, n in hits if at > cue_at and _TARGET_MARK.search(masked, max(0, at - 40), at)]
    if directed and not by_agent and not before and targets:  # "warplanes struck Islamic State hideouts"
        others = [n for n in names if n != targets[0]]
        return names, (others[0] if others else None), targets[0]
    actor1 = by_agent[0] if by_agent else (before[-1] if before else names[0])
    others = [n for n in names if n != actor1]
    return names, actor1, (others[0] if others else None)


# A generic attack cue ("attacked", "opened fire", "gunmen") whose clause names armed targets and no
# civilians is a fight between armed sides (ACLED: Battles / Armed clash), not violence against civilians.
_GENERIC_ATTACK = re.compile(r"attack|opened fire|gunmen|killed", re.I)
_PASSIVE_KILLED = re.compile(r"\b(?:were|was|had been|have been) killed\b", re.I)
# A passive before the cue, or as the cue ("were killed", "was later killed", "had been abducted"); lower
# case only: "IS militants" is no "is". Who is named before it was acted on.
_PASSIVE = re.compile(
    r"\b(?:were|was|been)\s+(?:\w+\s+)?(?:killed|wounded|injured|arrested|detained|captured|kidnapped|abducted|"
    r"executed|beheaded|targeted|attacked|ambushed|shot)\b"
)
_PASSIVE_BEFORE = re.compile(r"\b(?:were|was|been)\s+(?:\w+\s+)?$")
_PARTICIPLE = re.compile(r"(?:\w+ed|shot|hit|struck|taken|held|caught|seized|overrun|beaten)\b", re.I)
_SUBORDINATE = re.compile(r"\b(?:when|after|as|in|during)\b")  # "were killed when a car bomb ..."
_RELATIVE_PRONOUN = re.compile(r"\b(?:who|whose|which|that)\b")  # "police, whose posts were attacked, arrested"
# An actor named after these was the one acting ("by IS", "fire from Turkish forces", "fell to IS")
_AGENT_MARK = re.compile(r"\b(?:by|from|attributed to|fell to|carried out by|launched by)\s+(?:the\s+)?(?:\w+\s+)?$")
# ... and after these the one acted on ("struck Islamic State hideouts", "strikes against the group")
_TARGET_MARK = re.compile(
    r"\b(?:struck|bombed|hit|targeted|targeting|pounded|shelled|against|killing|killed|wounding|attacked|"
    r"attacking|arrested|detained|captured)\s+(?:\w+\s+){0,2}$"
)


def _passive_at(masked: str, cue_at: int) -> int | None:
    """Where the clause's passive verb phrase starts, when the cue is its participle ("were killed") or
    the passive comes before the cue and the cue's clause hangs from it ("were killed when a car bomb
    blew up"); a progressive ("were reportedly shelling") or a relative clause ("whose checkpoints were
    attacked") is none."""
    right_before = _PASSIVE_BEFORE.search(masked, 0, cue_at)
    if right_before is not None and _PARTICIPLE.match(masked, cue_at):
        return right_before.start()
    found = None
    for m in _PASSIVE.finditer(masked, 0, cue_at + 1):
        found = m
    if found is None or _RELATIVE_PRONOUN.search(masked, 0, found.start()):
        return None
    if found.end() < cue_at and not _SUBORDINATE.search(masked, found.end(), cue_at):
        return None
    return found.start()


_ARMED_TARGET = re.compile(
    r"\b(?:soldiers?|troops|army|police(?:m[ae]n)?|officers|security forces|checkpoints?|military|(?:army|police) "
    r"(?:post|base|station)s?|outposts?|garrison|guards|fighters|militiam[ae]n|SDF|PMF|peshmerga)\b",
    re.I,
)
_CIVILIANS = re.compile(
    r"\b(?:civilians?|villagers|worshippers|shepherds|farmers|children|women|pilgrims|students|market|mosque|"
    r"church|school|hospital|shoppers|passengers|judges?|mukhtars?|clerics?|imams?|teachers?|doctors?|"
    r"elders?|officials?|journalists?|sheikhs?|people|famil(?:y|ies)|wives|wife|sons|daughters|village|bus|"
    r"homes?|houses?|former)\b",
    re.I,
)


def _armed_clash_instead(kind: EventType, clause: str, cue_at: int, types: Sequence[EventType]) -> EventType:
    """The Armed clash type for a generic attack on armed targets (see _ARMED_TARGET), else `kind`."""
    if kind.sub_event_type != "Attack" or not _GENERIC_ATTACK.match(clause, cue_at):
        return kind
    # the target is the object right after the verb ("killed five soldiers", "attacked an army post"), or the
    # subject of a passive ("five soldiers were killed"); an armed word further on ("a family accused of
    # working with the army") is not the target
    passive = _PASSIVE_KILLED.search(clause)
    target = clause[: passive.start()] if passive else " ".join(clause[cue_at:].split()[:6])
    if not _ARMED_TARGET.search(target) or _CIVILIANS.search(clause):
        return kind
    return next((t for t in types if t.sub_event_type == "Armed clash"), kind)


def _pick_place(matches: list[PlaceMatch], chosen: dict[str, Place], cue_at: int) -> Place | None:
    """The place the clause puts the event in ("in X", "the town of X") over one it only names ("the Mosul
    offensive"); then the most specific; among equals, the one nearest the type cue."""
    if not matches:
        return None
    best = min(matches, key=lambda m: (not m.located, chosen[m.surface].rank, abs(m.start - cue_at)))
    return chosen[best.surface]


def mentions_in(
    text: str,
    published: datetime | date | None,
    *,
    config: EventConfig | None = None,
    gazetteer: Gazetteer | None = None,
) -> list[Mention]:
    """The event mentions of one article (one per event: mentions `same_event` joins are merged)."""
    config = config or load_config()
    gazetteer = gazetteer or load_gazetteer()
    pub_day = published.date() if isinstance(published, datetime) else published
    paragraphs = _paragraphs(text)
    # Only sentences with a type cue, the sentence before each (what they may take from it) and the
    # article's first three (its country, for ambiguous names) are read in full: most sentences of an
    # article name no event, and this keeps the stage cheap.
    any_cue = _any_cue(config)
    needed = [[False] * len(para) for para in paragraphs]
    for p, para in enumerate(paragraphs):
        for j, sentence in enumerate(para):
            if any_cue(sentence.lower()):
                needed[p][j] = True
                if j:
                    needed[p][j - 1] = True
    lede = {(p, j) for p, para in enumerate(paragraphs) for j in range(len(para))}
    lede = set(sorted(lede)[:3])
    place_matches = [
        [gazetteer.matches(s) if needed[p][j] or (p, j) in lede else [] for j, s in enumerate(para)]
        for p, para in enumerate(paragraphs)
    ]
    chosen = gazetteer.resolve(m for para in place_matches for ms in para for m in ms)
    lowered = text.lower()  # "eleven days later" needs every earlier date
    counts_later = ("later" in lowered or "after" in lowered) and _LATER.search(text) is not None
    found: list[Mention] = []
    anchor: date | None = None  # the last day named so far, for "eleven days later"
    for p, (para, para_matches) in enumerate(zip(paragraphs, place_matches, strict=True)):
        prev_when: EventDate | None = None
        prev_place: Place | None = None
        prev_actors: list[str] = []
        for j, (sentence, matches) in enumerate(zip(para, para_matches, strict=True)):
            if not needed[p][j]:
                if counts_later:
                    days = [d for _, d in find_dates(sentence, pub_day, anchor) if d.precision == "day"]
                    anchor = days[-1].day if days else anchor
                continue
            dates = find_dates(sentence, pub_day, anchor)
            days = [d for _, d in dates if d.precision == "day"]
            if days:
                anchor = days[-1].day
            masked_sentence = mask_not_happened(sentence)
            sentence_place: Place | None = None
            sentence_when: EventDate | None = None
            for clause in _clauses(sentence):
                masked = masked_sentence[clause.start : clause.end]
                typed = _event_type(masked, config.types)
                in_clause = [m for m in matches if m.usable and clause.start <= m.start < clause.end]
                cue_at = clause.start + typed[1] if typed else clause.start
                place = _pick_place(in_clause, chosen, cue_at)
                clause_dates = [d for at, d in dates if clause.start <= at < clause.end]
                if clause_dates:
                    when: EventDate | None = clause_dates[0]
                elif len({d for _, d in dates}) == 1:
                    when = dates[0][1]
                else:
                    when = None
                sentence_place = sentence_place or place
                sentence_when = sentence_when or when
                if typed is None:
                    continue
                kind, _ = typed
                if place is None and not any(m.usable for m in matches):
                    place = prev_place  # "The forces shot the man dead": the place of the sentence before
                when = when or sentence_when or prev_when
                if place is None or when is None or when.day is None:
                    continue
                if pub_day is not None and when.day > pub_day + timedelta(days=1):
                    continue  # a future date: planned, not happened
                counts = find_counts(masked)
                if kind.needs == "count" and not counts:
                    continue
                kind = _armed_clash_instead(kind, masked, typed[1], config.types)
                directed = kind.event_type != "Battles"
                names, actor1, actor2 = _actors(clause.text, masked, config, typed[1], directed)
                if not names and _REFERRING.search(clause.text):
                    names = list(prev_actors)  # "they were captured": who the sentence before named
                    actor1, actor2 = (names + [None, None])[:2]
                if not (names or counts):
                    continue  # a cue and a place without anyone or any toll is not an event here
                span = when.span()
                background = bool(pub_day and span and (pub_day - span[1]).days > BACKGROUND_DAYS)
                found.append(
                    Mention(
                        kind.event_type,
                        kind.sub_event_type,
                        when,
                        place,
                        names,
                        sentence[:1000],
                        counts,
                        actor1,
                        actor2,
                        background,
                    )  # fmt: skip
                )
            prev_place = sentence_place or prev_place
            prev_actors = _actors(sentence, masked_sentence, config, 0)[0] or prev_actors
            prev_when = sentence_when or prev_when
    return merge_mentions(found)


@lru_cache(maxsize=8)
def _any_cue(config: EventConfig) -> Callable[[str], bool]:
    """Whether a lower-cased sentence has any type cue: substring tests first (fast), then the patterns."""
    pattern = re.compile("|".join(f"(?:{t.cue.pattern})" for t in config.types))
    found = [required_literals(t.cue.pattern) for t in config.types]
    if any(f is None for f in found):
        return lambda text: pattern.search(text) is not None
    literals = tuple(sorted(set().union(*found), key=len))  # type: ignore[arg-type]
    return lambda text: any(map(text.__contains__, literals)) and pattern.search(text) is not None


def merge_mentions(mentions: Iterable[Mention]) -> list[Mention]:
    """Within one article, mentions of one event (`same_event`) are one: the first, with the most specific
    place and date, the largest counts and every actor."""
    kept: list[Mention] = []
    for mention in mentions:
        for other in kept:
            if same_event(other.facts, mention.facts):
                if mention.place.rank < other.place.rank:
                    other.place = mention.place
                if other.when.precision != "day" and mention.when.precision == "day":
                    other.when = mention.when
                for kind, n in mention.counts.items():
                    other.counts[kind] = max(n, other.counts.get(kind, 0))
                other.actors = list(dict.fromkeys(other.actors + mention.actors))
                other.actor1 = other.actor1 or mention.actor1
                other.actor2 = other.actor2 or mention.actor2
                break
        else:
            kept.append(mention)
    return kept
