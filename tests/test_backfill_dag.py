"""`news_backfill` under Airflow: one day of a WARC per run, a rerun of the day loads nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_backfill import article_html, write_warc

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def backfill_dag(dagbag: Any) -> Any:
    bag = dagbag
    assert not {k: v for k, v in bag.import_errors.items() if "news_backfill" in k}
    dag = bag.get_dag("news_backfill")
    assert dag is not None and dag.tags and dag.doc_md
    assert all(t.retries >= 2 for t in dag.tasks)
    return dag


def test_backfill_dag_loads_one_day_per_run(
    backfill_dag: Any, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    warc = tmp_path / "archive.warc.gz"
    write_warc(
        warc,
        [(f"https://wire.example/2024/03/0{d}/story-{i}", 200, "text/html", article_html(f"Day {d} story {i}", 6),
          f"2024-03-0{d}T12:00:00Z") for d in (4, 5) for i in range(2)],
    )  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWSFLOW_BACKFILL_SOURCES", f"warc:{warc}")
    # A manual run at a date (dag.test, `airflow dags test`) takes the complete day before it: the
    # run at 2024-03-06 00:00 loads 2024-03-05. (A backfill run's logical date is its day instead.)
    run = backfill_dag.test(logical_date=datetime(2024, 3, 6, tzinfo=UTC))
    assert run.state == "success"
    urls = sorted(r[0] for r in conn.execute("SELECT url FROM articles").fetchall())
    assert urls == ["https://wire.example/2024/03/05/story-0", "https://wire.example/2024/03/05/story-1"]
    conn.commit()
    again = backfill_dag.test(logical_date=datetime(2024, 3, 6, tzinfo=UTC))
    assert again.state == "success"
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == 2


def test_backfill_dag_fails_when_no_source_resolves(
    backfill_dag: Any, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, conn: Any
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEWSFLOW_BACKFILL_SOURCES", raising=False)
    monkeypatch.delenv("AIRFLOW_VAR_NEWSFLOW_BACKFILL_SOURCES", raising=False)
    run = backfill_dag.test(logical_date=datetime(2024, 3, 5, tzinfo=UTC))
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["begin"] == "failed" and states["load"] == "upstream_failed"
    assert conn.execute("SELECT count(*) FROM pipeline_runs").fetchone()[0] == 0
