"""Benchmark: the nightly incremental syndication path as the archive grows from 10k to 1M articles.

    .venv/bin/python bench/dedup.py [--sizes 10000,100000,1000000] [--new 200] [--admin-url URL]

Creates its own database (newsflow_bench_<pid>) on the local PostgreSQL, applies the migrations, and
drops it at the end. The archive is synthetic "same subject" news: paragraphs are drawn from a shared
pool of sentences, so unrelated archive articles share sentences and fingerprints with every new
article (the hard case: millions of articles about one war), and boilerplate lines recur in many.

Building the archive is bulk work and not timed: texts are COPYed into `articles` and each article's
postings are COPYed into `syndication_postings` (fingerprints of its top sentences, computed per
pool sentence once). What is timed is the real per-article path, `link_articles`, on new articles:
a third are edited copies of an archive article (shortened, paragraphs dropped/inserted, restyled), a
third are exact re-layouts of one, a third are fresh stories on the same subject. Recall and precision
of those links are checked at every size.

Baseline in the same run: containment against every archive article in the window (fetch + compare,
no index), measured on a few new articles at the smallest size.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pipeline import db
from pipeline.syndication import link_articles
from pipeline.syndication.match import (
    INDEX_LEDE_FPS,
    Record,
    compare,
    normalize_tokens,
    prepare,
)
from pipeline.syndication.text import fingerprints

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 365  # the archive spans a year whatever its size, so the window gets denser as it grows
WINDOW = 30


@dataclass(frozen=True)
class Pool:
    words: list[str]
    sentences: list[str]
    sentence_fps: list[list[int]]
    boilerplate: list[str]


def make_pool(rng: random.Random, n_sentences: int) -> Pool:
    """A vocabulary with a Zipf-like use, a pool of sentences built from it, and boilerplate lines."""
    syllables = ["ka", "ro", "mi", "tan", "el", "sur", "va", "qui", "dor", "ba", "len", "is", "am", "ur"]
    words = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(40000)})
    cumulative = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(words))))
    sentences = []
    for _ in range(n_sentences):
        body = rng.choices(words, cum_weights=cumulative, k=rng.randint(12, 26))
        sentences.append(" ".join(body).capitalize() + ".")
    sentence_fps = [fingerprints(normalize_tokens(s)) for s in sentences]
    boilerplate = ["Advertisement", "See more of the story", "Distributed by Tribune Content Agency, LLC.",
                   "Copyright 2024 The Associated Press. All rights reserved.",
                   "Sign up for our newsletter to get the latest news delivered to your inbox every morning."]
    return Pool(words, sentences, sentence_fps, boilerplate)


def make_article(rng: random.Random, pool: Pool) -> list[int]:
    """An article as a list of pool sentence indices (paragraphs of 1-3 sentences, 5-12 paragraphs)."""
    return [rng.randrange(len(pool.sentences)) for _ in range(rng.randint(8, 20))]


def render(pool: Pool, sentence_ids: Sequence[int], rng: random.Random, boiler: bool) -> str:
    paras, i = [], 0
    while i < len(sentence_ids):
        step = rng.randint(1, 3)
        paras.append(" ".join(pool.sentences[s] for s in sentence_ids[i : i + step]))
        i += step
    if boiler:
        paras.insert(0, rng.choice(pool.boilerplate))
        paras.append(rng.choice(pool.boilerplate))
    return "\n".join(paras)


def archive_fps(pool: Pool, sentence_ids: Sequence[int]) -> list[int]:
    """The archive article's postings: fingerprints of its top sentences (synthetic, bulk-loaded)."""
    out: list[int] = []
    for s in sentence_ids:
        out.extend(pool.sentence_fps[s])
        if len(out) >= INDEX_LEDE_FPS:
            break
    return sorted(set(out[:INDEX_LEDE_FPS]))


def day_of(when: datetime) -> int:
    return (when.date() - datetime(1970, 1, 1).date()).days


