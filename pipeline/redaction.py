"""Hiding secrets in text: every password of a PostgreSQL conninfo, in each of its forms.

Named errors (`pipeline.errors.NewsflowError`) pass their message through `redact`, and the CLI's
log handler does the same for every log line, so a password given in DATABASE_URL never reaches a
terminal, a log file or a run record.
"""

from __future__ import annotations

import logging
import re

# postgresql://user:PASSWORD@host, ?password=PASSWORD / &password=PASSWORD, and key=value
# `password=PASSWORD` or `password='PASS WORD'` (single quotes, backslash escapes).
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@\s]*@")
_PARAM_PASSWORD = re.compile(r"([?&;]password=)[^&#\s]*", re.I)
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'&]+)", re.I)


def redact(text: str) -> str:
    """The text (a URL, a conninfo string, a message that quotes one) with every password hidden."""
    text = _URL_PASSWORD.sub(r"\1:***@", text)
    text = _PARAM_PASSWORD.sub(r"\1***", text)
    return _KV_PASSWORD.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record's formatted message (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = redact(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True
