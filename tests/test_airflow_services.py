"""The DAGs under Airflow's real services, as production runs them.

api-server, scheduler and dag-processor run as separate processes (plus a Celery worker for the
CeleryExecutor class) with a temporary AIRFLOW_HOME, a fresh PostgreSQL metadata database, and one
shared fernet key, api secret key and JWT secret. The tests drive them as a user would: REST v2 (token,
unpause, trigger without a logical date, clear, Variables, Connections, pools) and the `airflow` CLI
(`backfill create`), and check the news database. Every process started here is stopped at the end
of its class, also when a test fails.

Slow (a few minutes) and heavy (about 1 GiB while the services run): deselect with
`-m "not airflow_services"`; run alone with `pytest -m airflow_services tests/test_airflow_services.py`.
Needs PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_URL) and, for the Celery class, Redis on
127.0.0.1:6379.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from test_backfill import article_html, write_warc

from pipeline.demo import DemoSite, feeds_yaml

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = str(Path(sys.executable).parent / "airflow")
pytestmark = [pytest.mark.airflow, pytest.mark.airflow_services]
NEWS_KINDS = {"news", "copy", "aggregator", "offtopic"}  # the demo pages that become articles
REDIS = ("127.0.0.1", 6379)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        result = check()
        if result:
            print(f"[airflow services] {what}: {time.monotonic() - started:.1f} s")
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {result!r})")
        time.sleep(every)


class Airflow:
    """Airflow's components as separate processes, each in its own process group."""

    def __init__(self, home: Path, env: dict[str, str], port: int) -> None:
        self.home, self.env, self.port = home, env, port
        self.base = f"http://127.0.0.1:{port}"
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.client = httpx.Client(base_url=self.base, timeout=30)

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        print(f"[airflow services] airflow {' '.join(args[:2])}: {time.monotonic() - started:.1f} s")
        assert result.returncode == 0, f"airflow {' '.join(args)}: {result.stderr[-3000:]}"
        return result

    def start(self, name: str, *args: str) -> None:
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [AIRFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs.append((name, proc))

    def stop(self) -> None:
        """SIGTERM to each component's process group (the scheduler first), then SIGKILL what is left."""
        self.client.close()
        order = sorted(self.procs, key=lambda p: p[0] != "scheduler")
        for _, proc in order:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            _signal_group(proc.pid, signal.SIGKILL)  # children left behind by a component that exited

    def log_tails(self) -> str:
        parts = []
        for name, _ in self.procs:
            text = (self.home / f"{name}.log").read_text(errors="replace")
            parts.append(f"--- {name}.log (tail)\n{text[-4000:]}")
        return "\n".join(parts)

    def login(self) -> None:
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())
        reply = self.client.post("/auth/token", json={"username": "admin", "password": passwords["admin"]})
        assert reply.status_code in (200, 201), reply.text
        self.client.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"

    def api(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        reply = self.client.request(method, f"/api/v2{path}", json=body)
        assert reply.status_code in ok, f"{method} {path}: {reply.status_code} {reply.text[:2000]}"
        return reply.json() if reply.content else None

    def healthy(self) -> bool:
        try:
            reply = self.client.get("/api/v2/monitor/health")
        except httpx.HTTPError:
            return False
        if reply.status_code != 200:
            return False
        health = reply.json()
        return all(health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "dag_processor"))

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_run(self, dag_id: str, run_id: str, want: str, timeout: float) -> None:
        final = wait_for(
            f"{dag_id} run {run_id} to finish",
            lambda: (s := self.run_state(dag_id, run_id)) in ("success", "failed") and s,
            timeout,
        )
        assert final == want, f"{dag_id} {run_id} is {final}, expected {want}\n{self.task_states(dag_id, run_id)}"

    def task_states(self, dag_id: str, run_id: str) -> list[tuple[str, int, str, int]]:
        tis = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
        return [(t["task_id"], t["map_index"], t["state"], t["try_number"]) for t in tis]

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"])

    def trigger(self, dag_id: str) -> str:
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": {}})
        assert run["logical_date"] is None
        return str(run["dag_run_id"])

    def point_at(self, database_url: str) -> None:
        """The `newsflow_db` connection (read by the tasks at run time) names this news database."""
        info = psycopg.conninfo.conninfo_to_dict(database_url)
        body = {
            "connection_id": "newsflow_db", "conn_type": "postgres", "host": info.get("host", "127.0.0.1"),
            "port": int(info.get("port", 5432)), "login": info.get("user", "postgres"), "schema": info["dbname"],
            "password": info.get("password"),
        }  # fmt: skip
        exists = self.client.get("/api/v2/connections/newsflow_db").status_code == 200
        if exists:
            self.api("PATCH", "/connections/newsflow_db", body)
        else:
            self.api("POST", "/connections", body)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group has exited already: nothing to stop
        os.killpg(pgid, sig)


