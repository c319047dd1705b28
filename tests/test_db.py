"""Migrations: applied in order, recorded, idempotent."""

import uuid
from contextlib import contextmanager

import psycopg
from psycopg import sql

from pipeline import db


@contextmanager
def empty_database(pg_admin_url):
    """A connection to a new database without any migration; dropped afterwards."""
    name = f"newsflow_m_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        info = psycopg.conninfo.conninfo_to_dict(pg_admin_url)
        info["dbname"] = name
        with db.connect(psycopg.conninfo.make_conninfo(**info)) as conn:
            yield conn
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_migrate_is_idempotent(conn):
    assert db.migrate(conn) == []  # the template already applied everything
    statuses = db.status(conn)
    assert statuses and all(s.applied_at for s in statuses)
    assert not any(s.changed for s in statuses)


def test_fresh_database_gets_every_migration(pg_admin_url):
    with empty_database(pg_admin_url) as conn:
        applied = db.migrate(conn)
        assert applied == [f"{m.version}_{m.name}" for m in db.list_migrations()]
        assert db.pending(conn) == []
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        assert {"feeds", "articles", "story_clusters", "events", "pipeline_runs", "article_work"} <= tables


def test_work_state_lives_beside_the_article_and_changing_it_leaves_the_article_row_alone(conn):
    """Every article gets its `article_work` row whatever inserts it, loses it with the article, and
    the stages' state changes do not write a new version of the (wide, full-text indexed) article row."""
    from pipeline.classify.store import forget_labels
    from pipeline.events.store import mark_read
    from pipeline.syndication.store import mark_linked

    (article_id,) = conn.execute(
        """INSERT INTO articles (url, source, title, text, word_count, content_hash, extractor)
           VALUES ('https://example.org/w', 'example.org', 'T', 'some words here', 3, md5('x'), 'test')
           RETURNING id"""
    ).fetchone()
    work = "SELECT classify_state, link_state, events_state FROM article_work WHERE article_id = %s"
    assert conn.execute(work, (article_id,)).fetchall() == [("pending", "pending", "pending")]
    conn.commit()
    version = conn.execute("SELECT xmin::text FROM articles WHERE id = %s", (article_id,)).fetchone()
    mark_linked(conn, [article_id])
    mark_read(conn, [article_id])
    forget_labels(conn, [article_id])
    conn.commit()
    assert conn.execute(work, (article_id,)).fetchall() == [("pending", "done", "done")]
    assert conn.execute("SELECT xmin::text FROM articles WHERE id = %s", (article_id,)).fetchone() == version
    conn.execute("DELETE FROM articles WHERE id = %s", (article_id,))
    assert conn.execute(work, (article_id,)).fetchall() == []


def test_the_work_state_migration_keeps_each_articles_states(pg_admin_url, tmp_path):
    """0090 moves the three states out of `articles` as they were (an archive mid-way through its
    stages resumes where it was)."""
    import shutil

    before, upto = tmp_path / "before", tmp_path / "upto"
    before.mkdir()
    upto.mkdir()
    for m in db.list_migrations():
        if m.version <= "0090":
            shutil.copy(m.path, (before if m.version < "0090" else upto) / m.path.name)
            shutil.copy(m.path, upto / m.path.name)
    with empty_database(pg_admin_url) as conn:
        db.migrate(conn, before)
        states = {"a": ("done", "done", "pending"), "b": ("pending", "pending", "done")}
        for key, (classify, link, events) in states.items():
            conn.execute(
                """INSERT INTO articles (url, source, text, word_count, content_hash, extractor, classify_state,
                                         link_state, events_state)
                   VALUES (%s, 'example.org', 'words', 1, md5(%s), 'test', %s, %s, %s)""",
                (f"https://example.org/{key}", key, classify, link, events),
            )
        conn.commit()
        assert db.migrate(conn, upto) == ["0090_article_work"]
        moved = conn.execute(
            """SELECT substr(a.url, 21), w.classify_state, w.link_state, w.events_state
               FROM article_work w JOIN articles a ON a.id = w.article_id ORDER BY a.url"""
        ).fetchall()
        assert moved == [(key, *found) for key, found in sorted(states.items())]
        columns = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'articles'")}  # fmt: skip
        assert not columns & {"classify_state", "link_state", "events_state"}


def test_the_toll_migration_sets_each_events_toll_to_the_median_of_its_reports(pg_admin_url, tmp_path):
    """0095: an event's killed was the largest figure of any report; it becomes the lower median, and
    v_events shows the lowest and highest reported."""
    import shutil

    before, upto = tmp_path / "before", tmp_path / "upto"
    before.mkdir()
    upto.mkdir()
    for m in db.list_migrations():
        if m.version <= "0095":
            shutil.copy(m.path, upto / m.path.name)
        if m.version < "0095":
            shutil.copy(m.path, before / m.path.name)
    with empty_database(pg_admin_url) as conn:
        db.migrate(conn, before)
        ids = [
            conn.execute(
                """INSERT INTO articles (url, source, text, word_count, content_hash, extractor)
                   VALUES (%s, %s, 'words', 1, md5(%s), 'test') RETURNING id""",
                (f"https://{k}.example/a", f"{k}.example", k),
            ).fetchone()[0]
            for k in ("one", "two", "three")
        ]
        event = conn.execute(
            """INSERT INTO events (event_key, event_type, event_date, date_precision, killed, extractor)
               VALUES ('k', 'Battles', '2024-03-04', 'day', 90000, 'test') RETURNING id"""
        ).fetchone()[0]
        for article_id, killed in zip(ids, (7, 90000, 9), strict=True):
            conn.execute(
                "INSERT INTO event_mentions (event_id, article_id, sentence, killed) VALUES (%s, %s, 's', %s)",
                (event, article_id, killed),
            )
        conn.commit()
        assert db.migrate(conn, upto) == ["0095_event_tolls"]
        row = conn.execute("SELECT killed, killed_low, killed_high, killed_reports FROM v_events").fetchone()
        assert row == (9, 7, 90000, 3)