class Archive:
    """The bench database and the synthetic archive in it."""

    def __init__(self, admin_url: str, pool: Pool, seed: int) -> None:
        self.admin_url = admin_url
        self.name = f"newsflow_bench_{id(self) % 100000}"
        self.pool = pool
        self.rng = random.Random(seed)
        self.stories: list[list[int]] = []
        self.dates: list[datetime] = []
        self.ids: list[int] = []

    @property
    def url(self) -> str:
        info = psycopg.conninfo.conninfo_to_dict(self.admin_url)
        info["dbname"] = self.name
        return psycopg.conninfo.make_conninfo(**info)

    def create(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        with db.connect(self.url) as conn:
            db.migrate(conn)
            # Bench-only: full-text search is not on this path and would dominate the bulk load.
            conn.execute("ALTER TABLE articles DROP COLUMN tsv")
            conn.commit()

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            name = sql.Identifier(self.name)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))

    def grow(self, target: int) -> float:
        """Bulk-add synthetic articles until the archive holds `target`; returns seconds spent."""
        started = time.perf_counter()
        first = len(self.stories)
        for _ in range(first, target):
            self.stories.append(make_article(self.rng, self.pool))
            self.dates.append(START + timedelta(seconds=self.rng.randrange(SPAN_DAYS * 86400)))
        with db.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute("DROP INDEX IF EXISTS syndication_postings_idx")
            cur.execute("SELECT coalesce(max(id), 0) FROM articles")
            row = cur.fetchone()
            last_id = int(row[0]) if row else 0
            with cur.copy("COPY articles (url, source, text, word_count, content_hash, extractor, "
                          "published_at) FROM STDIN") as copy:
                for i in range(first, target):
                    text = render(self.pool, self.stories[i], self.rng, self.rng.random() < 0.3)
                    source = f"a{i % 500}.example"
                    copy.write_row((f"https://{source}/{i}", source, text, len(text.split()), "", "bench",
                                    self.dates[i]))
            cur.execute("SELECT id, url FROM articles WHERE id > %s", (last_id,))
            by_index = {int(url.rsplit("/", 1)[1]): aid for aid, url in cur.fetchall()}
            self.ids.extend(by_index[i] for i in range(first, target))
            with cur.copy("COPY syndication_postings (fp, day, article_id) FROM STDIN") as copy:
                for i in range(first, target):
                    for fp in archive_fps(self.pool, self.stories[i]):
                        copy.write_row((fp, day_of(self.dates[i]), self.ids[i]))
            with cur.copy("COPY syndication_docs (article_id, day, text_hash, fps) FROM STDIN") as copy:
                for i in range(first, target):
                    copy.write_row((self.ids[i], day_of(self.dates[i]), f"bench{i}", []))
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("CREATE INDEX syndication_postings_idx ON syndication_postings (fp, day, article_id)")
            conn.commit()
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE syndication_postings")
            conn.execute("VACUUM ANALYZE articles")
        return time.perf_counter() - started

    def sizes_on_disk(self) -> dict[str, int]:
        with psycopg.connect(self.url) as conn:
            out = {}
            for rel in ("syndication_postings", "syndication_postings_idx", "articles", "syndication_docs"):
                row = conn.execute("SELECT pg_total_relation_size(%s)", (rel,)).fetchone()
                out[rel] = int(row[0]) if row else 0
            return out


@dataclass(frozen=True)
class NewArticle:
    text: str
    published: datetime
    kind: str  # copy | relayout | fresh
    source_index: int  # the archive article it copies, -1 for fresh


def edited_copy(rng: random.Random, pool: Pool, story: Sequence[int]) -> str:
    """Keep the top 30-100 % of the sentences, drop some middle ones, insert foreign ones, restyle."""
    keep = story[: max(4, int(len(story) * rng.uniform(0.3, 1.0)))]
    kept = [s for k, s in enumerate(keep) if k < 3 or rng.random() > 0.2]
    for _ in range(rng.randint(0, 2)):
        kept.insert(rng.randint(1, len(kept)), rng.randrange(len(pool.sentences)))
    paras = render(pool, kept, rng, boiler=True).split("\n")
    return "\n\n".join(_reword(rng, p) for p in paras)


def _reword(rng: random.Random, paragraph: str) -> str:
    """Drop one word from 15 % of paragraphs and upper-case the paragraph in 10 % (restyling)."""
    words = paragraph.split()
    if len(words) > 8 and rng.random() < 0.15:
        del words[rng.randrange(1, len(words) - 1)]
    text = " ".join(words)
    return text.upper() if rng.random() < 0.1 else text


def make_new(rng: random.Random, archive: Archive, n: int) -> list[NewArticle]:
    out = []
    for k in range(n):
        kind = ("copy", "relayout", "fresh")[k % 3]
        when = START + timedelta(days=rng.uniform(WINDOW, SPAN_DAYS - WINDOW))
        if kind == "fresh":
            text = render(archive.pool, make_article(rng, archive.pool), rng, True)
            out.append(NewArticle(text, when, kind, -1))
            continue
        idx = rng.randrange(len(archive.stories))
        base = archive.stories[idx]
        published = archive.dates[idx] + timedelta(hours=rng.uniform(0.25, 72))
        text = edited_copy(rng, archive.pool, base) if kind == "copy" else _relayout(archive, idx)
        out.append(NewArticle(text, published, kind, idx))
    return out


def _relayout(archive: Archive, idx: int) -> str:
    with psycopg.connect(archive.url) as conn:
        row = conn.execute("SELECT text FROM articles WHERE id = %s", (archive.ids[idx],)).fetchone()
    return str(row[0]).replace("\n", "\n\n") if row else ""


def insert_new(conn: psycopg.Connection[Any], items: Sequence[NewArticle], tag: str) -> list[int]:
    ids = []
    for k, item in enumerate(items):
        row = conn.execute(
            "INSERT INTO articles (url, source, text, word_count, content_hash, extractor, published_at) "
            "VALUES (%s, %s, %s, %s, '', 'bench', %s) RETURNING id",
            (f"https://new.example/{tag}/{k}", "new.example", item.text, len(item.text.split()),
             item.published),
        ).fetchone()
        assert row is not None
        ids.append(int(row[0]))
    conn.commit()
    return ids


