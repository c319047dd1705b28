"""PostgreSQL access: connecting, plain-SQL migrations, bulk merges.

Migrations are the files `sql/NNNN_name.sql`, applied in order, each in one
transaction, and recorded in `schema_migrations` with a checksum so that an
edited, already-applied file is reported instead of silently ignored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pipeline.errors import ConfigError, DatabaseError
from pipeline.redaction import redact as redact  # re-exported: db.redact
from pipeline.settings import Settings

EMBEDDED_DBNAME = "newsflow"
MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     text PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def sql_dir() -> Path:
    """The migrations folder: `sql/` in a source checkout, `pipeline/_sql` in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sql", here / "_sql"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"no sql/ migrations folder next to {here}")


def connect(url: str, *, autocommit: bool = False, **options: Any) -> psycopg.Connection[Any]:
    """Open a connection, turning driver errors into one clear DatabaseError (or a ConfigError for a
    URL that is not PostgreSQL's)."""
    scheme = re.match(r"([a-zA-Z][\w+.-]*)://", url)
    if scheme is not None and scheme.group(1).lower() not in ("postgresql", "postgres"):
        raise ConfigError(f"DATABASE_URL {redact(url)!r}: not a PostgreSQL URL (postgresql://USER@HOST:5432/DB)")
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10, **options)
    except psycopg.ProgrammingError as exc:  # the URL or connection string cannot be read
        raise ConfigError(
            f"DATABASE_URL {redact(url)!r} cannot be read ({redact(str(exc).strip())}); "
            "expected postgresql://USER@HOST:5432/DB or 'host=... dbname=...'"
        ) from exc
    except psycopg.OperationalError as exc:
        message = f"cannot connect to PostgreSQL at {redact(url)}: {redact(str(exc).strip())}"
        missing = re.search(r'database "([^"]+)" does not exist', str(exc))
        if missing:
            message += f" (create it with: createdb {missing.group(1)}, then: newsflow db migrate)"
        raise DatabaseError(message) from exc


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    version: str
    name: str
    applied_at: str | None
    changed: bool  # applied, but the file differs from what was applied


def list_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or sql_dir()
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise ConfigError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(match.group(1), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ConfigError(f"{folder}: two migrations share a version number")
    return found


def _applied(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute(MIGRATIONS_TABLE)
        cur.execute("SELECT version, checksum, applied_at::text FROM schema_migrations")
        rows = cur.fetchall()
    conn.commit()
    return {version: (checksum, applied_at) for version, checksum, applied_at in rows}


def migrate(conn: psycopg.Connection[Any], folder: Path | None = None) -> list[str]:
    """Apply the pending migrations, each in its own transaction. Returns what was applied."""
    # One migrator at a time per database (two Airflow workers starting together).
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(4242001)")
    try:
        applied = _applied(conn)
        done = []
        for migration in list_migrations(folder):
            if migration.version in applied:
                continue
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(migration.text.encode())
                cur.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            done.append(f"{migration.version}_{migration.name}")
        return done
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(4242001)")
        conn.commit()


def status(conn: psycopg.Connection[Any], folder: Path | None = None) -> list[MigrationStatus]:
    applied = _applied(conn)
    rows = []
    for m in list_migrations(folder):
        checksum, when = applied.get(m.version, (None, None))
        rows.append(MigrationStatus(m.version, m.name, when, checksum is not None and checksum != m.checksum))
    return rows


def pending(conn: psycopg.Connection[Any]) -> list[str]:
    return [f"{s.version}_{s.name}" for s in status(conn) if s.applied_at is None]


def in_transaction(conn: psycopg.Connection[Any]) -> AbstractContextManager[Any]:
    """For `copy_merge` callers: on an autocommit connection, a transaction around the staging table and
    its merge (the table is dropped at commit); otherwise nothing (the caller's transaction holds both)."""
    return conn.transaction() if conn.autocommit else nullcontext()


def exclusive_stage(conn: psycopg.Connection[Any], lock: tuple[int, int], *, wait: bool = True) -> bool:
    """Take a stage's lock (one process at a time) for the caller's transaction. `wait` False: do not
    wait for another process that holds it, and say so (False)."""
    if wait:
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", lock)
        return True
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", lock).fetchone()
    return bool(row and row[0])


# The later stages' states in `article_work` (migration 0090): one column each, 'pending' or 'done'.
WORK_STATES = ("classify_state", "link_state", "events_state")


def work_waiting(conn: psycopg.Connection[Any], state: str) -> tuple[int, Any]:
    """How many articles wait for the stage whose `article_work` column is `state`, and when the oldest
    of them was stored."""
    if state not in WORK_STATES:
        raise ValueError(f"not a work state: {state!r}")
    row = conn.execute(
        sql.SQL(
            "SELECT count(*), min(a.created_at) FROM article_work w JOIN articles a ON a.id = w.article_id"
            " WHERE w.{} = 'pending'"
        ).format(sql.Identifier(state))
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def any_work_waiting(conn: psycopg.Connection[Any], state: str) -> bool:
    """Whether any article waits for the stage whose `article_work` column is `state` (its partial index)."""
    if state not in WORK_STATES:
        raise ValueError(f"not a work state: {state!r}")
    row = conn.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM article_work WHERE {} = 'pending')").format(sql.Identifier(state))
    ).fetchone()
    return bool(row and row[0])


def _stage_exists(cur: psycopg.Cursor[Any], name: str) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"pg_temp.{name}",))
    row = cur.fetchone()
    return bool(row and row[0])