def _redis_db() -> int:
    """A Redis database number nobody uses (empty), so the test's broker queue is its own."""
    import redis

    for number in range(15, 0, -1):
        client = redis.Redis(*REDIS, db=number)
        try:
            if client.dbsize() == 0:
                return number
        finally:
            client.close()
    pytest.skip("no empty Redis database on 127.0.0.1:6379 for the Celery broker")


@pytest.fixture(scope="module")
def demo_port() -> int:
    return _free_port()


@pytest.fixture(scope="module")
def news_db(pg_admin_url: str, pg_template: str) -> Iterator[Callable[[], str]]:
    """Makes fresh migrated news databases (one per scenario); drops them at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"newsflow_af_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(pg_template))
            )
        made.append(name)
        info = psycopg.conninfo.conninfo_to_dict(pg_admin_url)
        info["dbname"] = name
        return psycopg.conninfo.make_conninfo(**info)

    yield make
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _services(executor: str, pg_admin_url: str, tmp: Path, demo_port: int) -> Iterator[Airflow]:
    from cryptography.fernet import Fernet
    from sqlalchemy.engine import make_url

    if "127.0.0.1" not in pg_admin_url and "localhost" not in pg_admin_url:
        pytest.skip(
            f"the Airflow services need a TCP PostgreSQL (127.0.0.1:5432 or TEST_DATABASE_URL); have {pg_admin_url}"
        )
    meta = f"airflow_meta_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(meta)))
    meta_url = make_url(pg_admin_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=meta)
    port = _free_port()
    home = tmp / "airflow-home"
    home.mkdir()
    feeds = tmp / "feeds.yaml"
    with DemoSite(port=demo_port) as site:  # only to write the feed list: same port, same URLs
        feeds.write_text(feeds_yaml(site), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSFLOW_", "DATABASE_URL"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url.render_as_string(hide_password=False),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__API__WORKERS": "1",
        "PYTHONPATH": str(ROOT),
        "NEWSFLOW_FEEDS": str(feeds),
        "NEWSFLOW_HOME": str(tmp / "newsflow-home"),
        "NEWSFLOW_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSFLOW_PER_HOST_DELAY": "0",
        "NEWSFLOW_HTTP_TIMEOUT": "5",
        "NEWSFLOW_RETRIES": "1",  # one request per page: the outage tests fail (and retry) in seconds
        "NEWSFLOW_AIRFLOW_RETRY_DELAY": "1",
    })  # fmt: skip
    if executor == "CeleryExecutor":
        env["AIRFLOW__CELERY__BROKER_URL"] = f"redis://{REDIS[0]}:{REDIS[1]}/{_redis_db()}"
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + meta_url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
    airflow = Airflow(home, env, port)
    try:
        airflow.cli("db", "migrate", timeout=300)
        airflow.start("api-server", "api-server", "--port", str(port), "--host", "127.0.0.1")
        airflow.start("scheduler", "scheduler")
        airflow.start("dag-processor", "dag-processor")
        if executor == "CeleryExecutor":
            airflow.start("celery-worker", "celery", "worker", "--concurrency", "2")
        wait_for("the api-server, scheduler and dag-processor to be healthy", airflow.healthy, 180, every=2)
        airflow.login()
        airflow.api("POST", "/pools", {"name": "newsflow_fetch", "slots": 2, "description": "newsflow: fetching"})
        for dag_id in ("news_nightly", "news_backfill", "news_brief"):
            wait_for(
                f"{dag_id} to be parsed",
                lambda d=dag_id: airflow.client.get(f"/api/v2/dags/{d}").status_code == 200,
                180,
                every=2,
            )
        errors = airflow.api("GET", "/importErrors")
        assert errors["total_entries"] == 0, errors
        yield airflow
    except BaseException:
        print(airflow.log_tails())
        raise
    finally:
        airflow.stop()
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(meta)))


def _articles(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _run_row(database_url: str, run_key: str) -> tuple[str, dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT status, counts FROM pipeline_runs WHERE run_key = %s ORDER BY id", (run_key,)
        ).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0], rows[0][1]


def _statuses(database_url: str, run_key: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        return {r[0] for r in conn.execute("SELECT status FROM pipeline_runs WHERE run_key = %s", (run_key,))}


def _nightly_loads_the_demo(airflow: Airflow, news_db: Callable[[], str], demo_port: int) -> str:
    """Manual run without a logical date, under the real scheduler: every demo article lands once;
    the Asset then schedules news_brief."""
    database = news_db()
    airflow.point_at(database)
    with DemoSite(port=demo_port) as site:
        expected = sum(a.kind in NEWS_KINDS for a in site.articles)
        airflow.api("PATCH", "/dags/news_brief", {"is_paused": False})
        run_id = airflow.trigger("news_nightly")
        airflow.api("PATCH", "/dags/news_nightly", {"is_paused": False})
        airflow.wait_run("news_nightly", run_id, "success", timeout=240)
        # Unpausing also let the scheduler make the run of the latest interval: let it finish too.
        wait_for(
            "every news_nightly run to finish",
            lambda: all(r["state"] in ("success", "failed") for r in airflow.runs("news_nightly")),
            240,
            every=2,
        )
    runs = airflow.runs("news_nightly")
    assert {r["state"] for r in runs} == {"success"}
    assert {r["run_type"] for r in runs} == {"manual", "scheduled"}
    assert _articles(database) == (expected, expected)
    assert _run_row(database, run_id)[0] == "success"
    with psycopg.connect(database) as conn:
        window = conn.execute("SELECT window_end - window_start FROM pipeline_runs WHERE run_key = %s", (run_id,))
        assert window.fetchone()[0].days == 1
        rows = conn.execute("SELECT status, counts FROM pipeline_runs WHERE kind = 'nightly'").fetchall()
    # The scheduled run of the latest interval may have loaded part of the demo before or after it.
    assert {status for status, _ in rows} == {"success"}
    assert sum(counts.get("extract", {}).get("stored", 0) for _, counts in rows) == expected
    briefs = wait_for(
        "news_brief to run on the news Asset",
        lambda: [r for r in airflow.runs("news_brief") if r["state"] == "success"],
        120,
        every=2,
    )
    assert briefs[0]["run_type"] == "asset_triggered"
    tis = airflow.api("GET", f"/dags/news_nightly/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
    assert {t["task_id"] for t in tis if t["pool"] == "newsflow_fetch"} >= {"poll"}
    return run_id


@pytest.fixture(scope="class")
def local_airflow(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory, demo_port: int) -> Iterator[Airflow]:
    """The services with the LocalExecutor, for the tests of one class (stopped at its end)."""
    yield from _services("LocalExecutor", pg_admin_url, tmp_path_factory.mktemp("af-local"), demo_port)


@pytest.fixture(scope="class")
def celery_airflow(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory, demo_port: int) -> Iterator[Airflow]:
    """The services with the CeleryExecutor and one worker of concurrency 2 on the machine's Redis."""
    if not _answers(REDIS):
        pytest.skip("the CeleryExecutor test needs Redis on 127.0.0.1:6379 (the broker)")
    yield from _services("CeleryExecutor", pg_admin_url, tmp_path_factory.mktemp("af-celery"), demo_port)


