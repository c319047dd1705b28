"""What newsflow's DAGs share: settings for a task (read at run time, never at parse time), the run's
window, retries, the fetch pool, the news Asset and the callback that marks a failed run."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

if TYPE_CHECKING:
    from pipeline.settings import Settings

CONNECTION_ID = "newsflow_db"

# Every task that talks to outlets' servers runs in this pool, so however many DAG runs (a backfill
# starts several at once) and workers there are, at most `slots` fetching tasks run together.
# Create it once: `airflow pools set newsflow_fetch 2 "newsflow: tasks that fetch from outlets"`.
FETCH_POOL = "newsflow_fetch"

# The news tables (articles and what is derived from them). `news_nightly` and `news_backfill`
# update it when they finish; `news_brief` is scheduled on it.
NEWS = Asset(name="newsflow_news", uri="newsflow://news/articles")

# Base delay of the exponential retry backoff, in seconds, when set: for the end-to-end tests (and
# anyone who wants retries within seconds); read when the DAG file is parsed.
RETRY_DELAY_ENV = "NEWSFLOW_AIRFLOW_RETRY_DELAY"


def task_settings() -> Settings:
    """The environment's settings; the database from the `newsflow_db` connection when it exists,
    else from $DATABASE_URL (else the embedded server)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from pipeline.settings import load_settings

    settings = load_settings()
    try:
        connection = BaseHook.get_connection(CONNECTION_ID)
    except AirflowNotFoundException:
        return settings
    return settings.with_overrides(database_url=connection.get_uri())


def run_window(context: Any) -> tuple[datetime, datetime]:
    """The run's data interval. A manual run without a logical date (`airflow dags trigger`, REST
    with `"logical_date": null`) has none: it covers the 24 hours before its `run_after`."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None:
        return start, end
    end = context["dag_run"].run_after
    return end - timedelta(days=1), end


def default_args(retries: int, retry_delay: timedelta, max_retry_delay: timedelta) -> dict[str, Any]:
    """Every newsflow task retries with exponential backoff: a first failure (a feed server down,
    the database restarting) does not fail the night."""
    override = os.environ.get(RETRY_DELAY_ENV)
    if override:
        retry_delay = timedelta(seconds=float(override))
        max_retry_delay = retry_delay * 8
    return {
        "owner": "newsflow",
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": max_retry_delay,
    }


def mark_run_failed(context: Any) -> None:
    """DAG `on_failure_callback`: the run's `pipeline_runs` row (keyed by the Airflow run id) is
    marked failed, so the database says what Airflow says."""
    from pipeline.jobs.nightly import fail_run

    fail_run(task_settings(), context["dag_run"].run_id)