def copy_merge(
    cur: psycopg.Cursor[Any],
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    merge_sql: str,
    *,
    types: Sequence[str] | None = None,
) -> int:
    """COPY rows into a temporary staging table `_stage_<table>`, then run one merge.

    The staging table is created once per session (ON COMMIT DELETE ROWS: empty at the start of every
    transaction; emptied here when an earlier call of the same transaction used it): creating and dropping
    a table per call cost more than the COPY itself for batches of tens of rows.

    The staging table takes `table`'s column types, or `types` (one SQL type per column) when the
    staged columns are not all columns of a table. `merge_sql` reads `_stage_<table>` and is usually
    an `INSERT ... SELECT ... ON CONFLICT`. Returns the merge's row count.
    """
    stage = sql.Identifier(f"_stage_{table}")
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    if _stage_exists(cur, f"_stage_{table}"):
        cur.execute(sql.SQL("DELETE FROM {}").format(stage))  # rows of an earlier call in this transaction
    else:
        if types is None:
            create = sql.SQL("CREATE TEMP TABLE {} ON COMMIT DELETE ROWS AS SELECT {} FROM {} WITH NO DATA").format(
                stage, cols, sql.Identifier(table)
            )
        else:
            defs = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in zip(columns, types, strict=True)
            )
            create = sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DELETE ROWS").format(stage, defs)
        cur.execute(create)
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, cols)) as copy:
        for row in rows:
            copy.write_row(row)
    cur.execute(merge_sql.encode())
    return cur.rowcount


def database_url(settings: Settings) -> str:
    """DATABASE_URL when given, else the embedded server in $NEWSFLOW_HOME (started on demand)."""
    if settings.database_url:
        return settings.database_url
    from pipeline.embedded import start_embedded

    admin_url = start_embedded(settings.home / "pgdata")
    with connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DBNAME,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DBNAME)))
    return psycopg.conninfo.make_conninfo(admin_url, dbname=EMBEDDED_DBNAME)


ANALYST_ROLE = "newsflow_analyst"


def analyst_url(settings: Settings) -> str:
    """The URL `newsflow sql` connects with: DATABASE_URL as given (its role is the user's choice),
    or, on the embedded server, the non-superuser role `newsflow_analyst` (see `grant_analyst`)."""
    url = database_url(settings)
    if settings.database_url:
        return url
    with connect(url, autocommit=True) as admin:
        grant_analyst(admin)
    return psycopg.conninfo.make_conninfo(url, user=ANALYST_ROLE)


def grant_analyst(conn: psycopg.Connection[Any]) -> None:
    """Create the analyst role if needed (LOGIN, not a superuser, no CREATEDB/CREATEROLE) and let it read
    and change the rows of every table of this database's public schema, and nothing else: no
    superuser functions (pg_read_file, COPY ... PROGRAM), no DDL. Run after migrations (new tables)."""
    role = sql.Identifier(ANALYST_ROLE)
    conn.execute(
        sql.SQL(
            """DO $$ BEGIN
                 CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
               EXCEPTION WHEN duplicate_object THEN NULL;  -- exists already (or another process made it)
               END $$"""
        ).format(role)
    )
    dbname = conn.execute("SELECT current_database()").fetchone()
    assert dbname is not None
    for statement in (
        "GRANT CONNECT ON DATABASE {db} TO {role}",
        "GRANT USAGE ON SCHEMA public TO {role}",
        "REVOKE CREATE ON SCHEMA public FROM {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ):
        conn.execute(sql.SQL(statement).format(db=sql.Identifier(dbname[0]), role=role))


@contextmanager
def connection(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the configured database, with every migration applied."""
    conn = connect(database_url(settings))
    try:
        migrate(conn)
        yield conn
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"the database went away: {redact(str(exc))}") from exc
    finally:
        conn.close()
