"""news_brief: runs when the news tables changed (the Asset `newsflow_news`), after `news_nightly`
or `news_backfill` finished. A placeholder for the analysts' daily brief: for now it logs what the
latest run loaded and skipped, and what waits in each stage (`newsflow status`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from newsflow_airflow import NEWS, default_args, task_settings

DOC = """
### news_brief
Scheduled on the Asset `newsflow_news`, which `news_nightly` and `news_backfill` update when they
finish. Placeholder for the analysts' daily brief (not written yet): it logs the latest successful
ingest run's stored articles and skips by reason, and per stage the items pending and parked (what
`newsflow status` shows), and returns them.
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
        from pipeline.jobs.status import stage_work
        from pipeline.runs import latest_report

        log = logging.getLogger(__name__)
        with connection(task_settings()) as conn:
            report = latest_report(conn, ("nightly", "backfill"))
            work = stage_work(conn)
        found: dict[str, int] = {}
        if report is not None:
            found["stored"] = report.counts.get("extract", {}).get("stored", 0)
            found.update(report.skips())
            log.info("run %s: %s articles stored; skips: %s", report.run_id, found["stored"], report.skips())
        for stage in work:
            log.info("%s: %s pending, %s failed, %s parked", stage.stage, stage.pending, stage.failed, stage.parked)
            found.update({f"{stage.stage}:pending": stage.pending, f"{stage.stage}:parked": stage.parked})
        return found

    summary()


news_brief()
