"""news_backfill: one UTC day of archive per run, so that `airflow backfill create` fills a range.

Each task calls the library (`pipeline.jobs`); XCom carries only ids and counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task
from newsflow_airflow import FETCH_POOL, NEWS, default_args, mark_run_failed, run_window, task_settings

DOC = """
### news_backfill
Loads the archive of **one UTC day** per run (the run's data interval, 00:00 to 00:00 UTC; its
logical date is that day) from the configured sources, then extracts, classifies, links syndicated
copies and finds events, like `news_nightly`. Fill a range with

    airflow backfill create --dag-id news_backfill --from-date 2024-01-01 --to-date 2024-01-31 --max-active-runs 1

which loads **every day from `--from-date` to `--to-date`, both included** (31 runs here). The DAG
must be unpaused (backfill runs stay `queued` while it is paused). Days that already have a run are
skipped; `--reprocess-behavior completed` runs them again (nothing is loaded twice).
A manual run loads the complete UTC day before it: `airflow dags test news_backfill 2024-03-06` and a
trigger with logical date 2024-03-06 load 2024-03-05, a trigger without a logical date the day before
its `run_after`.

**Sources**: the `sources` param (a list of `KIND:LOCATION`: `warc:/data/cc-news/`,
`sitemap:https://outlet.example/news-sitemap.xml`, `html:/data/saved/`, `urls:/data/urls.txt`),
else the Airflow Variable `newsflow_backfill_sources` (JSON list), else `$NEWSFLOW_BACKFILL_SOURCES`
(comma-separated). When none of them names a source, the run **fails** at once (no retries) and says so.
`newsflow gaps --from ... --to ...` finds the days worth backfilling.

**Re-running a day loads nothing twice**: raw pages are keyed by normalized URL, articles by URL and
content hash; pages already made into articles are not processed again.
**Politeness**: `load` runs in the `newsflow_fetch` pool, so however many backfill runs are active
at once, at most that pool's slots fetch together.
"""

DEFAULT_ARGS = default_args(retries=3, retry_delay=timedelta(minutes=5), max_retry_delay=timedelta(hours=1))
NO_SOURCE = (
    "news_backfill: no backfill source: pass the `sources` param (a list of KIND:LOCATION), set the "
    "Airflow Variable newsflow_backfill_sources (a JSON list) or $NEWSFLOW_BACKFILL_SOURCES (comma-separated)"
)


def _sources(params: dict) -> list[str]:  # type: ignore[type-arg]
    """The param, else the Variable, else the environment; read at run time only. None: ConfigError."""
    import json
    import os

    from airflow.sdk import Variable

    from pipeline.errors import ConfigError

    if params.get("sources"):
        return [str(s) for s in params["sources"]]
    configured = Variable.get("newsflow_backfill_sources", default=None)
    if configured:
        try:
            listed = json.loads(configured)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"Variable newsflow_backfill_sources is not a JSON list: {exc}") from exc
        if not isinstance(listed, list):
            raise ConfigError("Variable newsflow_backfill_sources is not a JSON list")
        if listed:
            return [str(s) for s in listed]
    found = [s.strip() for s in os.environ.get("NEWSFLOW_BACKFILL_SOURCES", "").split(",") if s.strip()]
    if not found:
        raise ConfigError(NO_SOURCE)
    return found


@dag(
    dag_id="news_backfill",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2015, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=mark_run_failed,
    params={"sources": Param([], type="array", description="KIND:LOCATION backfill sources")},
    tags=["newsflow", "ingest", "backfill"],
    doc_md=DOC,
)
def news_backfill() -> None:
    @task(multiple_outputs=False)
    def begin() -> int:
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.db import connection
        from pipeline.errors import ConfigError
        from pipeline.runs import start_run

        ctx = get_current_context()
        try:
            _sources(ctx["params"])  # fail here, before anything runs, when no source is configured
        except ConfigError as exc:  # a retry cannot fix the configuration: fail at once
            raise AirflowFailException(str(exc)) from exc
        start, end = _day(ctx)
        with connection(task_settings()) as conn:
            return start_run(conn, "backfill", run_key=ctx["dag_run"].run_id, window_start=start, window_end=end)

    @task(multiple_outputs=False, pool=FETCH_POOL)
    def load(nf_run: int) -> dict[str, int]:
        from pipeline.db import connection
        from pipeline.jobs.backfill import backfill
        from pipeline.runs import merge_counts, record_stage

        ctx = get_current_context()
        day = _day(ctx)[0].date()
        settings = task_settings()
        loaded: dict[str, int] = {}
        with connection(settings) as conn:
            for source in _sources(ctx["params"]):
                counts = backfill(conn, settings, source, date_from=day, date_to=day, run_id=nf_run)
                record_stage(conn, nf_run, "backfill", counts, 0.0)
                conn.commit()
                loaded = merge_counts(loaded, counts)
        return loaded

    @task(multiple_outputs=False)
    def link(nf_run: int, loaded: dict[str, int]) -> dict[str, int]:
        from pipeline.jobs.nightly import link_and_find_events

        return link_and_find_events(task_settings(), nf_run)

    @task(multiple_outputs=False, outlets=[NEWS])
    def finish(nf_run: int, linked: dict[str, int]) -> dict[str, dict[str, int]]:
        from pipeline.jobs.nightly import end_run

        # Reached only when every task upstream succeeded: after a clear, this replaces `failed`.
        return end_run(task_settings(), nf_run, supersede_failed=True).counts

    nf_run = begin()
    finish(nf_run, link(nf_run, load(nf_run)))


def _day(context: dict) -> tuple[datetime, datetime]:  # type: ignore[type-arg]
    """The UTC day this run loads: its data interval, or for a manual run the day before `run_after`."""
    start, end = run_window(context)
    if context.get("data_interval_start") is None:
        end = end.replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - timedelta(days=1)
    return start, end


news_backfill()
