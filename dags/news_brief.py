"""news_brief: the daily brief, written each time the news tables are updated.

Scheduled on the `NEWS` Asset (dags/newsflow_airflow.py), which the loading DAGs update; the
work is `pipeline.analysis.brief.write_brief`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import dag, get_current_context, task
from newsflow_airflow import NEWS, default_args, task_settings

DOC = """
### news_brief
Writes the daily brief (`brief-YYYY-MM-DD.html`: the day's stories by topic, a timeline of stories
per topic over the last 7 days, the events with independent sources, a map of geocoded events) into
the `brief_dir` setting (`$NEWSFLOW_BRIEF_DIR`, default `$NEWSFLOW_HOME/briefs`), each time the
news tables (Asset `newsflow_news`) are updated. The day is the `day` of the triggering Asset event
when it names one, else the day before the run's logical date (or run time).
"""


def brief_day(ctx: Any) -> date:
    """The day the run briefs: the latest triggering Asset event's `day`, else the day before the run."""
    events = ctx.get("triggering_asset_events") or {}
    named = [e.extra["day"] for evs in events.values() for e in evs if (e.extra or {}).get("day")]
    if named:
        return date.fromisoformat(max(named))
    run = ctx["dag_run"]
    when = run.logical_date or run.run_after
    return (when - timedelta(days=1)).date()


@dag(
    dag_id="news_brief",
    schedule=[NEWS],
    start_date=datetime(2020, 1, 1),  # an asset schedule has no catch-up; an old start lets dag.test() brief old days
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=2, retry_delay=timedelta(minutes=2), max_retry_delay=timedelta(minutes=10)),
    tags=["newsflow", "analysis", "brief"],
    doc_md=DOC,
)
def news_brief() -> None:
    @task
    def write() -> str:
        from pipeline.analysis.brief import write_brief
        from pipeline.db import connection

        settings = task_settings()
        with connection(settings) as conn:
            brief = write_brief(conn, settings.briefs, brief_day(get_current_context()), days=7)
        return str(brief.path)

    write()


news_brief()
