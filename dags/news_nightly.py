"""news_nightly: yesterday's news, from the feeds to PostgreSQL.

Each task calls one function of `pipeline.jobs`; every stage takes its work from PostgreSQL, so
tasks pass only the run id and counts (XCom), and parallel tasks never take the same work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task
from newsflow_airflow import FETCH_POOL, NEWS, default_args, mark_run_failed, run_window, task_settings

DOC = """
### news_nightly
Runs the newsflow pipeline once a day at 02:00 UTC for the previous day's data interval:
`begin` (sync `config/feeds.yaml` into `feeds`, open a run) → `poll` the due feeds → `fetch` (mapped
over two worker slots, in the `newsflow_fetch` pool; each claims whole hosts in PostgreSQL, so two
never fetch from one host) → `process` (mapped: extraction, then classification, of what is pending)
→ `link` (syndication, then events) → `finish`. Counts per stage and outcome land in
`pipeline_runs`; when it finishes it updates the Asset `newsflow_news` (which schedules `news_brief`).

**Kinds of run.** Scheduled: the data interval (02:00 to 02:00 UTC). Manual without a logical date
(`airflow dags trigger news_nightly`, the UI's Trigger, REST with `"logical_date": null`): the 24
hours before the run's `run_after`; feed entries published up to `run_after` are taken. Cleared or
retried: the same window again; what is pending in the database is taken, and loads are idempotent.

**Failures go red.** A task whose whole unit of work failed for a transient reason (every due feed
unreachable, every page tried unreachable, the database gone) raises, and Airflow retries it with
exponential backoff; single items that fail are counted skips. When retries run out, the DAG run is
`failed` and so is its `pipeline_runs` row (`on_failure_callback`). An outage leaves the feeds due
and the pages their attempts, so a retry or a clear of the same run takes them again; `finish` after
a successful clear marks the row `success`.

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

    @task(multiple_outputs=False, pool=FETCH_POOL, max_active_tis_per_dag=2)
    def fetch(nf_run: int, slot: int) -> dict[str, int]:
        from pipeline.jobs.nightly import fetch_pending

        return fetch_pending(task_settings(), nf_run)

    @task(multiple_outputs=False, max_active_tis_per_dag=2)
    def process(nf_run: int, slot: int) -> dict[str, int]:
        from pipeline.jobs.nightly import process_pending

        return process_pending(task_settings(), nf_run)

    @task(multiple_outputs=False)
    def link(nf_run: int) -> dict[str, int]:
        from pipeline.jobs.nightly import link_and_find_events

        return link_and_find_events(task_settings(), nf_run)

    @task(multiple_outputs=False, trigger_rule="none_failed", outlets=[NEWS])
    def finish(nf_run: int) -> dict[str, dict[str, int]]:
        from pipeline.jobs.nightly import end_run

        # Reached only when every task upstream succeeded: after a clear, this replaces `failed`.
        return end_run(task_settings(), nf_run, supersede_failed=True).counts

    nf_run = begin()
    polled = poll(nf_run)
    fetched = fetch.partial(nf_run=nf_run).expand(slot=WORKER_SLOTS)
    processed = process.partial(nf_run=nf_run).expand(slot=WORKER_SLOTS)
    linked = link(nf_run)
    polled >> fetched >> processed >> linked >> finish(nf_run)


news_nightly()
