"""Syndication linking on a real PostgreSQL: seeds, idempotence, out-of-order arrival, stable ids."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.syndication import dedup_records, link_articles, prune_postings
from pipeline.syndication.match import Record

SEED_META = {  # file prefix -> (source, published_at)
    "000": ("nytimes.com", datetime(2018, 2, 4, 15, tzinfo=UTC)),
    "001": ("startribune.com", datetime(2018, 2, 5, 11, tzinfo=UTC)),
    "002": ("reuters.com", datetime(2025, 6, 10, 9, tzinfo=UTC)),
    "003": ("washingtonpost.com", datetime(2016, 3, 24, 18, tzinfo=UTC)),
    "004": ("ctc.westpoint.edu", datetime(2017, 12, 15, 12, tzinfo=UTC)),
}


def insert_article(conn: psycopg.Connection[Any], url: str, source: str, text: str, published: datetime | None) -> int:
    row = conn.execute(
        "INSERT INTO articles (url, source, text, word_count, content_hash, extractor, published_at) "
        "VALUES (%s, %s, %s, %s, %s, 'test', %s) RETURNING id",
        (url, source, text, len(text.split()), hashlib.sha256(text.encode()).hexdigest(), published),
    ).fetchone()
    assert row is not None
    return int(row[0])


def members(conn: psycopg.Connection[Any]) -> dict[int, tuple[int, str, float]]:
    rows = conn.execute("SELECT article_id, cluster_id, relation, similarity FROM cluster_members").fetchall()
    return {aid: (cid, rel, sim) for aid, cid, rel, sim in rows}


def originals(conn: psycopg.Connection[Any]) -> dict[int, int]:
    return dict(conn.execute("SELECT id, original_article_id FROM story_clusters").fetchall())


def own_story(first: int, count: int = 3) -> str:
    """A long story of our own writing: the bodies of `count` demo-site news articles, one paragraph
    a line (the demo site's texts are written for this project, so these tests need no shared data)."""
    from pipeline.demo import DemoSite

    news = [a for a in DemoSite().articles if a.kind == "news"]
    return "\n".join(p for a in news[first : first + count] for p in a.body_paragraphs)


def demo_pair() -> tuple[str, str]:
    """The demo site's syndicated copy and its original (texts written for this project)."""
    from pipeline.demo import DemoSite

    articles = {a.slug: a for a in DemoSite().articles}
    copy = next(a for a in articles.values() if a.kind == "copy")
    original = articles[copy.original_slug or ""]
    return "\n".join(original.body_paragraphs), "\n".join(copy.body_paragraphs)


def load_seeds(conn: psycopg.Connection[Any], seeds_dir: Path, order: list[str]) -> dict[str, int]:
    ids = {}
    for prefix in order:
        path = next(seeds_dir.glob(f"{prefix}_*.txt"))
        source, published = SEED_META[prefix]
        text = path.read_text(encoding="utf-8")
        ids[prefix] = insert_article(conn, f"https://{source}/seed-{prefix}", source, text, published)
    return ids


def test_seed_copy_linked_to_nyt_original_and_nothing_else(conn: psycopg.Connection[Any], seeds_dir: Path) -> None:
    ids = load_seeds(conn, seeds_dir, ["000", "001", "002", "003", "004"])
    counts = link_articles(conn, list(ids.values()))
    got = members(conn)
    assert set(got) == {ids["000"], ids["001"]}
    assert got[ids["000"]][1] == "original"
    assert got[ids["001"]][1] == "copy"
    assert got[ids["000"]][0] == got[ids["001"]][0]
    assert 0.4 < got[ids["001"]][2] < 0.7  # containment of the copy in the original (~0.46-0.49)
    assert originals(conn) == {got[ids["000"]][0]: ids["000"]}
    assert counts["singleton"] == 3 and counts["copy"] == 1 and counts["indexed"] == 5
    dropped, added = conn.execute(
        "SELECT dropped, added FROM cluster_members WHERE article_id = %s", (ids["001"],)
    ).fetchone() or ([], [])
    assert any("Nielsen" in p for p in added)  # the inserted quote is reported as added
    assert len(dropped) > 10  # the copy kept only the top of the 23-paragraph story


def test_rerun_changes_nothing(conn: psycopg.Connection[Any]) -> None:
    original, copy = demo_pair()
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    ids = {
        "original": insert_article(conn, "https://ledger.example/o", "ledger.example", original, t0),
        "copy": insert_article(conn, "https://partner.example/c", "partner.example", copy, t0 + timedelta(hours=7)),
        "other": insert_article(conn, "https://other.example/x", "other.example", own_story(6), t0),
    }
    link_articles(conn, list(ids.values()))
    assert members(conn)[ids["copy"]][1] == "copy"
    before = conn.execute("SELECT * FROM cluster_members ORDER BY article_id").fetchall()
    clusters = conn.execute("SELECT * FROM story_clusters ORDER BY id").fetchall()
    postings = conn.execute("SELECT count(*) FROM syndication_postings").fetchone()
    counts = link_articles(conn, list(ids.values()))
    assert counts.get("indexed", 0) == 0 and counts["unchanged"] == 3
    assert conn.execute("SELECT * FROM cluster_members ORDER BY article_id").fetchall() == before
    assert conn.execute("SELECT * FROM story_clusters ORDER BY id").fetchall() == clusters
    assert conn.execute("SELECT count(*) FROM syndication_postings").fetchone() == postings


def test_earlier_original_arriving_later_takes_over_and_cluster_id_stays(conn: psycopg.Connection[Any]) -> None:
    text = own_story(0)
    paras = [p for p in text.splitlines() if p.strip()]
    t0 = datetime(2018, 2, 4, 15, tzinfo=UTC)
    # Two copies arrive first (a nightly run), the original is backfilled later.
    copy_a = "\n".join(["Advertisement", *paras[:6], "Distributed by Tribune Content Agency, LLC."])
    copy_b = "\n\n".join(p.replace("American", "U.S.") for p in paras[:10])
    a = insert_article(conn, "https://a.example/story", "a.example", copy_a, t0 + timedelta(hours=5))
    b = insert_article(conn, "https://b.example/story", "b.example", copy_b, t0 + timedelta(days=1))
    link_articles(conn, [a, b])
    first = members(conn)
    assert first[a][0] == first[b][0]
    cluster = first[a][0]
    assert originals(conn) == {cluster: a}  # the earliest known so far

    nyt = insert_article(conn, "https://nytimes.com/story", "nytimes.com", text, t0)
    counts = link_articles(conn, [nyt])
    assert counts["original"] == 1
    got = members(conn)
    assert {got[x][0] for x in (a, b, nyt)} == {cluster}
    assert originals(conn) == {cluster: nyt}
    assert got[a][1] == got[b][1] == "copy"
    # Rerunning the whole day again mints nothing new.
    link_articles(conn, [a, b, nyt])
    assert originals(conn) == {cluster: nyt}


def test_two_clusters_merge_into_the_oldest_id(conn: psycopg.Connection[Any]) -> None:
    text = own_story(0, 4)
    paras = [p for p in text.splitlines() if p.strip()]
    t0 = datetime(2018, 2, 4, 15, tzinfo=UTC)
    # Two short excerpts that do not link to each other (different parts) ...
    parts = {"h": paras[:5], "t": paras[12:18], "h2": paras[:6], "t2": paras[12:19]}
    head, tail, head2, tail2 = (
        insert_article(conn, f"https://{k}.example/1", f"{k}.example", "\n".join(v), t0 + timedelta(hours=n))
        for n, (k, v) in enumerate(parts.items(), start=2)
    )
    link_articles(conn, [head, tail, head2, tail2])
    before = members(conn)
    assert before[head][0] != before[tail][0]
    oldest = min(before[head][0], before[tail][0])
    # ... until the full story arrives and joins them.
    full = insert_article(conn, "https://nytimes.com/2", "nytimes.com", text, t0)
    link_articles(conn, [full])
    after = members(conn)
    assert {after[x][0] for x in (head, tail, head2, tail2, full)} == {oldest}
    assert originals(conn) == {oldest: full}


def test_exact_duplicate_and_url_alias(conn: psycopg.Connection[Any]) -> None:
    text = own_story(3)
    t0 = datetime(2016, 3, 24, 18, tzinfo=UTC)
    first = insert_article(conn, "https://washingtonpost.com/x", "washingtonpost.com", text, t0)
    # The same text re-laid out (blank lines, curly quotes straightened) by an aggregator.
    relaid = text.replace("\n", "\n\n").replace("\u2019", "'")
    dup = insert_article(conn, "https://agg.example/x", "agg.example", relaid, t0 + timedelta(hours=1))
    # An unrelated text stored under a URL the first article is also known by (its short link).
    other_text = own_story(7, 2)
    other_url = "https://wapo.st/abc"
    other = insert_article(conn, other_url, "washingtonpost.com", other_text, t0)
    conn.execute("INSERT INTO article_urls (url, article_id, kind) VALUES (%s, %s, 'x')", (other_url, first))
    counts = link_articles(conn, [first, dup, other])
    got = members(conn)
    assert got[dup][1] == "duplicate" and got[dup][2] == pytest.approx(1.0)
    assert got[other][1] == "duplicate" and got[other][0] == got[first][0]
    assert got[first][1] == "original"
    assert counts["duplicate"] == 2 and counts["original"] == 1


def test_same_event_different_outlets_stay_apart(conn: psycopg.Connection[Any]) -> None:
    t0 = datetime(2024, 12, 13, 9, tzinfo=UTC)
    reuters = (
        "BAGHDAD (Reuters) - Iraqi security forces killed a suspected Islamic State suicide bomber at a "
        "restaurant in the northern town of Daquq on Friday, two security officials said.\n"
        "The man, who was wearing an explosive belt, was shot before he could detonate it, the officials "
        "said, adding that no civilians were hurt in the incident.\n"
        "Islamic State has been weakened since its defeat in 2017 but sleeper cells still stage "
        "hit-and-run attacks in the countryside of Kirkuk and Salahuddin provinces.\n"
        "Security forces have stepped up checkpoints across the province in recent weeks, a police "
        "spokesman said, after intelligence pointed to plans for attacks during the holidays."
    )
    local = (
        "Security forces in Kirkuk province said Friday they had foiled a suicide attack in Daquq, where a "
        "man wearing an explosive belt entered a crowded restaurant at lunchtime.\n"
        "According to a statement from the Joint Operations Command, officers opened fire and killed the "
        "attacker before he could detonate the belt. No civilians were hurt, the statement said.\n"
        "Residents told our correspondent that the restaurant, popular with travellers on the Baghdad "
        "road, was closed by police for the rest of the day.\n"
        "The Islamic State group, defeated in 2017, still stages hit-and-run attacks in the countryside "
        "of Kirkuk and Salahuddin provinces, security officials said."
    )
    a = insert_article(conn, "https://reuters.com/daquq", "reuters.com", reuters, t0)
    b = insert_article(conn, "https://shafaq.com/daquq", "shafaq.com", local, t0 + timedelta(hours=3))
    counts = link_articles(conn, [a, b])
    assert counts["singleton"] == 2
    assert members(conn) == {}


def test_window_limits_matching(conn: psycopg.Connection[Any]) -> None:
    text = own_story(0)
    t0 = datetime(2018, 2, 4, 15, tzinfo=UTC)
    a = insert_article(conn, "https://nytimes.com/w", "nytimes.com", text, t0)
    later = t0 + timedelta(days=45)
    late = insert_article(conn, "https://late.example/w", "late.example", text[:3000], later)
    assert link_articles(conn, [a, late], window_days=30)["singleton"] == 2
    assert link_articles(conn, [late], window_days=60)["copy"] == 1


def test_missing_and_empty_articles_are_counted(conn: psycopg.Connection[Any]) -> None:
    empty = insert_article(conn, "https://x.example/empty", "x.example", "  \n -- \n", None)
    counts = link_articles(conn, [empty, 987654321])
    assert counts == {"skip:no_text": 1, "skip:missing": 1}


def test_prune_postings_removes_only_postings_of_deleted_articles(conn: psycopg.Connection[Any]) -> None:
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    keep = insert_article(conn, "https://a.example/keep", "a.example", own_story(0), t0)
    gone = insert_article(conn, "https://b.example/gone", "b.example", own_story(6), t0)
    link_articles(conn, [keep, gone])
    count = "SELECT count(*) FROM syndication_postings WHERE article_id = %s"
    kept_before = (conn.execute(count, (keep,)).fetchone() or [0])[0]
    assert kept_before > 0 and (conn.execute(count, (gone,)).fetchone() or [0])[0] > 0
    conn.execute("DELETE FROM articles WHERE id = %s", (gone,))  # cascades to syndication_docs only
    assert (conn.execute(count, (gone,)).fetchone() or [0])[0] > 0
    removed = prune_postings(conn)
    assert removed > 0
    assert (conn.execute(count, (gone,)).fetchone() or [1])[0] == 0
    assert (conn.execute(count, (keep,)).fetchone() or [0])[0] == kept_before
    assert prune_postings(conn) == 0


def test_database_and_in_memory_linkers_agree(conn: psycopg.Connection[Any], seeds_dir: Path) -> None:
    """Both paths call the same core: the same clusters and originals on the seeds plus our own copies."""
    ids = load_seeds(conn, seeds_dir, ["000", "001", "002", "003", "004"])
    original, copy = demo_pair()
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    ids["demo_o"] = insert_article(conn, "https://ledger.example/o", "ledger.example", original, t0)
    ids["demo_c"] = insert_article(conn, "https://partner.example/c", "partner.example", copy, t0 + timedelta(hours=7))
    link_articles(conn, list(ids.values()))
    rows = conn.execute("SELECT id, url, source, text, published_at FROM articles").fetchall()
    records = [Record(str(i), text, published, source, url) for i, url, source, text, published in rows]
    memory = {a.key: a for a in dedup_records(records)}
    db = members(conn)
    originals_db = originals(conn)
    for aid in ids.values():
        a = memory[str(aid)]
        in_memory_cluster = {int(k) for k, m in memory.items() if m.cluster_id == a.cluster_id}
        if aid in db:
            in_db_cluster = {k for k, m in db.items() if m[0] == db[aid][0]}
            assert in_db_cluster == in_memory_cluster
            assert originals_db[db[aid][0]] == int(a.canonical_id)
            assert db[aid][1] == a.relation
        else:
            assert in_memory_cluster == {aid}


def test_migration_0070_converts_the_old_index_in_one_transaction(pg_admin_url: str, tmp_path: Path) -> None:
    """An index written in the 0030 format (64-bit fingerprints, the whole bounded subset) is converted to
    exactly what the linker now posts; an interrupted migration changes nothing; a rerun is a no-op."""
    from psycopg import sql

    from pipeline import db
    from pipeline.syndication.core import day_of, postings
    from pipeline.syndication.match import index_subset, prepare

    old_sql = tmp_path / "sql"
    old_sql.mkdir()
    for path in db.sql_dir().glob("*.sql"):
        if path.name < "0070":
            (old_sql / path.name).write_text(path.read_text())
    name = f"newsflow_t_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(pg_admin_url)
    info["dbname"] = name
    try:
        with db.connect(psycopg.conninfo.make_conninfo(**info)) as conn:
            db.migrate(conn, old_sql)
            original, copy = demo_pair()
            t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
            t1 = t0 + timedelta(hours=7)
            texts = {
                insert_article(conn, "https://ledger.example/o", "ledger.example", original, t0): original,
                insert_article(conn, "https://partner.example/c", "partner.example", copy, t1): copy,
                insert_article(conn, "https://other.example/x", "other.example", own_story(6), t0): own_story(6),
            }
            day = day_of(t0)
            prepared = {aid: prepare(Record(str(aid), text, t0)) for aid, text in texts.items()}
            for aid, p in prepared.items():  # the index as the 0030 linker wrote it
                old = sorted(set(index_subset(p.fps)))
                conn.execute(
                    "INSERT INTO syndication_docs (article_id, day, text_hash, fps) VALUES (%s, %s, %s, %s)",
                    (aid, day, p.text_hash, old),
                )
                conn.execute(
                    "INSERT INTO syndication_postings (fp, day, article_id) "
                    "SELECT f, %s, %s FROM unnest(%s::bigint[]) f",
                    (day, aid, old),
                )
            conn.execute("INSERT INTO syndication_postings VALUES (12345, %s, 999999)", (day,))  # a deleted article's
            conn.commit()
            before = conn.execute("SELECT * FROM syndication_postings ORDER BY 1, 3").fetchall()
            assert any(fp > 2**31 or fp < -(2**31) for fp, _, _ in before)  # really 64-bit

            migration = next(m for m in db.list_migrations() if m.version == "0070")
            with pytest.raises(RuntimeError), conn.transaction():  # killed before its commit
                conn.execute(migration.text.encode())
                raise RuntimeError("killed")
            assert conn.execute("SELECT * FROM syndication_postings ORDER BY 1, 3").fetchall() == before

            assert "0070_syndication_index_int4" in db.migrate(conn)
            for aid, p in prepared.items():
                row = conn.execute("SELECT fps FROM syndication_docs WHERE article_id = %s", (aid,)).fetchone()
                assert row is not None and row[0] == postings(p)
                posted = conn.execute(
                    "SELECT fp FROM syndication_postings WHERE article_id = %s ORDER BY fp", (aid,)
                ).fetchall()
                assert [r[0] for r in posted] == postings(p) and len(posted) < len(index_subset(p.fps))
            assert conn.execute("SELECT count(*) FROM syndication_postings WHERE article_id = 999999").fetchone() == (
                0,
            )
            counts = link_articles(conn, list(texts))
            assert counts["unchanged"] == 3 and counts.get("indexed", 0) == 0
            assert counts["copy"] == 1
            assert db.migrate(conn) == []
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_copy_that_changed_a_figure_says_which_paragraph(conn: psycopg.Connection[Any]) -> None:
    """The copy keeps the story but says "nine soldiers" where the original said "seven": the paragraph
    is kept (not dropped or added), and cluster_members.changed shows both versions."""
    story = own_story(0, 2)
    lede = "Islamic State militants attacked an army checkpoint near Daquq on Monday, killing seven soldiers."
    edited = lede.replace("seven", "nine")
    day = datetime(2026, 3, 10, tzinfo=UTC)
    original = insert_article(conn, "https://wire.example/a", "wire.example", f"{lede}\n{story}", day)
    later = day + timedelta(hours=3)
    copy = insert_article(conn, "https://copy.example/a", "copy.example", f"{edited}\n{story}", later)
    restyled_text = f"{lede.replace('seven', '7')}\n{story}"
    restyled = insert_article(conn, "https://style.example/a", "style.example", restyled_text, later)
    link_articles(conn, [original, copy, restyled])
    rows = dict(conn.execute("SELECT article_id, changed FROM cluster_members").fetchall())
    assert rows[copy] == [{"original": lede, "copy": edited}]
    assert rows[restyled] == [], "7 for seven is the same figure"
    assert rows[original] == []
