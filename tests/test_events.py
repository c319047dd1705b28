"""Event extraction: sentence rules, date resolution, and one event with many mentions in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipeline.events import extract_events
from pipeline.events.rules import (
    find_counts,
    mentions_in,
    parse_number,
    resolve_date,
    split_sentences,
)

PUBLISHED = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)  # a Thursday

STORY = (
    "KIRKUK — A suicide bomber killed 14 people and wounded 30 at a bus station in Kirkuk on Tuesday, "
    "police said, in an attack the Islamic State later claimed.\n"
    "Separately, Iraqi forces arrested three suspects in Hawija on March 3.\n"
    "The weather was mild and the markets were busy across the city on Wednesday."
)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("14", 14), ("1,500", 1500), ("three", 3), ("three dozen", 36), ("a", 1), ("many", None)],
)
def test_parse_number(raw, value):
    assert parse_number(raw) == value


def test_counts_read_both_word_orders():
    assert find_counts("The blast killed at least 12 soldiers and wounded 40 others.") == {
        "killed": 12,
        "injured": 40,
    }
    assert find_counts("Nine fighters were killed and two were captured.") == {"killed": 9, "detained": 2}
    assert find_counts("Police detained 4 men after the raid.") == {"detained": 4}


def test_relative_dates_resolve_against_publication():
    pub = PUBLISHED.date()
    assert resolve_date("on Tuesday", pub).day == date(2026, 3, 10)
    assert resolve_date("last month", pub) == resolve_date("late last month", pub)
    assert resolve_date("last month", pub).precision == "month"
    assert resolve_date("on Jan. 20", pub).day == date(2026, 1, 20)
    assert resolve_date("on December 2", pub).day == date(2025, 12, 2)  # not in the future
    assert resolve_date("in October 2016", pub).precision == "month"
    assert resolve_date("no date here", pub).precision == "unknown"


def test_days_later_counts_from_the_last_named_day():
    text = (
        "Police arrested two couriers at a checkpoint on March 2.\n"
        "Nine days later, Iraqi forces raided a hideout in Tikrit, killing three militants."
    )
    (raid,) = mentions_in(text, PUBLISHED)
    assert raid.key == "raid|2026-03-11|tikrit" and raid.counts == {"killed": 3}


def test_sentences_survive_abbreviations_and_skip_notes():
    text = "A U.S. Marine died on Jan. 20 in Makhmour. Then more.\n[12] Some Author, “A Title,” Reuters, May 1, 2017."
    assert split_sentences(text) == ["A U.S. Marine died on Jan. 20 in Makhmour."]


def test_mentions_need_a_place_and_an_actor_or_toll():
    found = {m.event_type: m for m in mentions_in(STORY, PUBLISHED)}
    assert set(found) == {"suicide bombing", "arrest"}
    bombing = found["suicide bombing"]
    assert (bombing.place.name, bombing.place.country) == ("Kirkuk", "Iraq")
    assert bombing.when.day == date(2026, 3, 10) and bombing.when.precision == "day"
    assert bombing.counts == {"killed": 14, "injured": 30}
    assert "Islamic State" in bombing.actors
    assert found["arrest"].counts == {"detained": 3} and found["arrest"].when.day == date(2026, 3, 3)


def test_seed_events(seeds_dir):
    """GOLD.md: E1 and E2 in 000, E6 to E9 in 003 (the rule-based extractor's share of the table)."""
    nyt = {
        m.key: m
        for m in mentions_in((seeds_dir / "000_5dbbe46ac82bd2cf.txt").read_text(), datetime(2018, 2, 4, tzinfo=UTC))
    }
    assert nyt["suicide bombing|2018-01|baghdad"].counts == {"killed": 36, "injured": 90}
    assert nyt["air strike|2018-01-20|al shafah"].counts == {"killed": 150}
    wapo = {
        m.key
        for m in mentions_in((seeds_dir / "003_ec426eecc148467f.txt").read_text(), datetime(2016, 3, 24, tzinfo=UTC))
    }
    assert any(k.endswith("|2016-03-24|palmyra") for k in wapo)
    assert "attack|2016-03-19|makhmour" in wapo  # E8, "on Saturday"
    assert "battle|2016-03-24|makhmour" in wapo  # E7
    assert "territorial change|2016-02|shadadi" in wapo  # E9, "late last month"
    reuters = {
        m.key: m
        for m in mentions_in((seeds_dir / "002_a3efd8ef7c8c5198.txt").read_text(), datetime(2025, 6, 20, tzinfo=UTC))
    }
    assert any(k.endswith("|2024-12-13|daquq") for k in reuters)  # E4, "eleven days later" (than December 2)
    assert reuters["raid|2025-05-17|aleppo"].counts == {"killed": 3, "detained": 4}  # E5, "three days after"


def _article(conn, url: str, source: str, text: str, relevant: bool = True) -> int:
    return conn.execute(
        """INSERT INTO articles (url, source, text, word_count, content_hash, extractor, published_at, relevant)
           VALUES (%s, %s, %s, %s, md5(%s), 'test', %s, %s) RETURNING id""",
        (url, source, text, len(text.split()), text, PUBLISHED, relevant),
    ).fetchone()[0]


def test_one_event_many_mentions_and_independent_sources(conn):
    a = _article(conn, "https://one.example/a", "one.example", STORY)
    b = _article(conn, "https://two.example/b", "two.example", STORY.replace("police said", "officials said"))
    c = _article(conn, "https://three.example/c", "three.example", STORY)
    off = _article(conn, "https://four.example/d", "four.example", STORY, relevant=False)
    # c is a syndicated copy of a: it adds a mention but not an independent source.
    cluster = conn.execute(
        "INSERT INTO story_clusters (original_article_id) VALUES (%s) RETURNING id", (a,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO cluster_members (article_id, cluster_id, relation, similarity)"
        " VALUES (%s, %s, 'original', 1), (%s, %s, 'copy', 0.9)",
        (a, cluster, c, cluster),
    )
    counts = extract_events(conn, [a, b, c, off])
    assert counts["skip:not_relevant"] == 1 and counts["mentions_new"] == 6
    row = conn.execute(
        "SELECT mention_count, independent_sources, killed FROM v_events WHERE event_type = 'suicide bombing'"
    ).fetchone()
    assert row == (3, 2, 14)
    again = extract_events(conn, [a, b, c, off])
    assert again.get("mentions_new", 0) == 0 and again["mentions_known"] == 6
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2


def test_an_event_without_actors_merges_a_second_mention(conn):
    text = "A car bomb killed 7 people in Tikrit on Monday, police said."
    first = _article(conn, "https://one.example/x", "one.example", text)
    second = _article(conn, "https://two.example/y", "two.example", text)
    assert extract_events(conn, [first, second])["mentions_new"] == 2
    assert conn.execute("SELECT actors, killed FROM events").fetchall() == [([], 7)]
