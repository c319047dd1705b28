"""Bulk loads: COPY into a staging table and one merge per batch, beside the former row-by-row writes.

    .venv/bin/python bench/load.py [--rows 20000] [--batch 500] [--repeat 3] [--admin-url URL]

Creates its own database (newsflow_bench_load_<pid>), applies the migrations, drops it at the end.
For each table the same N rows are loaded both ways in the same run, in batches of `--batch` rows
(one call and one transaction per batch, as the pipeline calls them), into an emptied table each time;
best of `--repeat` (the machine is shared: other jobs only ever add time). Both ways must leave the
same rows. Wall-clock time of the client's calls, so the server's work is included.

- frontier: `fetch.store.add_to_frontier` (URLs from feeds, sitemaps, URL lists), vs one
  `INSERT ... WHERE NOT EXISTS ... ON CONFLICT DO NOTHING` per URL (the former code);
- raw_pages: `fetch.store.store_raw_pages` (backfill of WARC/HTML archives; 2 KB bodies, gzip in both),
  vs `raw_page_id` + `store_raw_page` per page (the former backfill path, still the fetcher's per-response
  write);
- article_topics: `classify.store._store` (labels, decisions, relevance flags: three tables), vs the
  former `executemany` of the three upserts;
- event_mentions: `events.store.write_mentions`, vs one `INSERT ... ON CONFLICT DO NOTHING` per mention;
- site_paragraphs: `extract.store.update_site_profile` (pages of one site, 12 paragraphs each, 4 of
  them shared by every page), vs the former per-page insert and per-paragraph `executemany`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from pipeline import db
from pipeline.classify.models import Labels
from pipeline.classify.store import _store as store_labels
from pipeline.events.rules import Mention
from pipeline.events.store import write_mentions
from pipeline.extract.boilerplate import SiteProfile, page_id
from pipeline.extract.store import _paragraphs, load_site_profile, update_site_profile
from pipeline.fetch.store import FrontierItem, add_to_frontier, raw_page_id, store_raw_pages
from pipeline.urls import normalize_url

Conn = psycopg.Connection[Any]
TOPICS = [f"topic_{k}" for k in range(8)]


# --- the former row-by-row writes (as they were before the COPY merges) ----------------------------------


def frontier_row_by_row(conn: Conn, items: Sequence[FrontierItem]) -> dict[str, int]:
    counts = {"new": 0, "known": 0}
    with conn.cursor() as cur:
        for item in sorted(items, key=lambda i: i.url):
            cur.execute(
                """INSERT INTO frontier (url, feed_id, source, title_hint, published_hint)
                   SELECT %s, %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM article_urls WHERE url = %s)
                   ON CONFLICT (url) DO NOTHING""",
                (item.url, item.feed_id, item.source, item.title_hint, item.published_hint, item.url),
            )
            counts["new" if cur.rowcount else "known"] += 1
    return counts


def raw_pages_row_by_row(conn: Conn, pages: Sequence[dict[str, Any]]) -> list[tuple[int | None, bool]]:
    out: list[tuple[int | None, bool]] = []
    for page in pages:
        before = raw_page_id(conn, page["url"])
        if before is not None:
            out.append((before, False))
            continue
        body = page["body"]
        row = conn.execute(
            """INSERT INTO raw_pages (url, final_url, status, content_type, charset, headers, body_gz,
                                      body_sha256, body_bytes, source, fetched_at)
               VALUES (%s, NULL, 200, 'text/html', %s, %s, %s, %s, %s, 'bench', now())
               ON CONFLICT (url) DO NOTHING RETURNING id""",
            (normalize_url(page["url"]), page["charset"], json.dumps({}), gzip.compress(body, compresslevel=6),
             hashlib.sha256(body).hexdigest(), len(body)),
        ).fetchone()  # fmt: skip
        out.append((int(row[0]) if row else raw_page_id(conn, normalize_url(page["url"])), True))
    return out


def labels_row_by_row(conn: Conn, ids: list[int], labels: list[Labels], version: str, thash: str) -> int:
    new = {(aid, t): s for aid, lab in zip(ids, labels, strict=True) for t, s in lab.topics}
    with conn.cursor() as cur:
        cur.execute("SELECT article_id, topic_id FROM article_topics WHERE article_id = ANY(%s)", (ids,))
        old = {(a, t) for a, t in cur.fetchall()}
        gone = sorted(old - new.keys())
        if gone:
            cur.executemany("DELETE FROM article_topics WHERE article_id = %s AND topic_id = %s", gone)
        cur.executemany(
            """INSERT INTO article_topics (article_id, topic_id, score, classifier_version, taxonomy_hash)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (article_id, topic_id) DO UPDATE SET score = EXCLUDED.score,
                   classifier_version = EXCLUDED.classifier_version, taxonomy_hash = EXCLUDED.taxonomy_hash,
                   labelled_at = now()
               WHERE (article_topics.score, article_topics.classifier_version, article_topics.taxonomy_hash)
                 IS DISTINCT FROM (EXCLUDED.score, EXCLUDED.classifier_version, EXCLUDED.taxonomy_hash)""",
            [(a, t, s, version, thash) for (a, t), s in sorted(new.items())],
        )
        cur.executemany(
            """INSERT INTO article_classifications (article_id, relevant, classifier_version, taxonomy_hash)
               VALUES (%s, %s, %s, %s)
               ON CONFLICT (article_id) DO UPDATE SET relevant = EXCLUDED.relevant,
                   classifier_version = EXCLUDED.classifier_version, taxonomy_hash = EXCLUDED.taxonomy_hash,
                   classified_at = now()
               WHERE (article_classifications.relevant, article_classifications.classifier_version,
                      article_classifications.taxonomy_hash)
                     IS DISTINCT FROM (EXCLUDED.relevant, EXCLUDED.classifier_version, EXCLUDED.taxonomy_hash)""",
            [(aid, lab.relevant, version, thash) for aid, lab in zip(ids, labels, strict=True)],
        )
        cur.executemany(
            "UPDATE articles SET relevant = %s, updated_at = now() WHERE id = %s AND relevant IS DISTINCT FROM %s",
            [(lab.relevant, aid, lab.relevant) for aid, lab in zip(ids, labels, strict=True)],
        )
    return len(gone) + len(new.keys() - old)


def mentions_row_by_row(conn: Conn, found: Sequence[tuple[int, int, Mention]]) -> int:
    new = 0
    for event_id, article_id, m in found:
        cur = conn.execute(
            """INSERT INTO event_mentions (event_id, article_id, sentence, killed, injured, detained)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (event_id, article_id) DO NOTHING""",
            (event_id, article_id, m.sentence, m.counts.get("killed"), m.counts.get("injured"), None),
        )
        new += cur.rowcount
    return new


def profile_row_by_row(conn: Conn, source: str, texts: Sequence[str]) -> int:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('site_profile:' || %s))", (source,))
        profile = load_site_profile(conn, source) or SiteProfile()
        added = [t for t in texts if profile.add_page(t)]
        for text in added:
            paragraphs = _paragraphs(text)
            cur.execute(
                "INSERT INTO site_profile_pages (source, page_id, paragraphs) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (source, page_id(text), len(paragraphs)),
            )
            cur.executemany(
                "INSERT INTO site_paragraphs (source, para_key, pages, words, example) VALUES (%s, %s, 1, %s, %s)"
                " ON CONFLICT (source, para_key) DO UPDATE"
                " SET pages = site_paragraphs.pages + 1, last_seen = now()",
                [(source, key, words, example) for key, (words, example) in paragraphs.items()],
            )
    return len(added)


# --- the rows ----------------------------------------------------------------------------------------------


class _FakeMention:
    """What `write_mentions` reads of a mention: its sentence and counts."""

    def __init__(self, n: int) -> None:
        self.sentence = f"Gunmen attacked checkpoint {n} near the river on Tuesday, officials said."
        self.counts = {"killed": n % 7, "injured": n % 3}


def rows_for(kind: str, n: int, articles: int) -> list[Any]:
    if kind == "frontier":
        return [FrontierItem(f"https://site{k % 50}.example/news/{k}", "bench", title_hint=f"t{k}") for k in range(n)]
    if kind == "raw_pages":
        body = ("<html><body>" + "<p>Paragraph of the story with some words.</p>" * 45 + "</body></html>").encode()
        return [{"url": f"https://site{k % 50}.example/p/{k}", "body": body + str(k).encode(), "charset": "utf-8"}
                for k in range(n)]  # fmt: skip
    if kind == "article_topics":  # n labels: 2 per article
        return [(k + 1, Labels([(TOPICS[k % 8], 0.7), (TOPICS[(k + 3) % 8], 0.55)], k % 4 != 0)) for k in range(n // 2)]
    if kind == "event_mentions":
        return [(1 + k % 500, 1 + (k // 500) % articles, _FakeMention(k)) for k in range(n)]
    if kind == "site_paragraphs":  # n paragraph rows: 12 per page
        shared = [f"Shared footer line {s} of the site, with a few words in it." for s in range(4)]
        pages = []
        for p in range(max(1, n // 12)):
            own = [f"Page {p} paragraph {q} tells its own part of the story in words." for q in range(8)]
            pages.append("\n".join(own + shared))
        return pages
    raise ValueError(kind)


def load(kind: str, conn: Conn, batch: Sequence[Any], bulk: bool) -> None:
    if kind == "frontier":
        (add_to_frontier if bulk else frontier_row_by_row)(conn, batch)
    elif kind == "raw_pages":
        if bulk:
            store_raw_pages(conn, batch, source="bench")
        else:
            raw_pages_row_by_row(conn, batch)
    elif kind == "article_topics":
        ids, labels = [a for a, _ in batch], [lab for _, lab in batch]
        (store_labels if bulk else labels_row_by_row)(conn, ids, labels, "v1", "h1")
    elif kind == "event_mentions":
        (write_mentions if bulk else mentions_row_by_row)(conn, batch)
    elif kind == "site_paragraphs":
        (update_site_profile if bulk else profile_row_by_row)(conn, "site.example", batch)
    conn.commit()


TABLES = {  # raw_pages last: emptying it (TRUNCATE ... CASCADE) empties the articles that may refer to it
    "frontier": ["frontier"],
    "article_topics": ["article_topics", "article_classifications"],
    "event_mentions": ["event_mentions"],
    "site_paragraphs": ["site_paragraphs", "site_profile_pages"],
    "raw_pages": ["raw_pages"],
}
SNAPSHOT = {
    "frontier": "SELECT url, source, title_hint FROM frontier ORDER BY url",
    "raw_pages": "SELECT url, body_sha256, body_bytes, charset FROM raw_pages ORDER BY url",
    "article_topics": "SELECT article_id, topic_id, score FROM article_topics ORDER BY 1, 2",
    "event_mentions": "SELECT event_id, article_id, sentence, killed FROM event_mentions ORDER BY 1, 2",
    "site_paragraphs": "SELECT para_key, pages, words, example FROM site_paragraphs ORDER BY 1",
}


def run(conn: Conn, kind: str, rows: Sequence[Any], batch: int, bulk: bool) -> tuple[float, list[Any]]:
    for table in TABLES[kind]:
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.Identifier(table)))
    conn.execute("UPDATE articles SET relevant = NULL")
    conn.commit()
    per_call = max(1, batch // 12) if kind == "site_paragraphs" else batch // 2 if kind == "article_topics" else batch
    started = time.perf_counter()
    for k in range(0, len(rows), per_call):
        load(kind, conn, rows[k : k + per_call], bulk)
    elapsed = time.perf_counter() - started
    return elapsed, conn.execute(SNAPSHOT[kind]).fetchall()


def prepare_db(conn: Conn, articles: int) -> None:
    with conn.cursor() as cur:
        cur.execute("ALTER TABLE articles ALTER COLUMN id SET GENERATED BY DEFAULT")
        columns = "id, url, source, text, word_count, content_hash, extractor"
        with cur.copy(f"COPY articles ({columns}) FROM STDIN") as cp:
            for k in range(1, articles + 1):
                cp.write_row((k, f"https://site.example/a/{k}", "site.example", "text", 1, str(k), "bench"))
        cur.executemany("INSERT INTO topics (id, label) VALUES (%s, %s)", [(t, t) for t in TOPICS])
        cur.executemany(
            "INSERT INTO events (event_key, event_type, date_precision, extractor) VALUES (%s, 'attack', 'day', 'b')",
            [(f"e{k}",) for k in range(500)],
        )
    conn.commit()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="rows per call (one transaction each)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(TABLES))
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    name = f"newsflow_bench_load_{os.getpid()}"
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(args.admin_url)
    info["dbname"] = name
    results = []
    try:
        with db.connect(psycopg.conninfo.make_conninfo(**info)) as conn:
            db.migrate(conn)
            articles = max(1000, args.rows // 2)
            prepare_db(conn, articles)
            for kind in args.kinds.split(","):
                rows = rows_for(kind, args.rows, articles)
                best: dict[bool, float] = {}
                snaps: dict[bool, list[Any]] = {}
                for _ in range(args.repeat):
                    for bulk in (False, True):
                        elapsed, snaps[bulk] = run(conn, kind, rows, args.batch, bulk)
                        best[bulk] = min(best.get(bulk, float("inf")), elapsed)
                if snaps[True] != snaps[False]:
                    raise RuntimeError(f"{kind}: the two ways left different rows")
                n = len(snaps[True]) if kind != "site_paragraphs" else len(rows) * 12
                results.append((kind, n, best[False], best[True]))
                print(json.dumps({"kind": kind, "rows": n, "row_by_row_s": best[False], "copy_s": best[True]}),
                      flush=True)  # fmt: skip
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    _table(results, args.batch)


def _table(results: Sequence[tuple[str, int, float, float]], batch: int) -> None:
    print(f"\n| table (rows per call: {batch}) | rows | row by row rows/s | COPY + merge rows/s | ratio |")
    print("|---|---|---|---|---|")
    for kind, n, slow, fast in results:
        print(f"| {kind} | {n:,} | {n / slow:,.0f} | {n / fast:,.0f} | {slow / fast:.1f}x |")


if __name__ == "__main__":
    main(sys.argv[1:])
