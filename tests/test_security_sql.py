"""`newsflow sql` is read-only by default and fails cleanly; the analyst role is no superuser;
passwords are redacted in every conninfo form."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pipeline.db import ANALYST_ROLE, connect, grant_analyst, redact
from pipeline.errors import DatabaseError
from pipeline.redaction import RedactingFilter

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")


def newsflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NEWSFLOW, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", **env})  # fmt: skip


def fetch_log_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM fetch_log").fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
def db_env(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """INSERT INTO fetch_log (kind, url, outcome) SELECT 'page', 'http://example.com/' || g, 'ok'
               FROM generate_series(1, 3) g"""
        )
    return {"DATABASE_URL": database_url}


def test_a_write_smuggled_behind_commit_is_refused_whole(db_env: dict[str, str], database_url: str) -> None:
    result = newsflow("sql", "DELETE FROM fetch_log; COMMIT; SELECT 1", env=db_env)
    assert result.returncode == 2
    assert "cannot insert multiple commands" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert fetch_log_rows(database_url) == 3


def test_writes_need_write(db_env: dict[str, str], database_url: str) -> None:
    refused = newsflow("sql", "DELETE FROM fetch_log", env=db_env)
    assert refused.returncode == 2 and "read-only transaction" in refused.stderr and "--write" in refused.stderr
    assert fetch_log_rows(database_url) == 3
    done = newsflow("sql", "--write", "DELETE FROM fetch_log WHERE url LIKE '%/1'", env=db_env)
    assert done.returncode == 0, done.stderr
    assert "1 row affected" in done.stdout
    assert fetch_log_rows(database_url) == 2


def test_sql_error_shows_postgresql_message_and_position(db_env: dict[str, str]) -> None:
    result = newsflow("sql", "SELEC url FROM fetch_log", env=db_env)
    assert result.returncode == 2
    assert 'syntax error at or near "SELEC"' in result.stderr
    assert "LINE 1: SELEC url FROM fetch_log" in result.stderr and "^" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 4


def test_row_count_under_every_result_and_formats(db_env: dict[str, str]) -> None:
    empty = newsflow("sql", "SELECT url FROM fetch_log WHERE false", env=db_env)
    assert empty.returncode == 0 and "(0 rows)" in empty.stdout
    table = newsflow("sql", "SELECT url FROM fetch_log ORDER BY url", env=db_env)
    assert "(3 rows)" in table.stdout and "http://example.com/2" in table.stdout
    as_csv = newsflow("sql", "--format", "csv", "SELECT url, outcome FROM fetch_log ORDER BY url", env=db_env)
    assert as_csv.stdout.splitlines() == ["url,outcome"] + [f"http://example.com/{i},ok" for i in (1, 2, 3)]
    assert "(3 rows)" in as_csv.stderr
    jsonl = newsflow("sql", "--format", "jsonl", "SELECT url, 1 AS n FROM fetch_log ORDER BY url LIMIT 1", env=db_env)
    assert [json.loads(line) for line in jsonl.stdout.splitlines()] == [{"url": "http://example.com/1", "n": 1}]
    assert "(1 row)" in jsonl.stderr


def test_missing_database_gets_a_hint(database_url: str) -> None:
    missing = psycopg.conninfo.make_conninfo(database_url, dbname="newsflow_no_such_db")
    result = newsflow("sql", "SELECT 1", env={"DATABASE_URL": missing})
    assert result.returncode == 2
    assert "createdb newsflow_no_such_db" in result.stderr and "Traceback" not in result.stderr


def test_analyst_role_reads_tables_but_is_no_superuser(database_url: str) -> None:
    with connect(database_url, autocommit=True) as admin:
        grant_analyst(admin)
        grant_analyst(admin)  # idempotent
    analyst_url = psycopg.conninfo.make_conninfo(database_url, user=ANALYST_ROLE)
    with psycopg.connect(analyst_url) as conn:
        row = conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
        assert row.fetchone() == (False, False, False)
        assert conn.execute("SELECT count(*) FROM fetch_log").fetchone() is not None
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT pg_read_file('/etc/passwd')")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.stolen (x int)")


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://newsflow:s3cr3t@db.example:5432/newsflow",
        "postgresql://newsflow@db.example/newsflow?sslmode=require&password=s3cr3t",
        "postgresql://newsflow@db.example/newsflow?password=s3cr3t",
        "host=db.example user=newsflow password=s3cr3t dbname=newsflow",
        "host=db.example password = 's3cr3t with space' dbname=newsflow",
        "host=db.example PASSWORD=s3cr3t",
    ],
)
def test_passwords_are_redacted_in_every_conninfo_form(text: str) -> None:
    assert "s3cr3t" not in redact(text)
    assert "db.example" in redact(text)


def test_errors_and_log_lines_never_show_the_password(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(DatabaseError) as caught:
        connect("host=127.0.0.1 port=9 user=x password=s3cr3t dbname=x connect_timeout=2")
    assert "s3cr3t" not in str(caught.value)
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "cannot use %s", ("password=s3cr3t",), None)
    RedactingFilter().filter(record)
    assert "s3cr3t" not in record.getMessage()


def test_cli_connection_error_with_keyvalue_password_is_redacted() -> None:
    result = newsflow("db", "status", env={"DATABASE_URL": "host=127.0.0.1 port=9 user=x password=s3cr3t dbname=x"})
    assert result.returncode == 2
    assert "s3cr3t" not in result.stderr + result.stdout
