"""Named failures. Raised inside the library, turned into messages once at the boundary (CLI, task).

- `Skip` and its reasons: what can never succeed for one item (counted, the run goes on).
- `TransientError`: what may succeed later (raised so Airflow retries the task).
- `ConfigError`, `DatabaseError`: the run cannot start or continue; say why and where.
"""

from typing import Any

from pipeline.redaction import redact


class NewsflowError(Exception):
    """Base of every error newsflow raises on purpose. Its message never shows a password."""

    def __str__(self) -> str:
        return redact(super().__str__())


class ConfigError(NewsflowError):
    """A settings, feeds or taxonomy file is wrong; the message names the place."""


class DatabaseError(NewsflowError):
    """PostgreSQL cannot be reached or refused the work."""


class TransientError(NewsflowError):
    """May succeed on a later try (network down, database restarting)."""


class ItemOutcome(NewsflowError):
    """What became of one item that makes nothing: a `reason` (the counted outcome) and a detail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:  # pickled whole (results from extraction workers)
        return (type(self), (self.reason, self.detail))


class ItemFailed(ItemOutcome):
    """An unexpected error in one item (a bug, or input no rule foresaw): counted as `failed:<reason>`,
    offered again to later runs up to the attempt limit, then parked with its error. It never stops
    the batch the item came in."""


class Skip(ItemOutcome):  # noqa: N818 - a skip is an outcome, not an error
    """One item cannot be processed; `reason` is the counted outcome."""
