"""news_nightly: yesterday's news, from the feeds to PostgreSQL.

Each task calls one function of `pipeline.jobs`; all work and all data stay in the library and the
database, and XCom carries only ids and counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task
from newsflow_airflow import default_args, task_settings

DOC = """
### news_nightly
Runs the newsflow pipeline once a day at 02:00 UTC for the previous day's data interval:
sync `config/feeds.yaml` into `feeds`, poll the due feeds, fetch new pages in batches (one mapped
task per batch: fetch, extract, classify), then link syndicated copies over the archive window and
extract events. Counts per stage and outcome land in `pipeline_runs`.

**Database**: the `newsflow_db` Airflow connection, else `$DATABASE_URL`.
**Re-running a day** loads nothing twice: every load is keyed by normalized URL or content hash.
"""

# Parallel workers per stage: each takes its own work from PostgreSQL (hosts, pages), never the same.
WORKER_SLOTS = [0, 1]
DEFAULT_ARGS = default_args(retries=3, retry_delay=timedelta(minutes=2), max_retry_delay=timedelta(minutes=30))


@dag(
    dag_id="news_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "ingest", "nightly"],
    doc_md=DOC,
)
def news_nightly() -> None:
    @task
    def begin() -> int:
        from pipeline.jobs.nightly import begin_run

        ctx = get_current_context()
        return begin_run(
            task_settings(),
            "nightly",
            run_key=ctx["dag_run"].run_id,
            window_start=ctx["data_interval_start"],
            window_end=ctx["data_interval_end"],
        )

    @task
    def poll(nf_run: int) -> dict[str, int]:
        from pipeline.jobs.nightly import poll as poll_feeds

        ctx = get_current_context()
        end = ctx["data_interval_end"]
        return poll_feeds(task_settings(), nf_run, now=end, window_end=end)

    @task(max_active_tis_per_dag=2)
    def fetch(nf_run: int, slot: int) -> dict[str, int]:
        from pipeline.jobs.nightly import fetch_pending

        return fetch_pending(task_settings(), nf_run)

    @task(max_active_tis_per_dag=2)
    def process(nf_run: int, slot: int) -> dict[str, int]:
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
    polled = poll(nf_run)
    fetched = fetch.partial(nf_run=nf_run).expand(slot=WORKER_SLOTS)
    processed = process.partial(nf_run=nf_run).expand(slot=WORKER_SLOTS)
    linked = link(nf_run)
    polled >> fetched >> processed >> linked >> finish(nf_run)


news_nightly()
