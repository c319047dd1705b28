"""A small news world written straight into a test database, for the analyst tests: an IS attack in
Deir ez-Zor reported by two outlets (one of them copied by a third), an Arabic report, an off-topic
story, and an outlet that stopped publishing long ago."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

DAY = date(2024, 3, 5)

ARTICLES = {
    "wire": ("https://www.wire.example/2024/03/05/attack", "wire.example", "en", datetime(2024, 3, 5, 8, tzinfo=UTC),
             "Islamic State fighters attacked an SDF checkpoint in Deir ez-Zor",
             "Islamic State fighters attacked a checkpoint of the Syrian Democratic Forces near Deir ez-Zor on "
             "Tuesday, killing four guards, local officials said. The attackers fled towards the desert."),
    "copy": ("https://paper.example/news/is-attack", "paper.example", "en", datetime(2024, 3, 5, 11, tzinfo=UTC),
             "IS attack on SDF checkpoint in Deir ez-Zor kills four",
             "Islamic State fighters attacked a checkpoint of the Syrian Democratic Forces near Deir ez-Zor on "
             "Tuesday, killing four guards, local officials said."),
    "local": ("https://local.example/a/1", "local.example", "en", datetime(2024, 3, 5, 19, tzinfo=UTC),
              "Four SDF guards killed in Deir ez-Zor as IS cells step up raids",
              "A night raid by Islamic State cells on an SDF post east of Deir ez-Zor killed four guards, "
              "residents told our correspondent. It was the third such attack this month."),
    "arabic": ("https://ar.example/news/7", "ar.example", "ar", datetime(2024, 3, 4, 9, tzinfo=UTC),
               "هجوم لتنظيم الدولة في دير الزور",
               "قتل أربعة من عناصر قوات سوريا الديمقراطية في هجوم لتنظيم الدولة على حاجز في ريف دير الزور الشرقي"),
    "football": ("https://sport.example/derby", "sport.example", "en", datetime(2024, 3, 5, 20, tzinfo=UTC),
                 "Derby ends in a draw", "The derby ended one all after a late penalty in Damascus."),
    "old": ("https://gone.example/2019/x", "gone.example", "en", datetime(2019, 6, 1, tzinfo=UTC),
            "An old report from Raqqa", "An attack in Raqqa was reported years ago."),
}  # fmt: skip


def seed(conn: Any) -> dict[str, int]:
    """Write the world; returns article ids by key."""
    conn.execute("INSERT INTO topics (id, label) VALUES ('attacks', 'Attacks'), ('detentions', 'Detentions')")
    ids: dict[str, int] = {}
    for key, (url, source, lang, published, title, text) in ARTICLES.items():
        ids[key] = conn.execute(
            """INSERT INTO articles (url, source, title, published_at, language, text, word_count, content_hash,
                                     extractor, relevant)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'test', %s) RETURNING id""",
            (url, source, title, published, lang, text, len(text.split()), key, key != "football"),
        ).fetchone()[0]
    for key in ("wire", "copy", "local", "old"):
        conn.execute("INSERT INTO article_topics VALUES (%s, 'attacks', 0.9, 't', 'h')", (ids[key],))
    cluster = conn.execute(
        "INSERT INTO story_clusters (original_article_id) VALUES (%s) RETURNING id", (ids["wire"],)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO cluster_members (article_id, cluster_id, relation, similarity) VALUES "
        "(%s, %s, 'original', 1), (%s, %s, 'copy', 0.8)",
        (ids["wire"], cluster, ids["copy"], cluster),
    )
    event = conn.execute(
        """INSERT INTO events (event_key, event_type, event_date, date_precision, place, country, actors, killed,
                               extractor)
           VALUES ('attack|2024-03-05|Deir ez-Zor', 'attack', '2024-03-05', 'day', 'Deir ez-Zor', 'Syria',
                   '{Islamic State}', 4, 'test') RETURNING id"""
    ).fetchone()[0]
    for key in ("wire", "copy", "local"):
        conn.execute("INSERT INTO event_mentions VALUES (%s, %s, 'sentence', 4, NULL, NULL)", (event, ids[key]))
    conn.commit()
    return ids


def add_coordinates(conn: Any, coords: dict[str, tuple[float, float]]) -> None:
    """Geocode the seeded events by place, as the events stage does (`events.lat`, `events.lon`)."""
    for place, (lat, lon) in coords.items():
        conn.execute("UPDATE events SET lat = %s, lon = %s, geo_precision = 'town' WHERE place = %s", (lat, lon, place))
    conn.commit()
