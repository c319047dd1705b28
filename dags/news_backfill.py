"""news_backfill: one day of archive per run, so that `airflow backfill create` fills a range.

Each task calls the library (`pipeline.jobs`); XCom carries only ids and counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task
from newsflow_airflow import default_args, task_settings

DOC = """
### news_backfill
Loads the archive of **one day** (the run's data interval, 03:00 to 03:00 UTC; the day is the
interval's start date) from the configured sources, then extracts, classifies, links syndicated
copies and finds events, like `news_nightly`. Fill a range with

    airflow backfill create --dag-id news_backfill --from-date 2024-01-01 --to-date 2024-01-31

**Sources**: the `sources` param (a list of `KIND:LOCATION`: `warc:/data/cc-news/`,
`sitemap:https://outlet.example/news-sitemap.xml`, `html:/data/saved/`, `urls:/data/urls.txt`),
else the Airflow Variable `newsflow_backfill_sources` (JSON list), else `$NEWSFLOW_BACKFILL_SOURCES`
(comma-separated). `newsflow gaps --from ... --to ...` finds the days worth backfilling.

**Re-running a day loads nothing twice**: raw pages are keyed by normalized URL, articles by URL and
content hash; pages already made into articles are not processed again.
**Politeness**: one run at a time (`max_active_runs=1`), so per-host limits hold across runs.
"""

DEFAULT_ARGS = default_args(retries=3, retry_delay=timedelta(minutes=5), max_retry_delay=timedelta(hours=1))


def _sources(params: dict) -> list[str]:  # type: ignore[type-arg]
    """The param, else the Variable, else the environment; read at run time only."""
    import json
    import os

    from airflow.sdk import Variable

    if params.get("sources"):
        return [str(s) for s in params["sources"]]
    configured = Variable.get("newsflow_backfill_sources", default=None)
    if configured:
        return [str(s) for s in json.loads(configured)]
    return [s.strip() for s in os.environ.get("NEWSFLOW_BACKFILL_SOURCES", "").split(",") if s.strip()]


@dag(
    dag_id="news_backfill",
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
    start_date=datetime(2015, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"sources": Param([], type="array", description="KIND:LOCATION backfill sources")},
    tags=["newsflow", "ingest", "backfill"],
    doc_md=DOC,
)
def news_backfill() -> None:
    @task
    def begin() -> int:
        from pipeline.db import connection
        from pipeline.runs import start_run

        ctx = get_current_context()
        with connection(task_settings()) as conn:
            return start_run(
                conn,
                "backfill",
                run_key=ctx["dag_run"].run_id,
                window_start=ctx["data_interval_start"],
                window_end=ctx["data_interval_end"],
            )

    @task
    def load(nf_run: int) -> dict[str, int]:
        from pipeline.db import connection
        from pipeline.jobs.backfill import backfill
        from pipeline.runs import record_stage

        ctx = get_current_context()
        day = ctx["data_interval_start"].date()
        settings = task_settings()
        total: dict[str, int] = {}
        with connection(settings) as conn:
            for source in _sources(ctx["params"]):
                counts = backfill(conn, settings, source, date_from=day, date_to=day, run_id=nf_run)
                record_stage(conn, nf_run, "backfill", counts, 0.0)
                conn.commit()
                total = {k: total.get(k, 0) + counts.get(k, 0) for k in {*total, *counts}}
        return total

    @task
    def link(nf_run: int, loaded: dict[str, int]) -> dict[str, int]:
        from pipeline.jobs.nightly import link_and_find_events

        return link_and_find_events(task_settings(), nf_run)

    @task
    def finish(nf_run: int, linked: dict[str, int]) -> dict[str, dict[str, int]]:
        from pipeline.jobs.nightly import end_run

        return end_run(task_settings(), nf_run).counts

    nf_run = begin()
    finish(nf_run, link(nf_run, load(nf_run)))


news_backfill()
