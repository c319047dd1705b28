"""`dag.test()` runs of news_continuous against the demo site into PostgreSQL: a run takes whatever is
pending, and a second run right after finds nothing new and loads nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from test_dags import _counts, _point_newsflow_at

from pipeline.demo import DemoSite

pytestmark = pytest.mark.airflow


def test_news_continuous_processes_whatever_is_pending(dagbag, database_url, tmp_path, monkeypatch):
    assert "news_continuous" in dagbag.dag_ids
    dag = dagbag.get_dag("news_continuous")
    assert dag.max_active_runs == 1 and not dag.catchup
    with DemoSite(reference_time=datetime.now(UTC)) as site:
        _point_newsflow_at(site, database_url, tmp_path, monkeypatch)
        first = dag.test(logical_date=datetime.now(UTC))
        assert first.state == "success"
        landed = _counts(database_url)
        expected = [a for a in site.articles if a.kind in {"news", "copy", "aggregator", "offtopic"}]
        assert landed["articles"] == len(expected)
        assert landed["article_topics"] > 0 and landed["cluster_members"] > 0
        again = dag.test(logical_date=datetime.now(UTC))
        assert again.state == "success"
        assert _counts(database_url) == landed
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT kind, status FROM pipeline_runs ORDER BY id").fetchall()
        pending = conn.execute("SELECT count(*) FROM article_work WHERE events_state = 'pending'").fetchone()[0]
    assert rows == [("continuous", "success"), ("continuous", "success")]
    assert pending == 0
