"""The fetching commands (`feeds add|list|sync`, `status`, `backfill`; `gaps` is in test_analysis.py) end to
end, through typer's runner, against the test database and a local server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from httpfaults import FaultServer, Route, rss
from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli import fetch as cli_fetch


@pytest.fixture()
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWSFLOW_ALLOW_PRIVATE", "127.0.0.0/8")
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY", "0")
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    monkeypatch.setattr(cli_fetch, "out", Console(width=250))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("# test feeds\nfeeds: []\n")
    monkeypatch.setenv("NEWSFLOW_FEEDS", str(feeds))
    app = typer.Typer()
    cli_fetch.register(app, typer.Typer())
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    run.feeds_file = feeds  # type: ignore[attr-defined]
    return run


def test_feeds_add_list_sync_and_status(cli: Any, conn: Any) -> None:
    with FaultServer() as srv:
        srv.add("/", Route(body=b'<html><head><link rel="alternate" type="application/atom+xml" href="/atom">'
                                b"</head><body>home</body></html>"))  # fmt: skip
        srv.add(
            "/atom",
            Route(body=rss([("/a", "A", None)], title="Local News"), content_type="application/rss+xml"),
        )
        result = cli("feeds", "add", srv.url("/"), "--topic", "syria")
        assert "added" in result.output and "Local News" in result.output
        assert srv.url("/atom") in cli.feeds_file.read_text()
        assert "Local News" in cli("feeds", "list").output
        assert "unchanged: 1" in cli("feeds", "sync").output

    conn.execute("UPDATE feeds SET failure_count = 3, hard_failures = 3, last_error = 'hard: http_410: HTTP 410'")
    conn.execute("INSERT INTO frontier (url, source, state, last_reason) VALUES ('https://x.example/', 't', "
                 "'skipped', 'http_404')")  # fmt: skip
    conn.commit()
    status = cli("status").output
    assert "1 failing feed" in status and "http_410" in status and "http_404" in status


def test_backfill_command(cli: Any, conn: Any, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "a.html").write_text('<html><head><link rel="canonical" href="https://o.example/a"></head>'
                                  "<body><p>short</p></body></html>")  # fmt: skip
    result = cli("backfill", "--source", f"html:{saved}", "--no-process")
    assert "pages_stored" in result.output
    assert conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == 1


def test_backfill_fast_and_reextract(cli: Any, conn: Any, tmp_path: Path) -> None:
    """`backfill --fast` records the fast mode on its articles; a reextract without it redoes them."""
    from pipeline.cli.common import current_settings
    from pipeline.extract.core import EXTRACTOR_VERSION, FAST_EXTRACTOR_VERSION
    from pipeline.jobs.maintenance import reextract

    saved = tmp_path / "saved"
    saved.mkdir()
    sentence = "The council said the bridge over the river would reopen to traffic after the repairs. "
    (saved / "a.html").write_text('<html><head><link rel="canonical" href="https://o.example/a"></head>'
                                  f"<body><article><h1>Bridge</h1><p>{sentence * 8}</p><p>{sentence * 6}</p>"
                                  "</article></body></html>")  # fmt: skip
    cli("backfill", "--source", f"html:{saved}", "--fast")
    assert conn.execute("SELECT extractor FROM articles").fetchall() == [(FAST_EXTRACTOR_VERSION,)]
    conn.commit()
    reextract(current_settings(workers=1))  # the environment the command saw, thorough mode
    assert conn.execute("SELECT extractor FROM articles").fetchall() == [(EXTRACTOR_VERSION,)]


def test_backfill_thorough_overrides_the_environment(
    cli: Any, conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.extract.core import EXTRACTOR_VERSION

    monkeypatch.setenv("NEWSFLOW_EXTRACT_FAST", "1")
    saved = tmp_path / "saved"
    saved.mkdir()
    sentence = "The council said the bridge over the river would reopen to traffic after the repairs. "
    head = '<html><head><link rel="canonical" href="https://o.example/b"></head>'
    (saved / "b.html").write_text(f"{head}<body><article><h1>Bridge</h1><p>{sentence * 8}</p></article></body></html>")
    cli("backfill", "--source", f"html:{saved}", "--thorough")
    assert conn.execute("SELECT extractor FROM articles").fetchall() == [(EXTRACTOR_VERSION,)]
