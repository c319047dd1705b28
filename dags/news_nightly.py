"""news_nightly: yesterday's news, from the feeds to PostgreSQL.

Each task calls one function of `pipeline.jobs`; all work and all data stay in the library and the
database, and XCom carries only ids and counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task
from newsflow_airflow import FETCH_POOL, NEWS, default_args, mark_run_failed, run_window, task_settings

DOC = """
### news_nightly
Runs the newsflow pipeline once a day at 02:00 UTC for the previous day's data interval:
sync `config/feeds.yaml` into `feeds`, poll the due feeds, fetch new pages in batches (one mapped
task per batch, in the `newsflow_fetch` pool: fetch, extract, classify), then link syndicated copies
over the archive window and extract events. Counts per stage and outcome land in `pipeline_runs`;
when it finishes it updates the Asset `newsflow_news` (which schedules `news_brief`).

**Kinds of run.** Scheduled: the data interval (02:00 to 02:00 UTC). Manual without a logical date
(`airflow dags trigger news_nightly`, the UI's Trigger, REST with `"logical_date": null`): the 24
hours before the run's `run_after`; feed entries published up to `run_after` are taken. Cleared or
retried: the same window again; loads are idempotent.

**Failures go red.** A task whose whole unit of work failed for a transient reason (every due feed
unreachable, every page of a batch unreachable, the database gone) raises, and Airflow retries it
with exponential backoff; single items that fail are counted skips. When retries run out, the DAG
run is `failed` and so is its `pipeline_runs` row.

**Database**: the `newsflow_db` Airflow connection, else `$DATABASE_URL`.
**Re-running a day** loads nothing twice: every load is keyed by normalized URL or content hash.
"""

DEFAULT_ARGS = default_args(retries=3, retry_delay=timedelta(minutes=2), max_retry_delay=timedelta(minutes=30))


@dag(
    dag_id="news_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=mark_run_failed,
    tags=["newsflow", "ingest", "nightly"],
    doc_md=DOC,
)
def news_nightly() -> None:
    @task(multiple_outputs=False)
    def begin() -> int:
        from pipeline.jobs.nightly import begin_run

        ctx = get_current_context()
        start, end = run_window(ctx)
        return begin_run(task_settings(), "nightly", run_key=ctx["dag_run"].run_id, window_start=start, window_end=end)

    @task(multiple_outputs=False, pool=FETCH_POOL)
    def poll(nf_run: int) -> dict[str, int]:
        from pipeline.jobs.nightly import poll as poll_feeds

        _, end = run_window(get_current_context())
        return poll_feeds(task_settings(), nf_run, now=end, window_end=end)

    @task(multiple_outputs=False)
    def plan(nf_run: int, polled: dict[str, int]) -> list[list[int]]:
        from pipeline.jobs.nightly import plan_batches

        return plan_batches(task_settings())

    @task(multiple_outputs=False, pool=FETCH_POOL, max_active_tis_per_dag=2)
    def process(nf_run: int, batch: list[int]) -> list[int]:
        from pipeline.jobs.nightly import process_batch

        return process_batch(task_settings(), nf_run, batch)

    @task(multiple_outputs=False, trigger_rule="none_failed")  # also when there was no batch to process
    def link(nf_run: int, article_ids: list[list[int]]) -> dict[str, int]:
        from pipeline.jobs.nightly import link_and_find_events

        ids = [i for batch in (article_ids or []) for i in batch]
        return link_and_find_events(task_settings(), nf_run, ids)

    @task(multiple_outputs=False, trigger_rule="none_failed", outlets=[NEWS])
    def finish(nf_run: int, linked: dict[str, int]) -> dict[str, dict[str, int]]:
        from pipeline.jobs.nightly import end_run

        return end_run(task_settings(), nf_run).counts

    nf_run = begin()
    batches = plan(nf_run, poll(nf_run))
    article_ids = process.partial(nf_run=nf_run).expand(batch=batches)
    finish(nf_run, link(nf_run, article_ids))


news_nightly()
