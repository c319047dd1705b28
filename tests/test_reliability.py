"""Nothing lost, nothing doubled: the real CLI in a subprocess against a real loopback site on several
hosts and a real PostgreSQL, killed anywhere (SIGKILL, or every database connection terminated),
then run again; and several runs at once. Every case must end with the database a clean run makes.

The kill points are named in the jobs layer (`pipeline.jobs.common.checkpoint`); docs/reliability.md
has the matrix and its figures. Marked `reliability`: about 3-4 minutes; run alone with
`./dev.sh test -m reliability`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from loopsite import LoopSite
from psycopg import sql

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parent.parent
DELAY = 0.05  # seconds between two requests to one host
# Runs at once are checked for politeness with a longer delay: the gaps are measured where the site
# receives the requests, which scheduling on a loaded 2-core machine shifts by tens of milliseconds.
POLITE_DELAY = 0.2

# Where a run can die: every stage boundary, and inside every stage (before and after a commit).
KILL_POINTS = (
    ("begin:done", 1),
    ("poll:done", 1),
    ("fetch:page_committed", 7),
    ("fetch:done", 1),
    ("extract:claimed", 2),
    ("extract:before_commit", 1),
    ("extract:batch_committed", 2),
    ("classify:before_commit", 2),
    ("classify:batch_committed", 1),
    ("syndication:before_commit", 2),
    ("syndication:done", 1),
    ("events:before_commit", 1),
    ("events:done", 1),
)
DB_KILL_POINTS = (
    ("poll:done", 1),
    ("fetch:page_committed", 5),
    ("extract:before_commit", 2),
    ("classify:batch_committed", 1),
    ("syndication:before_commit", 1),
    ("events:before_commit", 1),
)


def _new_database(admin_url: str, template: str) -> str:
    name = f"newsflow_r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return psycopg.conninfo.make_conninfo(admin_url, dbname=name)


@pytest.fixture(scope="module")
def site() -> Iterator[LoopSite]:
    with LoopSite(hosts=4, pages_per_host=10, copies=3) as loop:
        yield loop


@pytest.fixture(scope="module")
def feeds_file(site: LoopSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("feeds") / "feeds.yaml"
    path.write_text(site.feeds_yaml(), encoding="utf-8")
    return path


def _env(database_url: str, site: LoopSite, feeds: Path, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url,
        NEWSFLOW_HOME=str(home),
        NEWSFLOW_FEEDS=str(feeds),
        NEWSFLOW_ALLOW_PRIVATE=site.allow_list(),
        NEWSFLOW_PER_HOST_DELAY=str(DELAY),
        NEWSFLOW_PER_HOST_CONCURRENCY="1",
        NEWSFLOW_BATCH_SIZE="5",
        NEWSFLOW_RETRIES="1",
        NEWSFLOW_HTTP_TIMEOUT="5",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def _newsflow(*args: str) -> list[str]:
    return [sys.executable, "-c", "from pipeline.cli import main; main()", *args]


def _run(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_newsflow(*(args or ("run",))), env=env, capture_output=True, text=True, timeout=timeout)


def snapshot(database_url: str) -> dict[str, Any]:
    """What a run leaves, by identity (URLs, keys), not by generated ids."""
    queries = {
        "articles": "SELECT url, title, content_hash FROM articles",
        "aliases": "SELECT u.url, a.url FROM article_urls u JOIN articles a ON a.id = u.article_id",
        "labels": "SELECT a.url, t.topic_id FROM article_topics t JOIN articles a ON a.id = t.article_id",
        "relevance": "SELECT a.url, c.relevant FROM article_classifications c JOIN articles a ON a.id = c.article_id",
        "clusters": """SELECT a.url, m.relation, o.url FROM cluster_members m
                       JOIN articles a ON a.id = m.article_id JOIN story_clusters s ON s.id = m.cluster_id
                       JOIN articles o ON o.id = s.original_article_id""",
        "events": "SELECT event_key, event_type, event_date, place, killed FROM events",
        "mentions": """SELECT e.event_key, a.url FROM event_mentions m
                       JOIN events e ON e.id = m.event_id JOIN articles a ON a.id = m.article_id""",
        "pending": """SELECT 'extract', count(*) FROM raw_pages WHERE extract_state IN ('pending', 'failed')
                      UNION ALL SELECT 'link', count(*) FROM article_work WHERE link_state = 'pending'
                      UNION ALL SELECT 'events', count(*) FROM article_work WHERE events_state = 'pending'""",
    }
    with psycopg.connect(database_url) as conn:
        found: dict[str, Any] = {name: sorted(conn.execute(q).fetchall()) for name, q in queries.items()}
        found["running"] = conn.execute("SELECT count(*) FROM pipeline_runs WHERE status = 'running'").fetchone()[0]
    return found


@pytest.fixture(scope="module")
def clean(
    site: LoopSite, feeds_file: Path, pg_admin_url: str, pg_template: str, tmp_path_factory
) -> Iterator[dict[str, Any]]:
    """The database one clean run makes (dropped after the module: CI shares its PostgreSQL)."""
    url = _new_database(pg_admin_url, pg_template)
    try:
        done = _run(_env(url, site, feeds_file, tmp_path_factory.mktemp("home")))
        assert done.returncode == 0, done.stderr[-3000:]
        state = snapshot(url)
        assert len(state["articles"]) == site.article_count()
        assert {r for r in state["clusters"] if r[1] == "copy"}, "the republished stories are linked as copies"
        assert state["events"] and state["mentions"], "the site's attacks are found as events"
        assert state["running"] == 0
        yield state
    finally:
        _drop_database(pg_admin_url, url)


@pytest.fixture()
def fresh(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    url = _new_database(pg_admin_url, pg_template)
    yield url
    _drop_database(pg_admin_url, url)


def _drop_database(admin_url: str, url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name))))


@pytest.mark.parametrize(("point", "after"), KILL_POINTS, ids=[p for p, _ in KILL_POINTS])
def test_sigkill_anywhere_then_a_rerun_ends_like_a_clean_run(point, after, site, feeds_file, clean, fresh, tmp_path):
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_KILL_AT=point, NEWSFLOW_KILL_AFTER=str(after))
    killed = _run(env)
    assert killed.returncode == -9, f"the run was not killed at {point}: {killed.returncode} {killed.stderr[-2000:]}"
    rerun = _run(_env(fresh, site, feeds_file, tmp_path))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert snapshot(fresh) == clean
    with psycopg.connect(fresh) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM pipeline_runs ORDER BY id")]
    assert statuses == ["abandoned", "success"], statuses


@pytest.mark.parametrize(("point", "after"), DB_KILL_POINTS, ids=[p for p, _ in DB_KILL_POINTS])
def test_database_connections_killed_anywhere_then_a_rerun_ends_like_a_clean_run(
    point, after, site, feeds_file, clean, fresh, tmp_path
):
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_DB_KILL_AT=point, NEWSFLOW_KILL_AFTER=str(after))
    broken = _run(env)
    assert broken.returncode == 2, f"{point}: {broken.returncode} {broken.stderr[-2000:]}"
    assert "database" in broken.stderr and "Traceback" not in broken.stderr, broken.stderr[-2000:]
    rerun = _run(_env(fresh, site, feeds_file, tmp_path))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert snapshot(fresh) == clean


def _concurrent(commands: list[list[str]], env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for cmd in commands
    ]
    results = []
    for cmd, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=240)
        results.append(subprocess.CompletedProcess(cmd, proc.returncode, out, err))
    return results


@pytest.mark.parametrize("runs", [2, 3])
def test_runs_at_once_fetch_each_page_once_and_keep_every_host_polite(runs, site, feeds_file, clean, fresh, tmp_path):
    site.log.clear()
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_PER_HOST_DELAY=str(POLITE_DELAY))
    results = _concurrent([_newsflow("run")] * runs, env)
    for done in results:
        assert done.returncode == 0, done.stderr[-3000:]
        assert "deadlock" not in done.stderr.lower()
    served = site.page_requests()
    assert set(served.values()) == {1}, {k: n for k, n in served.items() if n != 1}
    assert len(served) == site.article_count()
    assert site.smallest_gap() >= POLITE_DELAY * 0.75, site.smallest_gap()
    assert snapshot(fresh) == clean


def test_a_run_beside_a_backfill_of_the_same_site(site, feeds_file, clean, fresh, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{h.base}{p}\n" for h in site.hosts for p in h.pages), encoding="utf-8")
    site.log.clear()
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_PER_HOST_DELAY=str(POLITE_DELAY))
    results = _concurrent([_newsflow("run"), _newsflow("backfill", "--source", f"urls:{urls}")], env)
    for done in results:
        assert done.returncode == 0, done.stderr[-3000:]
    served = site.page_requests()
    assert set(served.values()) == {1}, {k: n for k, n in served.items() if n != 1}
    assert site.smallest_gap() >= POLITE_DELAY * 0.75, site.smallest_gap()
    state = snapshot(fresh)
    assert {k: v for k, v in state.items() if k != "pending"} == {k: v for k, v in clean.items() if k != "pending"}


def test_sigterm_ends_the_run_interrupted_and_the_next_run_finishes_the_work(site, feeds_file, clean, fresh, tmp_path):
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_PER_HOST_DELAY="0.3")
    site.log.clear()
    proc = subprocess.Popen(_newsflow("run"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not site.page_requests():
        time.sleep(0.1)
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    with psycopg.connect(fresh) as conn:
        status = conn.execute("SELECT status FROM pipeline_runs ORDER BY id").fetchall()
    assert status == [("interrupted",)], err[-2000:]
    rerun = _run(_env(fresh, site, feeds_file, tmp_path))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert snapshot(fresh) == clean
