"""Migrations: applied in order, recorded, idempotent."""

from pipeline import db


def test_migrate_is_idempotent(conn):
    assert db.migrate(conn) == []  # the template already applied everything
    statuses = db.status(conn)
    assert statuses and all(s.applied_at for s in statuses)
    assert not any(s.changed for s in statuses)


def test_fresh_database_gets_every_migration(pg_admin_url):
    import uuid

    import psycopg
    from psycopg import sql

    name = f"newsflow_m_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        info = psycopg.conninfo.conninfo_to_dict(pg_admin_url)
        info["dbname"] = name
        with db.connect(psycopg.conninfo.make_conninfo(**info)) as conn:
            applied = db.migrate(conn)
            assert applied == [f"{m.version}_{m.name}" for m in db.list_migrations()]
            assert db.pending(conn) == []
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
            assert {"feeds", "articles", "story_clusters", "events", "pipeline_runs"} <= tables
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
