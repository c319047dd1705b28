"""`newsflow eval events`: the event stage on the seeds (GOLD.md, E1–E9) and on IndiaPoliceEvents documents.

Seeds: the gold table and the publication dates are read from GOLD.md itself (a month-precise
publication date is taken as the month's last day). A gold event is found when an extracted event
has its type family, its date (±1 day, or inside the gold month) and its place (within 25 km of the
gold town, or within the region for a coarse gold place; the gold place text is read by the same
gazetteer). Extracted events matching no gold event are listed: outside the CTC analysis (004) they
are spurious; in 004, past events are welcome if dated right and are listed for reading.

IndiaPoliceEvents (document level, labels KILL and ARREST): the event rules' sentence analysis
beside a keyword baseline, in the same run. The one setting (which KILL rule) is chosen on train;
dev is reported once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.events.config import load_config
from pipeline.events.gazetteer import Place, distance_km, load_gazetteer
from pipeline.events.rules import TOWN_KM, Mention, find_counts, mask_not_happened, mentions_in, split_sentences

# GOLD.md names types in words; their ACLED families (the family is what the goal asks to be right).
GOLD_FAMILIES = {
    "suicide bombing": "Explosions/Remote violence",
    "air strike": "Explosions/Remote violence",
    "attack": "Explosions/Remote violence",  # E8: rocket fire
    "bombing": "Explosions/Remote violence",
    "arrest": "Strategic developments",
    "territorial change": "Strategic developments",
    "armed clash": "Battles",
    "raid": "Battles",
    "battle": "Battles",
}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}  # fmt: skip


@dataclass(frozen=True)
class GoldEvent:
    id: str
    doc: str
    family: str
    day: date
    precision: str  # day | month
    place_text: str
    place: Place | None


@dataclass
class SeedReport:
    found: dict[str, Mention | None]
    spurious: list[tuple[str, Mention]]
    past: list[tuple[str, Mention]]  # unmatched, from the analysis of past events (004)
    background: int

    @property
    def right(self) -> list[str]:
        return [k for k, v in self.found.items() if v is not None]


def _rows(markdown: str, heading: str) -> list[list[str]]:
    part = markdown.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")] for line in part.splitlines() if line.startswith("|")
    ]
    return [r for r in rows[2:] if r]


def _published(raw: str) -> date:
    m = re.search(r"(\d{4})-(\d{2})(?:-(\d{2}))?", raw)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        if m.group(3):
            return date(year, month, int(m.group(3)))
    else:
        m = re.search(r"([A-Z][a-z]+) (\d{4})", raw)
        if not m or m.group(1).lower() not in _MONTHS:
            raise ConfigError(f"GOLD.md: cannot read a publication date from {raw!r}")
        year, month = int(m.group(2)), _MONTHS[m.group(1).lower()]
    return (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def read_gold(seeds: Path) -> tuple[dict[str, tuple[Path, date]], list[GoldEvent]]:
    path = seeds / "GOLD.md"
    if not path.is_file():
        raise ConfigError(f"{path}: not found")
    text = path.read_text(encoding="utf-8")
    docs = {}
    for row in _rows(text, "## The documents"):
        name = row[0]
        docs[name[:3]] = (seeds / name, _published(row[2]))
    gazetteer = load_gazetteer()
    events = []
    for row in _rows(text, "## Events"):
        kind = row[2].split("/")[0].strip().lower()
        family = next((f for k, f in GOLD_FAMILIES.items() if kind.startswith(k)), None)
        if family is None:
            raise ConfigError(f"{path}: event {row[0]}: type {row[2]!r} has no ACLED family here")
        m = re.match(r"(\d{4})-(\d{2})(?:-(\d{2}))?", row[3])
        if not m:
            raise ConfigError(f"{path}: event {row[0]}: no date in {row[3]!r}")
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
        place_text = re.sub(r"\(.*?\)", "", row[4])
        matches = gazetteer.matches("in " + place_text)
        chosen = gazetteer.resolve(matches)
        place = min((chosen[m.surface] for m in matches), key=lambda p: p.rank) if matches else None
        events.append(GoldEvent(row[0], row[1], family, day, "day" if m.group(3) else "month", row[4], place))
    return docs, events


def matches_gold(mention: Mention, gold: GoldEvent) -> bool:
    if mention.event_type != gold.family or mention.when.day is None or gold.place is None:
        return False
    if gold.precision == "month":
        if (mention.when.day.year, mention.when.day.month) != (gold.day.year, gold.day.month):
            return False
    elif mention.when.precision != "day" or abs((mention.when.day - gold.day).days) > 1:
        return False
    if mention.place.key == gold.place.key:
        return True
    if mention.place.country_code != gold.place.country_code:
        return False
    limit = TOWN_KM if gold.place.precision == "town" else 150.0
    return mention.place.precision != "country" and distance_km(mention.place, gold.place) <= limit


def evaluate_seeds(seeds: Path) -> SeedReport:
    docs, gold = read_gold(seeds)
    found: dict[str, Mention | None] = {g.id: None for g in gold}
    spurious: list[tuple[str, Mention]] = []
    past: list[tuple[str, Mention]] = []
    background = 0
    for doc, (path, published) in sorted(docs.items()):
        for mention in mentions_in(path.read_text(encoding="utf-8"), published):
            if mention.background:
                background += 1
                continue
            hits = [g for g in gold if matches_gold(mention, g)]
            for g in hits:
                found[g.id] = found[g.id] or mention
            if not hits:
                (past if doc == "004" else spurious).append((doc, mention))
    return SeedReport(found, spurious, past, background)


# IndiaPoliceEvents: does a document say police arrested / killed someone?
_POLICE = re.compile(
    r"\b(?:police(?:men)?|cops?|constables?|(?:state )?reserve police|\bsrp\b|\brpf\b|\brap\b)\b", re.I
)
_KILL = re.compile(
    r"\b(?:killed|killing|shot dead|died|dead|deaths?|succumbed|lost (?:his|her|their) li(?:fe|ves))\b", re.I
)
_POLICE_FIRING = re.compile(
    r"\b(?:police (?:firing|fire|opened fire|fired|shot|bullets?)|(?:firing|fire|shot|killed) by (?:the )?police"
    r"|(?:in|during) (?:police )?(?:firing|encounter)|encounters?"
    r"|police(?:men)?(?: personnel)? (?:who )?(?:[\w-]+ ){0,4}(?:killed|shot|gunned down|opened fire|fired))\b",
    re.I,
)


_LOWER_SPLIT = re.compile(r"(?<=[.!?])[\"'”’]*\s+")


def _sentences(text: str) -> list[str]:
    """Sentences, masked (see `rules.mask_not_happened`); these texts are often lower case, so a sentence
    may start with a small letter."""
    return [mask_not_happened(s) for p in split_sentences(text) for s in _LOWER_SPLIT.split(p)]


def rule_arrest(text: str) -> bool:
    cue = next(t.cue for t in load_config().types if t.sub_event_type == "Arrests")
    return any(cue.search(s.lower()) for s in _sentences(text))


def rule_kill_firing(text: str) -> bool:
    """Police named as killing: a death and police firing (or an encounter) in one sentence."""
    return any(_KILL.search(s) and _POLICE_FIRING.search(s) for s in _sentences(text))


def rule_kill_police(text: str) -> bool:
    """A death and police in one sentence (a wider variant)."""
    return any((_KILL.search(s) or find_counts(s).get("killed")) and _POLICE.search(s) for s in _sentences(text))


def baseline_arrest(text: str) -> bool:
    return re.search(r"\b(?:arrest\w*|detain\w*)\b", text, re.I) is not None


def baseline_kill(text: str) -> bool:
    return (
        re.search(r"\bpolice\b", text, re.I) is not None
        and re.search(r"\b(?:killed|shot dead)\b", text, re.I) is not None
    )


KILL_RULES: dict[str, Callable[[str], bool]] = {"firing": rule_kill_firing, "police": rule_kill_police}


@dataclass
class IpeReport:
    kill_rule: str
    selection: dict[str, float]  # train F1 of each KILL rule
    scores: dict[str, dict[str, dict[str, tuple[float, float, float]]]] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)


def prf(gold: Iterable[bool], pred: Iterable[bool]) -> tuple[float, float, float]:
    pairs = list(zip(gold, pred, strict=True))
    tp = sum(g and p for g, p in pairs)
    fp = sum(p and not g for g, p in pairs)
    fn = sum(g and not p for g, p in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _load_ipe(folder: Path, split: str) -> list[tuple[str, set[str]]]:
    path = folder / f"ipe_docs-{split}.jsonl"
    if not path.is_file():
        raise ConfigError(f"{path}: not found (IndiaPoliceEvents documents, see the corpus README)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], set(r["labels"])) for r in rows]


def evaluate_ipe(folder: Path, splits: tuple[str, ...] = ("train", "dev")) -> IpeReport:
    data = {split: _load_ipe(folder, split) for split in splits}
    train = data["train"]
    selection = {
        name: prf(["KILL" in y for _, y in train], [rule(t) for t, _ in train])[2] for name, rule in KILL_RULES.items()
    }
    kill_rule = max(selection, key=lambda k: selection[k])
    report = IpeReport(kill_rule, selection)
    for split, docs in data.items():
        report.n[split] = len(docs)
        methods: dict[str, dict[str, Callable[[str], bool]]] = {
            "events": {"ARREST": rule_arrest, "KILL": KILL_RULES[kill_rule]},
            "keyword baseline": {"ARREST": baseline_arrest, "KILL": baseline_kill},
        }
        report.scores[split] = {
            method: {
                label: prf([label in y for _, y in docs], [rule(t) for t, _ in docs]) for label, rule in rules.items()
            }
            for method, rules in methods.items()
        }
    return report
