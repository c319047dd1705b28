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
