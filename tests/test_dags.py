"""DAG contract tests, and `dag.test()` runs of news_nightly against the demo site into PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.demo import DemoSite, feeds_yaml

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.airflow


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"news_nightly"} <= set(dagbag.dag_ids)


def test_every_dag_has_tags_retries_and_docs(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md, dag_id
        for task in dag.tasks:
            assert task.retries >= 2, (dag_id, task.task_id)


def _last_0200(now: datetime) -> datetime:
    """The latest 02:00 UTC not after now: the end of the latest complete daily interval. A manual
    run of a CronDataIntervalTimetable DAG at that logical date covers the day before it."""
    end = now.replace(hour=2, minute=0, second=0, microsecond=0)
    return end if end <= now else end - timedelta(days=1)


def _point_newsflow_at(site: DemoSite, database_url: str, tmp_path: Path, monkeypatch) -> None:
    """Settings as the tasks read them (the environment): the test database, the demo's feeds."""
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(feeds_yaml(site), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSFLOW_FEEDS", str(feeds))
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWSFLOW_ALLOW_PRIVATE", "127.0.0.1")
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY", "0")


def _counts(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "articles",
                "article_topics",
                "story_clusters",
                "cluster_members",
                "events",
                "event_mentions",
            )
        }


def test_news_nightly_runs_end_to_end(dagbag, database_url, tmp_path, monkeypatch):
    import psycopg

    logical = _last_0200(datetime.now(UTC))
    with DemoSite(reference_time=logical) as site:
        _point_newsflow_at(site, database_url, tmp_path, monkeypatch)
        dag = dagbag.get_dag("news_nightly")

        first = dag.test(logical_date=logical)
        assert first.state == "success"
        assert first.data_interval_end == logical
        landed = _counts(database_url)

        expected = [a for a in site.articles if a.kind in {"news", "copy", "aggregator", "offtopic"}]
        assert landed["articles"] == len(expected)
        copy = next(a for a in site.articles if a.kind == "copy")
        news = next(a for a in site.articles if a.kind == "news" and a.topics)
        with psycopg.connect(database_url) as conn:
            title, text, topics = conn.execute(
                "SELECT va.title, a.text, va.topics FROM v_articles va JOIN articles a USING (id) WHERE va.url = %s",
                (site.url_for(news.slug),),
            ).fetchone()
            relation, original = conn.execute(
                "SELECT relation, original_url FROM v_articles WHERE url = %s", (site.url_for(copy.slug),)
            ).fetchone()
            run = conn.execute("SELECT status, counts FROM pipeline_runs ORDER BY id DESC LIMIT 1").fetchone()
        assert title == news.title
        assert news.body_paragraphs[1][:60] in text
        assert not any(junk in text for junk in news.boilerplate)
        assert set(news.topics) & set(topics)
        assert (relation, original) == ("copy", site.url_for(copy.original_slug))
        assert run[0] == "success" and run[1]["extract"]["stored"] == len(expected)

        second = dag.test(logical_date=logical + timedelta(days=1))
        assert second.state == "success"
        assert _counts(database_url) == landed
        with psycopg.connect(database_url) as conn:
            statuses = [r[0] for r in conn.execute("SELECT status FROM pipeline_runs ORDER BY id")]
        assert statuses == ["success", "success"]


def test_news_reclassify_relabels_after_a_taxonomy_change(dagbag, database_url, tmp_path, monkeypatch):
    import psycopg
    import yaml

    from pipeline.jobs import nightly
    from pipeline.settings import PROJECT_ROOT, load_settings

    with DemoSite(reference_time=datetime.now(UTC)) as site:
        _point_newsflow_at(site, database_url, tmp_path, monkeypatch)
        nightly.run_once(load_settings())

    # The analyst adds a topic to a copy of the shipped taxonomy: every label becomes stale.
    taxonomy = yaml.safe_load((PROJECT_ROOT / "config" / "topics.yaml").read_text(encoding="utf-8"))
    taxonomy["topics"].append(
        {"id": "prisons", "label": "Prisons", "description": "Prisons and prison breaks.",
         "keywords": [r"\bprisons?\b", r"\bjail(?:break|s)?\b"]}
    )  # fmt: skip
    edited = tmp_path / "topics.yaml"
    edited.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")
    monkeypatch.setenv("NEWSFLOW_TOPICS", str(edited))

    dag = dagbag.get_dag("news_reclassify")
    first = dag.test(logical_date=datetime.now(UTC))
    assert first.state == "success"
    with psycopg.connect(database_url) as conn:
        hashes = {r[0] for r in conn.execute("SELECT DISTINCT taxonomy_hash FROM article_classifications")}
        prisons = conn.execute("SELECT count(*) FROM article_topics WHERE topic_id = 'prisons'").fetchone()[0]
        counts = conn.execute(
            "SELECT counts FROM pipeline_runs WHERE kind = 'reclassify' ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    assert len(hashes) == 1 and prisons >= 1
    assert counts["reclassify"]["changed"] > 0

    again = dag.test(logical_date=datetime.now(UTC))
    assert again.state == "success"
    with psycopg.connect(database_url) as conn:
        counts = conn.execute(
            "SELECT counts FROM pipeline_runs WHERE kind = 'reclassify' ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    assert counts.get("reclassify", {}).get("changed", 0) == 0


def test_fetching_tasks_share_the_pool_and_ingest_dags_feed_the_brief(dagbag):
    """Fetching runs in the `newsflow_fetch` pool; finishing an ingest DAG updates the news Asset,
    on which `news_brief` is scheduled; a failed run marks its `pipeline_runs` row."""
    fetching = {"news_nightly": {"poll", "fetch"}, "news_backfill": {"load"}}
    for dag_id, task_ids in fetching.items():
        dag = dagbag.get_dag(dag_id)
        pools = {t.task_id: t.pool for t in dag.tasks}
        assert {t for t in task_ids if pools[t] == "newsflow_fetch"} == task_ids, (dag_id, pools)
        outlets = {o.uri for o in dag.get_task("finish").outlets}
        assert outlets == {"newsflow://news/articles"}, dag_id
        assert dag.on_failure_callback is not None, dag_id
    brief = dagbag.get_dag("news_brief")
    assert [a.uri for a in brief.timetable.asset_condition.objects] == ["newsflow://news/articles"]
