"""news_continuous: whatever is pending, every 5 minutes (the Airflow form of `newsflow watch`).

The same functions as news_nightly, on no data interval: poll the feeds due now, fetch what is pending,
process, link and find events. Safe beside news_nightly, a backfill or `newsflow watch`: every stage
claims its work in PostgreSQL (docs/reliability.md), so none takes an item another holds and no host
gets requests faster than its limit. XCom carries the run id and counts only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task
from newsflow_airflow import default_args, task_settings

DOC = """
### news_continuous
Every 5 minutes: poll the feeds that are due (each feed's own interval, backoff and conditional GET),
fetch the new pages within the host limits, extract, classify, link syndicated copies and extract
events, for whatever is pending. One run at a time; a run that overruns delays the next, never
doubles it. `news_nightly` stays the catch-all, and the nightly brief and maintenance run there.

**Database**: the `newsflow_db` Airflow connection, else `$DATABASE_URL`.
"""

DEFAULT_ARGS = default_args(retries=2, retry_delay=timedelta(seconds=30), max_retry_delay=timedelta(minutes=2))


@dag(
    dag_id="news_continuous",
    schedule=CronTriggerTimetable("*/5 * * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "ingest", "continuous"],
    doc_md=DOC,
)
def news_continuous() -> None:
    @task
    def begin() -> int:
        from pipeline.jobs.nightly import begin_run

        return begin_run(task_settings(), "continuous", run_key=get_current_context()["dag_run"].run_id)

    @task
    def poll(nf_run: int) -> dict[str, int]:
        from datetime import UTC

        from pipeline.jobs.nightly import poll as poll_feeds

        ctx = get_current_context()
        now = ctx.get("logical_date") or ctx["dag_run"].run_after or datetime.now(UTC)
        return poll_feeds(task_settings(), nf_run, now=now, window_end=None)

    @task
    def fetch(nf_run: int) -> dict[str, int]:
        from pipeline.jobs.nightly import fetch_pending

        return fetch_pending(task_settings(), nf_run)

    @task
    def process(nf_run: int) -> dict[str, int]:
        from pipeline.jobs.nightly import process_pending

        return process_pending(task_settings(), nf_run)

    @task
    def link(nf_run: int) -> dict[str, int]:
        from pipeline.jobs.nightly import link_and_find_events

        return link_and_find_events(task_settings(), nf_run)

    @task(trigger_rule="none_failed")
    def finish(nf_run: int) -> dict[str, dict[str, int]]:
        from pipeline.jobs.nightly import end_run

        return end_run(task_settings(), nf_run).counts

    nf_run = begin()
    poll(nf_run) >> fetch(nf_run) >> process(nf_run) >> link(nf_run) >> finish(nf_run)


news_continuous()
