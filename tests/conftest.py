"""Shared fixtures: a real PostgreSQL for every test, the shared corpus, a local HTTP server.

PostgreSQL: `TEST_DATABASE_URL` if set, else 127.0.0.1:5432 if it answers, else an embedded
pgserver. The schema is built once from `sql/` into a template database; each test gets a fresh
copy of it (CREATE DATABASE ... TEMPLATE), dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipeline import db

ROOT = Path(__file__).resolve().parent.parent
# Airflow reads its configuration when first imported: point it at a throw-away home (SQLite
# metadata) and at this repo's dags/ before any test imports it.
AIRFLOW_HOME = Path(os.environ.setdefault("AIRFLOW_HOME", f"/tmp/newsflow-test-airflow-{os.getuid()}"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{AIRFLOW_HOME}/airflow.db")
# Airflow's own processes put the DAGs folder on sys.path (its DAGs share `newsflow_airflow`).
sys.path.insert(0, str(ROOT / "dags"))
SHARED = Path(os.environ.get("NEWSFLOW_EVAL_DATA", ROOT.parent / "shared" / "corpus"))
TEMPLATE = f"newsflow_tpl_{os.getpid()}"


def _local_postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _with_db(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
    elif _local_postgres_answers():
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        from pipeline.embedded import start_embedded

        yield start_embedded(tmp_path_factory.mktemp("pg") / "pgdata")


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    with db.connect(_with_db(pg_admin_url, TEMPLATE)) as conn:
        db.migrate(conn)
    yield TEMPLATE
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))


@pytest.fixture()
def database_url(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    """A fresh, migrated database for this test; its URL."""
    name = f"newsflow_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(pg_template))
        )
    yield _with_db(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture()
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with db.connect(database_url) as connection:
        yield connection


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the shared evaluation corpus is absent ({SHARED}); set NEWSFLOW_EVAL_DATA to run this")
    return SHARED


@pytest.fixture(scope="session")
def seeds_dir(shared_corpus: Path) -> Path:
    path = shared_corpus / "seeds"
    if not path.is_dir():
        pytest.skip(f"seed documents are absent ({path})")
    return path


@pytest.fixture()
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off in 50 ms steps instead of seconds (tests against the fault server)."""
    from pipeline.fetch import http

    monkeypatch.setattr(http, "BACKOFF_BASE_S", 0.05)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's own metadata database (SQLite), migrated once per session."""
    pytest.importorskip("airflow", reason="Airflow is not installed (the `airflow` extra)")
    import subprocess

    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="session")
def dagbag(airflow_db: None) -> Any:
    """This repository's DAGs, parsed once per session."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))
