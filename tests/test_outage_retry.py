"""An outage fails the stage as a whole, and Airflow's retry (or clear) of the same run does the work.

The retry of a task runs in the same newsflow run: the feeds and pages that failed in it because every
one of them was unreachable must be taken again, and the run that the failure callback marked failed
becomes a success when its last task succeeds.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.demo import DemoSite, feeds_yaml
from pipeline.errors import TransientError
from pipeline.jobs import nightly
from pipeline.settings import Settings

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LOADABLE = {"news", "copy", "aggregator", "offtopic"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def down_site(tmp_path: Path, database_url: str) -> tuple[Settings, int]:
    """The demo site's feed list and settings, with nothing listening on its port yet."""
    port = _free_port()
    with DemoSite(reference_time=NOW, port=port) as site:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(feeds_yaml(site), encoding="utf-8")
    settings = Settings(
        database_url=database_url, home=tmp_path / "home", feeds_file=feeds, allow_private=("127.0.0.1",),
        per_host_delay_s=0.0, per_host_concurrency=4, retries=1, http_timeout_s=5.0,
    )  # fmt: skip
    return settings, port


def test_a_poll_outage_leaves_the_feeds_due_for_the_retry(down_site, conn):
    settings, port = down_site
    run_id = nightly.begin_run(settings, "nightly", run_key="airflow-run")
    with pytest.raises(TransientError, match="every one of the 2 due feeds"):
        nightly.poll(settings, run_id, now=NOW, window_end=NOW)
    due = conn.execute("SELECT count(*) FROM feeds WHERE next_poll_at IS NULL OR next_poll_at <= %s", (NOW,))
    assert due.fetchone()[0] == 2
    counts = conn.execute("SELECT counts -> 'poll' FROM pipeline_runs WHERE id = %s", (run_id,)).fetchone()[0]
    assert counts["feeds_failed_temporary"] == 2  # the outage is counted on the run
    # ... and on the feeds (status lists them) and in the fetch log, without growing their backoff
    feeds = conn.execute("SELECT failure_count, temp_failures, last_error IS NOT NULL FROM feeds").fetchall()
    assert feeds == [(0, 1, True), (0, 1, True)]
    logged = conn.execute("SELECT count(*) FROM fetch_log WHERE kind = 'feed' AND run_id = %s", (run_id,))
    assert logged.fetchone()[0] == 2
    conn.commit()

    with DemoSite(reference_time=NOW, port=port) as site:
        retried = nightly.poll(settings, run_id, now=NOW, window_end=NOW)  # the same run, the same `now`
        assert retried["feeds_polled"] == 2 and "feeds_failed_temporary" not in retried
        nightly.fetch_pending(settings, run_id)
        expected = sum(a.kind in LOADABLE for a in site.articles)
    nightly.process_pending(settings, run_id)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == expected


def test_a_fetch_outage_gives_the_pages_back_to_the_retry(down_site, conn):
    settings, port = down_site
    run_id = nightly.begin_run(settings, "nightly", run_key="airflow-run")
    with DemoSite(reference_time=NOW, port=port) as site:
        nightly.poll(settings, run_id, now=NOW, window_end=NOW)
        expected = sum(a.kind in LOADABLE for a in site.articles)
    pending = conn.execute("SELECT count(*) FROM frontier WHERE state = 'new'").fetchone()[0]
    assert pending > expected
    conn.commit()

    for _ in range(4):  # Airflow's tries: each fails as a whole, none spends the pages' attempts
        with pytest.raises(TransientError, match="could be reached"):
            nightly.fetch_pending(settings, run_id)
    rows = conn.execute("SELECT state, attempts, last_run_id FROM frontier").fetchall()
    assert len(rows) == pending and {r[1] for r in rows} == {0} and {r[2] for r in rows} == {None}
    assert "parked" not in {r[0] for r in rows}
    conn.commit()

    with DemoSite(reference_time=NOW, port=port):
        nightly.fetch_pending(settings, run_id)  # the clear: the same run again
    nightly.process_pending(settings, run_id)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == expected


