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
    assert (raid.event_type, raid.when.day, raid.place.name) == ("Battles", date(2026, 3, 11), "Tikrit")
    assert raid.counts == {"killed": 3}


def test_sentences_survive_abbreviations_and_skip_notes():
    text = "A U.S. Marine died on Jan. 20 in Makhmour. Then more.\n[12] Some Author, “A Title,” Reuters, May 1, 2017."
    assert split_sentences(text) == ["A U.S. Marine died on Jan. 20 in Makhmour."]


def test_mentions_need_a_place_and_an_actor_or_toll():
    found = {m.sub_event_type: m for m in mentions_in(STORY, PUBLISHED)}
    assert set(found) == {"Suicide bomb", "Arrests"}
    bombing = found["Suicide bomb"]
    assert bombing.event_type == "Explosions/Remote violence"
    assert (bombing.place.name, bombing.place.country, bombing.place.precision) == ("Kirkuk", "Iraq", "town")
    assert abs(bombing.place.lat - 35.47) < 0.2 and abs(bombing.place.lon - 44.39) < 0.2
    assert bombing.when.day == date(2026, 3, 10) and bombing.when.precision == "day"
    assert bombing.counts == {"killed": 14, "injured": 30}
    assert "Islamic State" in bombing.actors
    arrest = found["Arrests"]
    assert arrest.event_type == "Strategic developments" and arrest.actor1 == "Iraqi security forces"
    assert arrest.counts == {"detained": 3} and arrest.when.day == date(2026, 3, 3)


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
        "SELECT mention_count, independent_sources, killed FROM v_events WHERE sub_event_type = 'Suicide bomb'"
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
