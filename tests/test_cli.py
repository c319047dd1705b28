"""The `newsflow` command as a user runs it: a real process, a real database, the demo site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEWSFLOW = str(Path(sys.executable).parent / "newsflow")


def newsflow(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([NEWSFLOW, *args], capture_output=True, text=True, env=full_env, timeout=timeout)


def test_demo_loads_once_then_says_nothing_is_new(database_url, tmp_path):
    from pipeline.demo.outlets import STORIES as SECOND_OUTLET_STORIES
    from pipeline.demo.site import DemoSite

    loadable = sum(a.kind in {"news", "copy", "aggregator", "offtopic"} for a in DemoSite().articles)
    loadable += len(SECOND_OUTLET_STORIES)  # the demo's second outlet
    env = {"DATABASE_URL": database_url, "NEWSFLOW_HOME": str(tmp_path / "home")}
    first = newsflow("demo", env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert f"In the database: {loadable} articles" in first.stdout, first.stdout[-3000:]
    assert "skipped, by reason:" in first.stdout and "http_500" in first.stdout
    assert first.stdout.count("SELECT") >= 3  # three example queries, printed with their results
    second = newsflow("demo", env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Nothing new" in second.stdout
    assert f"In the database: {loadable} articles" in second.stdout


def test_db_commands(database_url):
    env = {"DATABASE_URL": database_url}
    migrate = newsflow("db", "migrate", env=env)
    assert migrate.returncode == 0 and "up to date" in migrate.stderr
    status = newsflow("db", "status", env=env)
    assert status.returncode == 0 and "0001" in status.stdout and "pending" not in status.stdout
    query = newsflow("sql", "SELECT count(*) AS n FROM articles", env=env)
    assert query.returncode == 0 and re.search(r"\b0\b", query.stdout)


def test_bad_database_url_is_a_clear_error():
    result = newsflow("db", "status", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"})
    assert result.returncode == 2
    assert "cannot connect to PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr
    for url, said in (("notaurl", "cannot be read"), ("mysql://me:secret@db/x", "not a PostgreSQL URL")):
        result = newsflow("status", env={"DATABASE_URL": url})
        assert result.returncode == 2 and said in result.stderr, result.stderr[-1500:]
        assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_bad_settings_file_names_the_place(tmp_path):
    bad = tmp_path / "newsflow.yaml"
    bad.write_text("batch_size: many\n", encoding="utf-8")
    result = newsflow("db", "status", env={"NEWSFLOW_CONFIG": str(bad), "DATABASE_URL": "postgresql://x@127.0.0.1:9/x"})
    assert result.returncode == 2
    assert str(bad) in result.stderr and "batch_size" in result.stderr


def test_every_command_is_in_the_readme():
    from typer.main import get_command

    from pipeline.cli import build

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    group = get_command(build())
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        names += [f"{name} {sub}" for sub in subcommands] if subcommands else [name]
    missing = [n for n in names if f"newsflow {n}" not in readme and not _listed_together(n, readme)]
    assert not missing, f"commands missing from README.md: {missing}"


def _listed_together(name: str, readme: str) -> bool:
    """`db migrate` / `db status` style rows name the group once."""
    group, _, sub = name.partition(" ")
    return bool(sub) and f"newsflow {group} " in readme and f"`{group} {sub}`" in readme


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["db", "--help"]])
def test_help_works(args):
    result = newsflow(*args)
    assert result.returncode == 0 and "Usage" in result.stdout


def test_prune_command_reports_what_it_removed(database_url):
    result = newsflow("prune", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "postings_removed = 0" in result.stdout


def test_config_errors_stop_a_run_at_its_start_and_leave_no_open_run(database_url, tmp_path):
    import psycopg

    env = {"DATABASE_URL": database_url, "NEWSFLOW_HOME": str(tmp_path / "home")}
    missing_topics = newsflow("run", env={**env, "NEWSFLOW_TOPICS": str(tmp_path / "missing.yaml")})
    assert missing_topics.returncode == 2 and "missing.yaml" in missing_topics.stderr
    assert "Traceback" not in missing_topics.stderr
    broken = tmp_path / "feeds.yaml"
    broken.write_text("feeds: [unclosed\n", encoding="utf-8")
    bad_feeds = newsflow("run", env={**env, "NEWSFLOW_FEEDS": str(broken)})
    assert bad_feeds.returncode == 2 and "feeds.yaml" in bad_feeds.stderr and "Traceback" not in bad_feeds.stderr
    with psycopg.connect(database_url) as conn:
        runs = conn.execute("SELECT kind, status, error FROM pipeline_runs ORDER BY id").fetchall()
        logged = conn.execute("SELECT count(*) FROM fetch_log").fetchone()[0]
    assert [r[:2] for r in runs] == [("run", "failed")], runs  # the topics error came before any run
    assert "feeds.yaml" in runs[0][2] and logged == 0
    # a backfill needs no feed list: a broken one does not stop it
    html = tmp_path / "saved"
    html.mkdir()
    backfill = newsflow("backfill", "--source", f"html:{html}", "--no-process",
                        env={**env, "NEWSFLOW_FEEDS": str(broken)})  # fmt: skip
    assert backfill.returncode == 0, backfill.stderr[-2000:]


def test_a_backfill_that_loads_nothing_says_why(database_url, tmp_path):
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "a.html").write_text("<html><head><title>x</title></head><body><p>words</p></body></html>")
    env = {"DATABASE_URL": database_url, "NEWSFLOW_HOME": str(tmp_path / "home")}
    done = newsflow("backfill", "--source", f"html:{saved}", "--no-process", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "skip:no_url 1: a saved page needs its address" in " ".join(done.stderr.split())
    assert "nothing loaded" in done.stderr
