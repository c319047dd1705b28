"""The embedded PostgreSQL used when no DATABASE_URL is given (the `pgserver` package).

The server keeps running after the command that started it, so that the next command (or
`psql "$(newsflow db url)"`) finds it; `newsflow db stop` stops it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.errors import DatabaseError

log = logging.getLogger(__name__)


def start_embedded(pgdata: Path) -> str:
    """Start (or reuse) the embedded server in `pgdata` and return a connection URL."""
    import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # pgserver raises plain exceptions from initdb/pg_ctl
        raise DatabaseError(f"could not start the embedded PostgreSQL in {pgdata}: {exc}") from exc
    return str(server.get_uri("postgres"))


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server if one runs in `pgdata`. Returns whether one was running."""
    import subprocess

    import pgserver

    if not (pgdata / "postmaster.pid").exists():
        return False
    pg_ctl = Path(pgserver.POSTGRES_BIN_PATH) / "pg_ctl"
    cmd = [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "stop"]
    import os

    if os.geteuid() == 0:
        cmd = ["su", "pgserver", "-c", " ".join(cmd)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DatabaseError(f"could not stop the embedded PostgreSQL in {pgdata}: {result.stderr.strip()}")
    return True
