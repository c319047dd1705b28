"""The embedded PostgreSQL used when no DATABASE_URL is given (the `pgserver` package).

The server keeps running after the command that started it, so that the next command (or
`psql "$(newsflow db url)"`) finds it; `newsflow db stop` stops it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from pipeline.errors import DatabaseError

log = logging.getLogger(__name__)


def start_embedded(pgdata: Path) -> str:
    """Start (or reuse) the embedded server in `pgdata` and return a connection URL."""
    # pgserver keeps a lock file in the user's runtime dir and falls back to /tmp when
    # XDG_RUNTIME_DIR is unset (as under cron or Airflow): expected, not worth a warning.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # pgserver raises plain exceptions from initdb/pg_ctl
        raise DatabaseError(f"could not start the embedded PostgreSQL in {pgdata}: {exc}") from exc
    return str(server.get_uri("postgres"))


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server if one runs in `pgdata`. Returns whether one was running."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    if not (pgdata / "postmaster.pid").exists():
        return False
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        server.cleanup()
    except Exception as exc:  # pgserver raises plain exceptions from pg_ctl
        raise DatabaseError(f"could not stop the embedded PostgreSQL in {pgdata}: {exc}") from exc
    return not (pgdata / "postmaster.pid").exists()
