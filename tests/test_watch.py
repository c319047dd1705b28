"""`newsflow watch` (the real CLI in a subprocess) against the loopback site and a real PostgreSQL: new
items become articles with labels and events while it runs; SIGTERM ends it `interrupted` in bounded
time and a restart finishes the work like one clean run; beside `newsflow run`, each page is served
once and every host's politeness limit holds."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
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


def _feed_polls(loop: LoopSite) -> Counter[str]:
    with loop._lock:
        return Counter(host for host, path, _ in loop.log if path == "/feed.xml")


def _fetched_by_run_kind(database_url: str) -> dict[str, int]:
    """Pages fetched, by the kind of run that fetched them (for the assertion messages)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT r.kind, count(*) FROM fetch_log f JOIN pipeline_runs r ON r.id = f.run_id
               WHERE f.kind = 'page' GROUP BY r.kind"""
        ).fetchall()
    return dict(rows)


def _assert_each_item_once_and_hosts_polite(loop: LoopSite, database_url: str, *, polls_per_feed: set[int]) -> None:
    split = _fetched_by_run_kind(database_url)
    served = loop.page_requests()
    assert set(served.values()) == {1}, ({k: n for k, n in served.items() if n != 1}, split)
    assert len(served) == loop.article_count(), split
    polls = _feed_polls(loop)
    assert set(polls) == {host.address for host in loop.hosts} and set(polls.values()) <= polls_per_feed, (
        polls,
        split,
        _one(database_url, "SELECT array_agg(kind || ' until ' || window_end::text) FROM pipeline_runs"),
    )
    assert loop.smallest_gap() >= POLITE_DELAY * 0.75, (loop.smallest_gap(), split, _close_requests(loop))


def _close_requests(loop: LoopSite) -> list[tuple[str, str, str, float]]:
    """Pairs of requests to one host closer than the delay: (host, first path, second path, gap)."""
    with loop._lock:
        log = sorted(loop.log, key=lambda row: (row[0], row[2]))
    return [(a[0], a[1], b[1], round(b[2] - a[2], 3)) for a, b in zip(log, log[1:], strict=False)
            if a[0] == b[0] and b[2] - a[2] < POLITE_DELAY * 0.75]  # fmt: skip


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
                          JOIN article_work w ON w.article_id = a.id
                          WHERE a.url = %s AND w.link_state <> 'pending' AND w.events_state <> 'pending'"""
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
    # the feeds' interval is an hour: whichever process polled a feed first, the other left it alone
    _assert_each_item_once_and_hosts_polite(site, fresh, polls_per_feed={1})
    assert snapshot(fresh) == clean


@pytest.mark.airflow
def test_watch_beside_the_nightly_dag_takes_each_page_once_and_keeps_hosts_polite(
    dagbag, site, feeds_file, clean, fresh, tmp_path: Path
):
    """The `news_nightly` DAG itself (`airflow dags test`: its two fetch slots and mapped process tasks,
    in a process of its own as under a scheduler) with a watcher started once the DAG's run has begun:
    between them each page is served once, each feed polled once, and no host gets two requests
    closer than its delay. (In a subprocess, not `dag.test()` here: the site's servers run in this
    process, and Airflow working in it delays their threads, which shows as gaps shorter than the
    ones the clients kept.)"""
    site.log.clear()
    env = _env(fresh, site, feeds_file, tmp_path, NEWSFLOW_PER_HOST_DELAY=str(POLITE_DELAY))
    airflow = str(Path(sys.executable).parent / "airflow")
    logical = datetime.now(UTC).isoformat(timespec="seconds")
    dag = subprocess.Popen([airflow, "dags", "test", "news_nightly", logical], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    proc: subprocess.Popen[str] | None = None
    try:
        started = "SELECT count(*) FROM pipeline_runs WHERE kind = 'nightly'"
        _wait_for(lambda: _one(fresh, started) == 1 or dag.poll() is not None, 180, "the nightly run begun")
        proc = _start_watch(env)
        dag_out, _ = dag.communicate(timeout=300)
        assert dag.returncode == 0, dag_out[-3000:]
        _wait_for(lambda: _idle(fresh, site.article_count()), 90, "every page processed", proc)
    finally:
        if dag.poll() is None:
            dag.kill()
        err = _stop(proc)[1] if proc is not None else ""
    assert proc is not None and proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    kinds = _one(fresh, "SELECT array_agg(kind || ':' || status ORDER BY id) FROM pipeline_runs")
    assert kinds == ["nightly:success", "watch:interrupted"], kinds
    # A manual DAG run's window ends at the last 02:00: when its poll (at that time) comes first, it
    # leaves the entries published since to a later run and makes the feed due again from then, so
    # the watcher polls the feed once more and takes them. Never at once: the feed's row lock (SKIP
    # LOCKED) and the host lock keep the two polls apart, and the per-host delay holds between them.
    _assert_each_item_once_and_hosts_polite(site, fresh, polls_per_feed={1, 2})
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