class TestLocalExecutor:
    @pytest.fixture()
    def airflow(self, local_airflow: Airflow) -> Airflow:
        return local_airflow

    def test_manual_run_without_logical_date(self, airflow: Airflow, news_db: Callable[[], str], demo_port: int):
        _nightly_loads_the_demo(airflow, news_db, demo_port)

    def test_a_broken_feed_list_fails_the_run_and_its_row(self, airflow: Airflow, news_db: Callable[[], str]):
        database = news_db()
        airflow.point_at(database)
        airflow.api("PATCH", "/dags/news_nightly", {"is_paused": False})
        feeds = Path(airflow.env["NEWSFLOW_FEEDS"])
        good = feeds.read_text(encoding="utf-8")
        feeds.write_text("feeds: [unclosed\n", encoding="utf-8")
        try:
            run_id = airflow.trigger("news_nightly")
            airflow.wait_run("news_nightly", run_id, "failed", timeout=240)
        finally:
            feeds.write_text(good, encoding="utf-8")
        states = {t[0]: t for t in airflow.task_states("news_nightly", run_id)}
        assert states["begin"][2] == "failed" and states["finish"][2] == "upstream_failed", states
        # The DAG's on_failure_callback (run by the dag-processor) marks the rows begin had opened.
        assert wait_for("the pipeline_runs rows to be failed", lambda: _statuses(database, run_id) == {"failed"}, 60)

    def test_site_down_mid_run_fails_then_a_clear_succeeds(
        self, airflow: Airflow, news_db: Callable[[], str], demo_port: int
    ):
        database = news_db()
        airflow.point_at(database)
        airflow.api("PATCH", "/dags/news_nightly", {"is_paused": False})
        reference = datetime.now(UTC).replace(second=0, microsecond=0)
        site = DemoSite(reference_time=reference, port=demo_port).start()
        expected = sum(a.kind in NEWS_KINDS for a in site.articles)
        feeds = {"/feeds/rss.xml", "/feeds/atom.xml"}
        try:
            run_id = airflow.trigger("news_nightly")
            # The feeds are read, then the site goes away before any article page is fetched.
            wait_for("both feeds to be polled", lambda: feeds <= {p for p, _ in list(site.request_log)}, 120, 0.02)
        finally:
            site.stop()
        airflow.wait_run("news_nightly", run_id, "failed", timeout=240)
        failed = [t for t in airflow.task_states("news_nightly", run_id) if t[2] == "failed"]
        assert failed and all(t[3] > 1 for t in failed), failed  # retried before failing
        assert wait_for("the pipeline_runs row to be failed", lambda: _run_row(database, run_id)[0] == "failed", 60)
        assert _articles(database)[0] == 0

        with DemoSite(reference_time=reference, port=demo_port):
            airflow.api("POST", f"/dags/news_nightly/dagRuns/{run_id}/clear", {"dry_run": False, "only_failed": True})
            wait_for("the cleared run to start", lambda: airflow.run_state("news_nightly", run_id) != "failed", 60)
            airflow.wait_run("news_nightly", run_id, "success", timeout=240)
        assert _articles(database) == (expected, expected)
        assert _run_row(database, run_id)[0] == "success"

    def test_site_down_at_poll_time_fails_then_a_clear_polls_again(
        self, airflow: Airflow, news_db: Callable[[], str], demo_port: int
    ):
        database = news_db()
        airflow.point_at(database)
        airflow.api("PATCH", "/dags/news_nightly", {"is_paused": False})
        reference = datetime.now(UTC).replace(second=0, microsecond=0)
        assert not _answers(("127.0.0.1", demo_port))  # the site is down: every feed refuses to connect
        run_id = airflow.trigger("news_nightly")
        airflow.wait_run("news_nightly", run_id, "failed", timeout=240)
        states = {t[0]: t for t in airflow.task_states("news_nightly", run_id)}
        assert states["poll"][2] == "failed" and states["poll"][3] > 1, states  # retried before failing
        assert wait_for("the pipeline_runs row to be failed", lambda: _run_row(database, run_id)[0] == "failed", 60)

        # Back up: the cleared run polls the feeds that failed, although their retry time is past its window.
        with DemoSite(reference_time=reference, port=demo_port) as site:
            expected = sum(a.kind in NEWS_KINDS for a in site.articles)
            airflow.api("POST", f"/dags/news_nightly/dagRuns/{run_id}/clear", {"dry_run": False, "only_failed": True})
            wait_for("the cleared run to start", lambda: airflow.run_state("news_nightly", run_id) != "failed", 60)
            airflow.wait_run("news_nightly", run_id, "success", timeout=240)
        assert _articles(database) == (expected, expected)
        assert _run_row(database, run_id)[0] == "success"

    def test_backfill_loads_each_day_once(self, airflow: Airflow, news_db: Callable[[], str], tmp_path: Path):
        database = news_db()
        airflow.point_at(database)
        warc = tmp_path / "archive.warc.gz"
        days = (3, 4, 5, 6, 7)  # the backfill asks for 4..6: 3 and 7 must stay out
        write_warc(
            warc,
            [(f"https://wire.example/2024/03/0{d}/story-{i}", 200, "text/html", article_html(f"Day {d} story {i}", 6),
              f"2024-03-0{d}T12:00:00Z") for d in days for i in range(2)],
        )  # fmt: skip
        airflow.api("POST", "/variables", {"key": "newsflow_backfill_sources", "value": json.dumps([f"warc:{warc}"])})
        airflow.api("PATCH", "/dags/news_backfill", {"is_paused": False})
        scheduled = {r["dag_run_id"] for r in airflow.runs("news_backfill")}

        def backfill(*extra: str) -> None:
            airflow.cli(
                "backfill", "create", "--dag-id", "news_backfill", "--from-date", "2024-03-04",
                "--to-date", "2024-03-06", "--max-active-runs", "3", *extra,
            )  # fmt: skip
            done = wait_for(
                "the backfill to complete",
                lambda: all(
                    b["completed_at"] for b in airflow.api("GET", "/backfills?dag_id=news_backfill")["backfills"]
                ),
                300,
                every=2,
            )
            assert done

        backfill()
        runs = [r for r in airflow.runs("news_backfill") if r["run_type"] == "backfill"]
        assert sorted(r["logical_date"][:10] for r in runs) == ["2024-03-04", "2024-03-05", "2024-03-06"]
        assert {r["state"] for r in runs} == {"success"}, [
            airflow.task_states("news_backfill", r["dag_run_id"]) for r in runs
        ]
        with psycopg.connect(database) as conn:
            urls = sorted(r[0] for r in conn.execute("SELECT url FROM articles"))
        assert urls == sorted(f"https://wire.example/2024/03/0{d}/story-{i}" for d in (4, 5, 6) for i in range(2))

        backfill("--reprocess-behavior", "completed")
        assert _articles(database) == (6, 6)
        with psycopg.connect(database) as conn:
            statuses = [r[0] for r in conn.execute("SELECT status FROM pipeline_runs WHERE kind = 'backfill'")]
        assert statuses and set(statuses) == {"success"}
        assert scheduled <= {r["dag_run_id"] for r in airflow.runs("news_backfill")}


class TestCeleryExecutor:
    @pytest.fixture()
    def airflow(self, celery_airflow: Airflow) -> Airflow:
        return celery_airflow

    def test_manual_run_on_a_celery_worker(self, airflow: Airflow, news_db: Callable[[], str], demo_port: int):
        run_id = _nightly_loads_the_demo(airflow, news_db, demo_port)
        tis = airflow.task_states("news_nightly", run_id)
        log = (airflow.home / "celery-worker.log").read_text(errors="replace")
        received = log.count("] received")  # one line per task instance the worker took from the broker
        assert received >= len(tis), (tis, log[-3000:])
