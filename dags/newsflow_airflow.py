"""What newsflow's DAGs share: settings for a task, read at run time (never at parse time)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

if TYPE_CHECKING:
    from pipeline.settings import Settings

CONNECTION_ID = "newsflow_db"

# The news tables as an Airflow Asset: the DAGs that load news (news_nightly, news_backfill) list it
# in their last task's `outlets`; DAGs that read the news (news_brief) are scheduled on it. An event's
# `extra` may carry {"day": "YYYY-MM-DD"}, the day it loaded. The postgres provider wants a URI that
# names database/schema/table: the articles table stands for the news tables it heads.
NEWS_TABLES = Asset(name="news_tables", uri="postgres://newsflow:5432/newsflow/public/articles")


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


def default_args(retries: int, retry_delay: timedelta, max_retry_delay: timedelta) -> dict[str, Any]:
    """Every newsflow task retries with exponential backoff: a first failure (a feed server down,
    the database restarting) does not fail the night."""
    return {
        "owner": "newsflow",
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": max_retry_delay,
    }