def timed_incremental(archive: Archive, items: Sequence[NewArticle], tag: str) -> dict[str, float]:
    """Link the new articles one at a time (each its own transaction); time, check links, roll back."""
    with db.connect(archive.url) as conn:
        ids = insert_new(conn, items, tag)
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()
        backend_pid = int(backend[0]) if backend else 0
        per: list[float] = []
        cpu_started, server_started = time.process_time(), _server_cpu(backend_pid)
        for aid in ids:
            started = time.perf_counter()
            link_articles(conn, [aid], window_days=WINDOW)
            per.append(time.perf_counter() - started)
        client_cpu = time.process_time() - cpu_started
        server_cpu = _server_cpu(backend_pid) - server_started
        found = dict(conn.execute(
            "SELECT m.article_id, s.original_article_id FROM cluster_members m "
            "JOIN story_clusters s ON s.id = m.cluster_id WHERE m.article_id = ANY(%s)", (ids,)).fetchall())
        conn.rollback()
        conn.execute("DELETE FROM articles WHERE id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM syndication_postings WHERE article_id = ANY(%s)", (ids,))
        conn.commit()
    pairs = list(zip(ids, items, strict=True))
    want = [(aid, archive.ids[it.source_index]) for aid, it in pairs if it.kind != "fresh"]
    fresh = [aid for aid, it in pairs if it.kind == "fresh"]
    right = sum(1 for aid, orig in want if found.get(aid) == orig)
    wrong = sum(1 for aid in fresh if aid in found)
    wrong += sum(1 for aid, orig in want if found.get(aid) not in (None, orig))
    per.sort()
    return {
        "ms_mean": 1000 * sum(per) / len(per),
        "ms_p50": 1000 * per[len(per) // 2],
        "ms_p95": 1000 * per[int(len(per) * 0.95)],
        "cpu_ms": 1000 * (client_cpu + server_cpu) / len(ids),
        "client_cpu_ms": 1000 * client_cpu / len(ids),
        "recall": right / len(want) if want else 1.0,
        "false_links": float(wrong),
    }


def _server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backend serving the connection."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # not on this machine (remote server): only the client's CPU is counted
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def brute_force(archive: Archive, items: Sequence[NewArticle]) -> float:
    """Baseline: containment against every archive article in the window; ms per new article."""
    started = time.perf_counter()
    with db.connect(archive.url) as conn:
        for item in items:
            new = prepare(Record("new", item.text, item.published))
            lo, hi = item.published - timedelta(days=WINDOW), item.published + timedelta(days=WINDOW)
            with conn.cursor(name="window") as cur:
                cur.itersize = 2000
                cur.execute("SELECT id, text FROM articles WHERE published_at BETWEEN %s AND %s", (lo, hi))
                for aid, text in cur:
                    compare(new, prepare(Record(str(aid), text)))
            conn.rollback()
    return 1000 * (time.perf_counter() - started) / max(1, len(items))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--new", type=int, default=150, help="new articles linked (timed) at each size")
    parser.add_argument("--baseline-new", type=int, default=5)
    parser.add_argument("--pool", type=int, default=300000, help="sentences in the shared pool")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    pool = make_pool(rng, args.pool)
    took = time.perf_counter() - t0
    print(f"pool: {len(pool.sentences)} sentences, {len(pool.words)} words ({took:.0f} s)")
    archive = Archive(args.admin_url, pool, args.seed)
    archive.create()
    rows = []
    try:
        for n, size in enumerate(sizes):
            built = archive.grow(size)
            items = make_new(rng, archive, args.new)
            rss_before = rss_mb()
            result = timed_incremental(archive, items, f"s{size}")
            result["rss_mb"] = max(rss_before, rss_mb())
            if n == 0:
                result["baseline_ms"] = brute_force(archive, items[: args.baseline_new])
            disk = archive.sizes_on_disk()
            result["postings_mb"] = (disk["syndication_postings"]) / 2**20
            result["build_s"] = built
            rows.append((size, result))
            print(f"size {size:>9,}: {_fmt(result)}", flush=True)
    finally:
        archive.drop()
    _table(rows)


def _fmt(r: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}" for k, v in r.items())


def _table(rows: Sequence[tuple[int, dict[str, float]]]) -> None:
    first = rows[0][1]
    base = first.get("baseline_ms", float("nan"))
    print()
    print("| archive | CPU ms/article (client+server) | vs first size | wall ms mean | p50 | p95 | recall | "
          "false links | postings MB | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size, r in rows:
        print(f"| {size:,} | {r['cpu_ms']:.2f} | {r['cpu_ms'] / first['cpu_ms']:.2f}x | {r['ms_mean']:.2f} | "
              f"{r['ms_p50']:.2f} | {r['ms_p95']:.2f} | {r['recall']:.3f} | {int(r['false_links'])} | "
              f"{r['postings_mb']:.0f} | {r['rss_mb']:.0f} |")
    print(f"\nbaseline (containment against every article in the +-{WINDOW}-day window, no index) at "
          f"{rows[0][0]:,}: {base:.1f} ms/article wall = {base / first['ms_mean']:.0f}x the indexed path")


if __name__ == "__main__":
    main(sys.argv[1:])
