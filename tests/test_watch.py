"""`newsflow watch` (the real CLI in a subprocess) against the loopback site and a real PostgreSQL: new
items become articles with labels and events while it runs; SIGTERM ends it `interrupted` in bounded
time and a restart finishes the work like one clean run; beside `newsflow run`, each page is served
once and every host's politeness limit holds."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import test_reliability as rel
from loopsite import LoopSite
from test_reliability import POLITE_DELAY, _env, _newsflow, _run, snapshot

pytestmark = pytest.mark.reliability

# the reliability suite's site (4 hosts, 43 articles), feed list, clean-run database and fresh databases
site, feeds_file, clean, fresh = rel.site, rel.feeds_file, rel.clean, rel.fresh

STOP_WITHIN_S = 40  # SIGTERM to exit: the watch command's grace is 30 s


def _start_watch(env: dict[str, str], *, idle: float = 2) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _newsflow("watch", "--idle", str(idle)), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=STOP_WITHIN_S + 20)
    return out, err, time.monotonic() - started


def _wait_for(condition: Any, timeout: float, what: str, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"watch ended early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout} s: {what}")


def _one(url: str, query: str, *params: Any) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _idle(database_url: str, articles: int) -> bool:
    state = snapshot(database_url)
    return len(state["articles"]) == articles and all(n == 0 for _, n in state["pending"])


def test_watch_picks_up_items_published_while_it_runs(fresh, tmp_path):
    with LoopSite(hosts=2, pages_per_host=3, copies=0) as small:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(small.feeds_yaml(), encoding="utf-8")
        env = _env(fresh, small, feeds, tmp_path)
        proc = _start_watch(env, idle=60)  # idle, it sleeps up to 60 s unless a NOTIFY wakes it
        try:
            _wait_for(lambda: _idle(fresh, small.article_count()), 60, "the first items processed", proc)
            time.sleep(3)  # the watcher's next cycle finds no work, and it goes to sleep
            url = small.publish(1, event=True)
            published = time.monotonic()
            # the feed falls due (its interval is an hour; an operator's "poll now" does the same), and
            # the NOTIFY wakes the sleeping watcher at once instead of at the end of its idle time
            with psycopg.connect(fresh, autocommit=True) as conn:
                conn.execute(
                    "UPDATE feeds SET next_poll_at = now() WHERE url LIKE %s", (f"%{small.hosts[1].address}%",)
                )
                conn.execute("NOTIFY newsflow_work")
            # labelled, linked and read for events (whether it makes an event is the classifier's call)
            labelled = """SELECT count(*) FROM articles a JOIN article_classifications c ON c.article_id = a.id
                          WHERE a.url = %s AND a.link_state <> 'pending' AND a.events_state <> 'pending'"""
            _wait_for(lambda: _one(fresh, labelled, url) == 1, 30, f"{url} processed", proc)
            fresh_s = time.monotonic() - published
            beat = _one(fresh, "SELECT heartbeat_at > started_at FROM pipeline_runs WHERE kind = 'watch'")
            assert beat, "the watcher's heartbeat advances"
        finally:
            out, err, took = _stop(proc)
    assert fresh_s < 20, f"{fresh_s:.1f} s: the NOTIFY did not wake the sleeping watcher"
    woken = re.search(r"(\d+) woken by NOTIFY", err)
    assert woken and int(woken.group(1)) >= 1, err[-2000:]
    assert took < STOP_WITHIN_S, err[-2000:]
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "cycle" in out and "fetch: fetched" in out, out[-2000:]
    assert "watch run" in err and "interrupted" in err, err[-2000:]
    statuses = _one(fresh, "SELECT array_agg(status ORDER BY id) FROM pipeline_runs")
    assert statuses == ["interrupted"], statuses


def test_sigterm_mid_fetch_then_a_restart_ends_like_a_clean_run(site, feeds_file, clean, fresh, tmp_path):
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_PER_HOST_DELAY="0.3")
    site.log.clear()
    proc = _start_watch(env)
    _wait_for(lambda: bool(site.page_requests()), 60, "the first page requested", proc)
    _, err, took = _stop(proc)
    assert took < STOP_WITHIN_S, err[-2000:]
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert _one(fresh, "SELECT array_agg(status ORDER BY id) FROM pipeline_runs") == ["interrupted"], err[-2000:]
    assert len(snapshot(fresh)["articles"]) < site.article_count(), "stopped before the work was done"
    restart = _run(_env(fresh, site, feeds_file, tmp_path), "watch", "--cycles", "3", "--idle", "1")
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert snapshot(fresh) == clean
    statuses = _one(fresh, "SELECT array_agg(status ORDER BY id) FROM pipeline_runs")
    assert statuses == ["interrupted", "success"], statuses


def test_watch_beside_a_nightly_run_takes_each_page_once_and_keeps_hosts_polite(
    site, feeds_file, clean, fresh, tmp_path: Path
):
    site.log.clear()
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_PER_HOST_DELAY=str(POLITE_DELAY))
    proc = _start_watch(env)
    try:
        nightly = _run(env, "run")
        assert nightly.returncode == 0, nightly.stderr[-3000:]
        _wait_for(lambda: _idle(fresh, site.article_count()), 90, "every page processed", proc)
    finally:
        _, err, _took = _stop(proc)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    served = site.page_requests()
    assert set(served.values()) == {1}, {k: n for k, n in served.items() if n != 1}
    assert len(served) == site.article_count()
    assert site.smallest_gap() >= POLITE_DELAY * 0.75, site.smallest_gap()
    assert snapshot(fresh) == clean


@pytest.mark.parametrize("point", ["fetch:page_committed", "syndication:before_commit"])
def test_watch_killed_anywhere_then_a_restart_ends_like_a_clean_run(point, site, feeds_file, clean, fresh, tmp_path):
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_KILL_AT=point, NEWSFLOW_KILL_AFTER="2")
    killed = _run(env, "watch", "--idle", "1")
    assert killed.returncode == -9, f"not killed at {point}: {killed.returncode} {killed.stderr[-2000:]}"
    restart = _run(_env(fresh, site, feeds_file, tmp_path), "watch", "--cycles", "3", "--idle", "1")
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert snapshot(fresh) == clean
    statuses = _one(fresh, "SELECT array_agg(status ORDER BY id) FROM pipeline_runs")
    assert statuses == ["abandoned", "success"], statuses
