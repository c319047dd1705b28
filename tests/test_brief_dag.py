"""`news_brief` under Airflow: scheduled on the news tables' Asset, a `dag.test()` run writes the brief
of the day before its logical date into the brief_dir setting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from analyst_world import DAY, seed

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def brief_dag(dagbag: Any) -> Any:
    bag = dagbag
    assert not {k: v for k, v in bag.import_errors.items() if "news_brief" in k or "newsflow_airflow" in k}
    dag = bag.get_dag("news_brief")
    assert dag is not None and dag.tags and dag.doc_md
    assert all(t.retries >= 2 for t in dag.tasks)
    return dag


def test_brief_dag_is_scheduled_on_the_news_tables_asset(brief_dag: Any) -> None:
    from newsflow_airflow import NEWS

    assets = list(brief_dag.timetable.asset_condition.objects)
    assert [(a.name, a.uri) for a in assets] == [(NEWS.name, NEWS.uri)]


def test_brief_dag_writes_the_days_brief(
    brief_dag: Any, conn: Any, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(conn)
    briefs = tmp_path / "briefs"
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWSFLOW_BRIEF_DIR", str(briefs))
    run = brief_dag.test(logical_date=datetime(2024, 3, 6, 4, tzinfo=UTC))
    assert run.state == "success"
    page = briefs / f"brief-{DAY}.html"
    assert [p.name for p in briefs.iterdir()] == [page.name]
    assert "Islamic State fighters attacked" in page.read_text(encoding="utf-8")