def test_a_cleared_run_that_succeeds_replaces_its_failed_mark(down_site, conn):
    settings, _ = down_site
    run_id = nightly.begin_run(settings, "nightly", run_key="airflow-run")
    assert nightly.fail_run(settings, "airflow-run") == 1  # the DAG's failure callback
    nightly.end_run(settings, run_id)  # a plain end keeps `failed`
    assert conn.execute("SELECT status FROM pipeline_runs WHERE id = %s", (run_id,)).fetchone()[0] == "failed"
    conn.commit()
    nightly.end_run(settings, run_id, supersede_failed=True)  # `finish` after the clear
    status, error = conn.execute("SELECT status, error FROM pipeline_runs WHERE id = %s", (run_id,)).fetchone()
    assert (status, error) == ("success", None)


def test_a_one_shot_run_during_an_outage_does_the_rest_and_ends_failed(down_site, conn):
    settings, _ = down_site
    report = nightly.run_once(settings, now=NOW, window_end=NOW)
    assert report.status == "failed" and "every one of the 2 due feeds" in (report.error or "")
    assert report.counts["poll"]["feeds_failed_temporary"] == 2
    stored = conn.execute("SELECT status, error FROM pipeline_runs WHERE id = %s", (report.run_id,)).fetchone()
    assert stored[0] == "failed" and "StagesFailed" in stored[1]


def test_the_watcher_leaves_unreachable_feeds_alone_between_outage_pauses(down_site, conn):
    """Every feed unreachable: one poll, then a pause (30 s, doubling), not a poll per cycle."""
    import threading
    import time

    from pipeline.jobs import watch

    settings, _ = down_site
    stop = threading.Event()
    cycles: list[watch.Cycle] = []
    timer = threading.Timer(6.0, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        report = watch.watch(settings, stop=stop, idle_s=1.0, on_batch=cycles.append)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 30, "the stop is seen during the pause"
    polls = [c for c in cycles if "poll" in c.counts]
    assert len(polls) == 1 and polls[0].poll_outage, [c.line() for c in cycles]
    assert len(cycles) <= 8, "the watcher sleeps between cycles during the pause"
    assert report.busy_cycles == 0, "an outage is not work"
    hits = conn.execute("SELECT count(*) FROM fetch_log WHERE kind = 'feed'").fetchone()[0]
    assert hits == 2, "each of the two feeds was asked once"


def test_newsflow_run_during_an_outage_exits_non_zero_and_says_why(down_site, database_url, tmp_path):
    from tests.test_cli import newsflow

    settings, port = down_site
    env = {"DATABASE_URL": database_url, "NEWSFLOW_HOME": str(tmp_path / "cli-home"),
           "NEWSFLOW_ALLOW_PRIVATE": f"127.0.0.1:{port}", "NEWSFLOW_RETRIES": "1"}  # fmt: skip
    done = newsflow("run", "--feeds", str(settings.feeds_file), env=env)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "failed" in done.stderr and "every one of the 2 due feeds failed" in done.stderr
    assert "Traceback" not in done.stderr
    status = newsflow("status", env=env)
    assert status.returncode == 0 and "2 failing feed(s)" in status.stdout, status.stdout[-2000:]
    assert "runs that did not succeed" in status.stdout and "StagesFailed" in status.stdout


def test_one_dead_site_falling_due_alone_is_no_outage(tmp_path, database_url, conn):
    """A live feed and a dead one; when only the dead one is due, its failure is its own: it backs off,
    and the run succeeds (review: it used to count as an outage, stay due and fail every run)."""
    dead = f"http://127.0.0.1:{_free_port()}/feed.xml"
    with DemoSite(reference_time=NOW, port=_free_port()) as site:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            f"feeds:\n  - {{name: live, url: '{site.rss_url}', poll_interval: 1h, adaptive: false}}\n"
            f"  - {{name: dead, url: '{dead}', poll_interval: 15m}}\n",
            encoding="utf-8",
        )
        settings = Settings(
            database_url=database_url, home=tmp_path / "home", feeds_file=feeds, allow_private=("127.0.0.1",),
            per_host_delay_s=0.0, per_host_concurrency=4, retries=1, http_timeout_s=5.0,
        )  # fmt: skip
        first = nightly.run_once(settings, now=NOW, window_end=NOW)
        assert first.status == "success", first.error
        later = NOW.replace(minute=31)  # only the dead feed is due again
        second = nightly.run_once(settings, now=later, window_end=later)
    assert second.status == "success", second.error
    assert second.counts["poll"]["feeds_polled"] == 1 and second.counts["poll"]["feeds_failed_temporary"] == 1
    failures, due = conn.execute("SELECT failure_count, next_poll_at FROM feeds WHERE name = 'dead'").fetchone()
    assert failures == 2 and due > later, "it backs off like any failing feed"
