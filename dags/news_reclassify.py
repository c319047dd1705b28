"""news_reclassify: relabel the archive after the taxonomy (config/topics.yaml) or the classifier changed."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task
from newsflow_airflow import default_args, mark_run_failed, task_settings

DOC = """
### news_reclassify
Trigger it by hand after editing the taxonomy. It finds the articles whose stored labels came from
another taxonomy hash or classifier version, cuts them into id ranges (at most 256 mapped tasks),
and relabels each range in transactions of 500 articles. Idempotent: a second run finds nothing
stale and changes nothing; an interrupted run resumes where it stopped. Counts (including
`changed` labels) land in `pipeline_runs` under kind `reclassify`.
"""

DEFAULT_ARGS = default_args(retries=2, retry_delay=timedelta(minutes=1), max_retry_delay=timedelta(minutes=10))


@dag(
    dag_id="news_reclassify",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=mark_run_failed,
    tags=["newsflow", "classification", "maintenance"],
    doc_md=DOC,
)
def news_reclassify() -> None:
    @task(multiple_outputs=False)
    def begin() -> int:
        from pipeline.db import connection
        from pipeline.runs import start_run

        with connection(task_settings()) as conn:
            return start_run(conn, "reclassify", run_key=get_current_context()["dag_run"].run_id)

    @task(multiple_outputs=False)
    def plan(nf_run: int) -> list[list[int]]:
        from pipeline.jobs.maintenance import plan_reclassify

        return plan_reclassify(task_settings())

    @task(multiple_outputs=False, max_active_tis_per_dag=2)
    def relabel(nf_run: int, id_range: list[int]) -> dict[str, int]:
        from pipeline.jobs.maintenance import reclassify_range

        return reclassify_range(task_settings(), nf_run, id_range[0], id_range[1])

    @task(multiple_outputs=False, trigger_rule="none_failed")
    def finish(nf_run: int, done: list[dict[str, int]]) -> dict[str, dict[str, int]]:
        from pipeline.jobs.maintenance import finish_reclassify
        from pipeline.jobs.nightly import end_run

        finish_reclassify(task_settings(), nf_run)
        return end_run(task_settings(), nf_run).counts

    nf_run = begin()
    done = relabel.partial(nf_run=nf_run).expand(id_range=plan(nf_run))
    finish(nf_run, done)


news_reclassify()
