"""news_brief: runs when the news tables changed (the Asset `newsflow_news`), after `news_nightly`
or `news_backfill` finished. A placeholder for the analysts' daily brief: for now it logs what the
latest run loaded and skipped, by stage and reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from newsflow_airflow import NEWS, default_args, task_settings

DOC = """
### news_brief
Scheduled on the Asset `newsflow_news`, which `news_nightly` and `news_backfill` update when they
finish. Placeholder for the daily brief: it logs the latest successful ingest run's counts and its
skips by reason (what `newsflow status` shows for feeds), and returns them.
"""

DEFAULT_ARGS = default_args(retries=2, retry_delay=timedelta(minutes=1), max_retry_delay=timedelta(minutes=10))


@dag(
    dag_id="news_brief",
    schedule=[NEWS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "brief"],
    doc_md=DOC,
)
def news_brief() -> None:
    @task(multiple_outputs=False)
    def summary() -> dict[str, int]:
        import logging

        from pipeline.db import connection
        from pipeline.runs import latest_report

        with connection(task_settings()) as conn:
            report = latest_report(conn, ("nightly", "backfill"))
        if report is None:
            logging.getLogger(__name__).info("no successful ingest run yet")
            return {}
        loaded = report.counts.get("extract", {}).get("stored", 0)
        logging.getLogger(__name__).info("run %s: %s articles stored; skips: %s", report.run_id, loaded, report.skips())
        return {"run_id": int(report.run_id or 0), "stored": loaded, **report.skips()}

    summary()


news_brief()
