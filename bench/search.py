"""`newsflow search` speed and index cost, beside the README's plain English-only query, same run.

    .venv/bin/python bench/search.py [--articles 10000] [--repeat 5]

Builds a scratch database (on $TEST_DATABASE_URL's server, else 127.0.0.1:5432) from `sql/`, loads
synthetic articles (English-like text of about 250 words drawn from a Zipf-weighted vocabulary, with
place and actor names, one in ten in Arabic script), then times per query, best of `--repeat`:

- baseline: `tsv @@ websearch_to_tsquery('english', q)` ranked by ts_rank, top 20, ids only;
- search: `pipeline.analysis.search.search` (both vectors, snippets, clusters, events), top 20.

and prints the sizes of the two GIN indexes and of the table.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from pipeline import db
from pipeline.analysis.search import search

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "said",
    "on",
    "for",
    "was",
    "with",
    "by",
    "that",
    "from",
    "at",
    "as",
    "forces",
    "killed",
    "attack",
    "security",
    "militants",
    "group",
    "police",
    "army",
    "village",
    "province",
    "officials",
    "fighters",
    "checkpoint",
    "raid",
    "prison",
    "camp",
    "people",
    "government",
    "city",
    "local",
    "sources",
    "reported",
    "wounded",
    "commander",
    "operation",
    "near",
    "east",
    "west",
    "north",
    "south",
    "after",
    "during",
    "night",
    "week",
    "two",
    "three",
    "four",
    "five",
    "several",
    "civilians",
    "soldiers",
    "bomb",
    "explosion",
    "detained",
    "arrested",
    "cell",
    "cells",
    "sleeper",
    "leader",
    "members",
    "area",
    "district",
    "region",
    "border",
]
NAMES = ("Deir ez-Zor", "Raqqa", "Hasakah", "Mosul", "Kirkuk", "Anbar", "Islamic State", "SDF", "Baghuz",
         "Palmyra", "Idlib", "Aleppo", "Tikrit", "Diyala", "Qamishli")  # fmt: skip
ARABIC = [
    "هجوم",
    "دير",
    "الزور",
    "الرقة",
    "الحسكة",
    "تنظيم",
    "الدولة",
    "قتل",
    "جرح",
    "اعتقال",
    "قوات",
    "سوريا",
    "الديمقراطية",
    "حاجز",
    "قرية",
    "ريف",
]
QUERIES = ("Deir ez-Zor attack", '"sleeper cell"', "prison OR camp", "Kirkuk bomb -police", "الزور", "Baghuz")


def text(rng: random.Random, arabic: bool) -> str:
    if arabic:
        return " ".join(rng.choices(ARABIC, k=120))
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    words = rng.choices(WORDS, weights=weights, k=250)
    for _ in range(6):
        words.insert(rng.randrange(len(words)), rng.choice(NAMES))
    return " ".join(words)


def load(conn: psycopg.Connection, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY articles (url, source, title, published_at, language, text, word_count, content_hash, extractor)"
            " FROM STDIN"
        ) as copy,
    ):
        for i in range(n):
            arabic = i % 10 == 0
            body = text(rng, arabic)
            title = " ".join(body.split()[:8])
            copy.write_row((f"https://o{i % 50}.example/{i}", f"o{i % 50}.example", title,
                            start + timedelta(minutes=37 * i), "ar" if arabic else "en", body,
                            len(body.split()), str(i), "bench"))  # fmt: skip
    conn.commit()


def best_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def baseline(conn: psycopg.Connection, q: str) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM articles, websearch_to_tsquery('english', %s) q WHERE tsv @@ q"
        " ORDER BY ts_rank(tsv, q) DESC LIMIT 20",
        (q,),
    ).fetchall()
    return [r[0] for r in rows]


def both_vectors(conn: psycopg.Connection, q: str) -> list[int]:
    """What `search` matches and ranks by (decisions D15), ids only: the cost of the second vector."""
    rows = conn.execute(
        "SELECT id FROM articles, websearch_to_tsquery('english', %(q)s) qe, websearch_to_tsquery('simple', %(q)s) qs"
        " WHERE tsv @@ qe OR tsv_simple @@ qs ORDER BY greatest(ts_rank(tsv, qe), ts_rank(tsv_simple, qs)) DESC"
        " LIMIT 20",
        {"q": q},
    ).fetchall()
    return [r[0] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"newsflow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    try:
        with db.connect(url) as conn:
            db.migrate(conn)
            started = time.perf_counter()
            load(conn, args.articles)
            print(f"loaded {args.articles} articles in {time.perf_counter() - started:.1f} s")
            conn.execute("ANALYZE articles")
            conn.commit()
            print(f"{'query':<22} {'hits':>9} {'base ms':>8} {'2 vectors ms':>12} {'ratio':>6} "
                  f"{'search ms':>9} {'ratio':>6}")  # fmt: skip
            for q in QUERIES:
                hits = (len(baseline(conn, q)), len(both_vectors(conn, q)), len(search(conn, q, limit=20)))
                base = best_ms(lambda q=q: baseline(conn, q), args.repeat)
                two = best_ms(lambda q=q: both_vectors(conn, q), args.repeat)
                full = best_ms(lambda q=q: search(conn, q, limit=20), args.repeat)
                print(f"{q:<22} {'/'.join(map(str, hits)):>9} {base:>8.1f} {two:>12.1f} {two / base:>6.1f} "
                      f"{full:>9.1f} {full / base:>6.1f}")  # fmt: skip
            sizes = conn.execute(
                "SELECT pg_size_pretty(pg_relation_size('articles_tsv_idx')),"
                " pg_size_pretty(pg_relation_size('articles_tsv_simple_idx')),"
                " pg_size_pretty(pg_total_relation_size('articles'))"
            ).fetchone()
            print(f"GIN english (tsv): {sizes[0]}; GIN simple (tsv_simple): {sizes[1]}; articles in all: {sizes[2]}")
            cols = conn.execute(
                "SELECT pg_size_pretty(sum(pg_column_size(tsv))), pg_size_pretty(sum(pg_column_size(tsv_simple))),"
                " pg_size_pretty(sum(pg_column_size(text))) FROM articles"
            ).fetchone()
            print(f"stored vectors: tsv {cols[0]}, tsv_simple {cols[1]} (text itself: {cols[2]})")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
