"""Taxonomy files: the shipped one loads, the hash follows meaning, every bad file names the place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.classify.taxonomy import load_taxonomy
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
GOOD = """\
name: tiny
topics:
  - id: bombing
    label: Bombing
    description: bombs and blasts
    keywords: [bomb, blast, '(?-i:IED)']
  - id: kidnapping
    label: Kidnapping
    keywords: [kidnap\\w*, abduct\\w*]
"""


def write(tmp_path: Path, text: str, name: str = "topics.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_taxonomy_has_the_six_gold_topics() -> None:
    taxonomy = load_taxonomy(ROOT / "config" / "topics.yaml")
    assert taxonomy.topic_ids == [
        "foreign-fighters",
        "attacks",
        "military-ops",
        "detention",
        "strategy-propaganda",
        "politics",
    ]
    assert all(t.keywords and t.description for t in taxonomy.topics)
    anchor = taxonomy.relevance_pattern()
    assert anchor is not None
    for name in ("ISIS", "ISIL", "IS", "Daesh", "the Islamic State group", "Etat islamique", "Daech"):
        assert anchor.search(f"News about {name} today"), name
    assert not anchor.search("this is what it is"), "the English word 'is' must not count as IS"


def test_hash_follows_meaning_not_formatting(tmp_path: Path) -> None:
    first = load_taxonomy(write(tmp_path, GOOD, "a.yaml"))
    reformatted = "# a comment\n" + GOOD.replace(
        "keywords: [bomb, blast, '(?-i:IED)']", "keywords:\n      - bomb\n      - blast\n      - (?-i:IED)"
    )
    second = load_taxonomy(write(tmp_path, reformatted, "b.yaml"))
    edited = load_taxonomy(write(tmp_path, GOOD.replace("bomb, blast", "bomb, 'blasts?'"), "c.yaml"))
    assert first.hash == second.hash
    assert edited.hash != first.hash


def test_hash_covers_the_contents_of_example_files(tmp_path: Path) -> None:
    examples = tmp_path / "ex.jsonl"
    examples.write_text(json.dumps({"text": "a bomb went off", "labels": ["bombing"]}) + "\n", encoding="utf-8")
    path = write(tmp_path, "examples: [ex.jsonl]\n" + GOOD)
    before = load_taxonomy(path)
    assert len(before.examples) == 1 and before.examples[0].labels == {"bombing"}
    examples.write_text(json.dumps({"text": "they abducted him", "labels": ["kidnapping"]}) + "\n", encoding="utf-8")
    assert load_taxonomy(path).hash != before.hash


BAD_CASES = {
    "unknown top-level key": (GOOD + "colour: blue\n", ["colour", "the file"]),
    "unknown topic key": (
        GOOD.replace("label: Bombing", "label: Bombing\n    synonyms: [x]"),
        ["topics[0]", "synonyms"],
    ),
    "duplicate id": (
        GOOD.replace("id: kidnapping", "id: bombing"),
        ["topics[1]", "duplicate id 'bombing'", "topics[0]"],
    ),
    "empty topic": (GOOD + "  - {}\n", ["topics[2]", "empty topic"]),
    "topic with nothing to go on": (GOOD + "  - id: other\n    label: Other\n", ["topics[other]", "empty"]),
    "bad pattern": (
        GOOD.replace("kidnap\\w*", "kidnap(ped"),
        ["topics[1] (kidnapping).keywords[0]", "bad regular expression"],
    ),
    "pattern matching nothing at all": (GOOD.replace("kidnap\\w*", "x*"), ["keywords[0]", "empty string"]),
    "missing examples file": ("examples: [nowhere.jsonl]\n" + GOOD, ["examples[0]", "nowhere.jsonl", "not found"]),
    "no topics": ("name: x\ntopics: []\n", ["'topics' must be a non-empty list"]),
    "bad id": (GOOD.replace("id: bombing", "id: 'bomb ing'"), ["topics[0].id", "not a valid id"]),
    "bad threshold": (
        GOOD.replace("label: Bombing", "label: Bombing\n    threshold: 2"),
        ["threshold", "between 0 and 1"],
    ),
    "not yaml": ("topics: [a\n", ["not valid YAML"]),
    "not a mapping": ("- a\n- b\n", ["expected a mapping"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_taxonomy_names_the_place(tmp_path: Path, case: str) -> None:
    text, expected = BAD_CASES[case]
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, f"{case}: {part!r} not in {message!r}"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"labels": ["bombing"]}', '"text"'),
        ('{"text": "x", "labels": ["weather"]}', "unknown topic id(s) weather"),
        ('{"text": "x", "labels": "bombing"}', "list of topic ids"),
    ],
)
def test_bad_example_line_names_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    examples = tmp_path / "ex.jsonl"
    examples.write_text('{"text": "a bomb", "labels": ["bombing"]}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_taxonomy(write(tmp_path, "examples: [ex.jsonl]\n" + GOOD))
    assert f"{examples}:2" in str(info.value)
    assert expected in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="taxonomy file not found"):
        load_taxonomy(tmp_path / "absent.yaml")
